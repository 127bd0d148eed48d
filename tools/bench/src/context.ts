import { randomBytes } from 'node:crypto';
import { Client, Worker } from '@durabull/sdk';
import type { Redis } from 'ioredis';
import { TUNING } from './config';
import type { WorkerHostPool } from './hosts';
import { RawChainClient, RawChainWorkers } from './raw-chain';
import { deleteKeys } from './redis-stats';
import { BENCH_WORKFLOWS, BenchActivities } from './workloads';
import type { StepRecorder } from './workloads';

/** What every scenario gets from the runner. */
export interface BenchContext {
  redisUrl: string;
  /** A connection for INFO, SCAN and cleanup (never used by the measured systems). */
  redis: Redis;
  /** Worker processes, shared by the scenarios of a run. */
  hosts: WorkerHostPool;
  /** Progress output (stderr in the CLI, silent in the spec). */
  log(message: string): void;
}

/** Where one scenario's Durabull runs and baseline jobs live, fresh for every scenario. */
export interface ScenarioNames {
  /** Durabull namespace `bench-<random>`. */
  namespace: string;
  taskQueue: string;
  /** BullMQ key prefix of the baseline, `benchraw-<random>`. */
  rawPrefix: string;
}

/** A fresh random namespace and baseline prefix, so nothing of an earlier run can interfere. */
export function scenarioNames(): ScenarioNames {
  const id = randomBytes(5).toString('hex');
  return { namespace: `bench-${id}`, taskQueue: 'bench', rawPrefix: `benchraw-${id}` };
}

/** Deletes a scenario's Durabull namespace and baseline keys. Workers must be stopped first. */
export async function cleanUp(ctx: BenchContext, names: ScenarioNames, client: Client): Promise<void> {
  await client.engine.purge();
  await deleteKeys(ctx.redis, `${names.rawPrefix}:*`);
}

/**
 * Durabull and the baseline side by side in this process: a client and a worker for each, on
 * their own namespace and prefix. Used by the scenarios that measure one thing at a time.
 */
export class InProcessSystems {
  private running?: Promise<void>;

  private constructor(
    private readonly ctx: BenchContext,
    readonly names: ScenarioNames,
    readonly client: Client,
    readonly worker: Worker,
    readonly rawWorkers: RawChainWorkers,
    readonly raw: RawChainClient,
  ) {}

  /** Starts both systems' workers; `recorder` notes when sequence steps run. */
  static async open(ctx: BenchContext, recorder?: StepRecorder): Promise<InProcessSystems> {
    const names = scenarioNames();
    const client = await Client.connect({ redis: ctx.redisUrl, namespace: names.namespace });
    const worker = new Worker(client, {
      taskQueue: names.taskQueue,
      workflows: BENCH_WORKFLOWS,
      activities: [new BenchActivities(recorder)],
      ...TUNING,
    });
    const rawWorkers = new RawChainWorkers({
      redisUrl: ctx.redisUrl,
      prefix: names.rawPrefix,
      workflowConcurrency: TUNING.maxConcurrentWorkflowTaskExecutions,
      activityConcurrency: TUNING.maxConcurrentActivityTaskExecutions,
      recorder,
    });
    const raw = await RawChainClient.open(ctx.redisUrl, names.rawPrefix);
    const systems = new InProcessSystems(ctx, names, client, worker, rawWorkers, raw);
    systems.running = worker.run();
    return systems;
  }

  /** Stops the workers, deletes both systems' keys and closes the connections. */
  async close(): Promise<void> {
    await this.worker.shutdown();
    await this.running;
    await this.rawWorkers.close();
    await this.raw.close();
    await cleanUp(this.ctx, this.names, this.client);
    await this.client.close();
  }
}
