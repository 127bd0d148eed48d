/**
 * Cluster: how a namespace's load spreads over the primaries of a Redis Cluster, checked against
 * the capacity model of BENCHMARKS.md. On a 3-primary loopback cluster of the scenario's own,
 * one-activity workflows run with a worker in this process; each primary's `INFO commandstats` and
 * `INFO cpu` deltas are compared with what the model predicts from the key layout alone:
 *
 * - every transition (`FCALL`) of a run lands on the primary that owns its shard's hash slot, so a
 *   primary's share of the transitions is its share of the workflows (their ids hashed to shards,
 *   the shards' hash tags to slots);
 * - every BullMQ job operation (`EVALSHA`) of a task queue lands on the one primary that owns the
 *   queue's hash tag, however many primaries there are (the hot task queue), and those of the
 *   namespace's wake-up jobs on the primary of the timers queue's hash tag.
 *
 * The counts do not depend on wall-clock time, so the tiny size checks them in CI
 * (bench.spec.ts); the CPU figures feed the model's per-transition costs.
 */
import { performance } from 'node:perf_hooks';
import { Client, Worker } from '@durabull/sdk';
import { Redis } from 'ioredis';
import { TUNING } from '../config';
import type { SizeProfile } from '../config';
import type { BenchContext } from '../context';
import { scenarioNames } from '../context';
import { LocalCluster } from '../local-cluster';
import { cpuMicros } from '../measure';
import { commandStats, redisCpuMicros } from '../redis-stats';
import type { CommandStats } from '../redis-stats';
import type { ResultRow, ScenarioResult } from '../report';
import { median } from '../stats';
import { BENCH_WORKFLOWS, BenchActivities, OneActivityWorkflow } from '../workloads';

/** What one primary did during the measured batches, and what the model predicted for it. */
export interface ClusterNodeLoad {
  port: number;
  /** The namespace's shards whose hash slot this primary owns. */
  shards: number[];
  /** It owns the task queue's hash tag (every job of the workflows' queues). */
  taskQueue: boolean;
  /** It owns the wake-up (timers) queue's hash tag. */
  timers: boolean;
  /** Measured workflows whose run lives here (by shard). */
  workflows: number;
  /** `FCALL` calls (transitions) measured, and the model's prediction: the workflows' share of all of them. */
  transitions: number;
  predictedTransitions: number;
  /** `EVALSHA` calls (BullMQ job operations) measured. */
  jobScripts: number;
  /** Microseconds inside `FCALL` and `EVALSHA` (commandstats). */
  transitionUsec: number;
  jobScriptUsec: number;
  /** Redis CPU (user + system) of this primary, microseconds. */
  cpuMicros: number;
}

/** Runs the cluster scenario. */
export async function cluster(ctx: BenchContext, profile: SizeProfile['cluster']): Promise<ScenarioResult> {
  const began = performance.now();
  const local = await LocalCluster.start(3);
  const names = scenarioNames();
  const nodes = local.ports.map((port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 3 }));
  let client: Client | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    client = await Client.connect({ redis: { cluster: local.nodes }, namespace: names.namespace });
    worker = new Worker(client, { taskQueue: names.taskQueue, workflows: BENCH_WORKFLOWS, activities: [new BenchActivities()], ...TUNING });
    running = worker.run();
    const started = client;

    // The key layout: which primary owns each shard's slot and each queue's.
    const owner = await slotOwners(nodes[0]!, local.ports);
    const slotOf = async (tag: string) => Number(await nodes[0]!.call('CLUSTER', 'KEYSLOT', tag));
    const { keys } = client.engine;
    const shardPort = await Promise.all(Array.from({ length: keys.shardCount }, async (_, s) => owner(await slotOf(keys.shard(s).tag))));
    const queuePort = owner(await slotOf(keys.taskQueuePrefix(names.taskQueue)));
    const timersPort = owner(await slotOf(keys.timerPrefix));

    const batch = (tag: string, count: number) =>
      Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const id = `${tag}-${i}`;
          const result = await started.executeWorkflow(OneActivityWorkflow, id, { id, taskQueue: names.taskQueue });
          if (result !== id) throw new Error(`cluster ${id} returned ${JSON.stringify(result)}`);
          return id;
        }),
      );
    await batch('warm', profile.warmup);

    const snapshot = () => Promise.all(nodes.map(async (node) => ({ stats: await commandStats(node), cpu: await redisCpuMicros(node) })));
    const before = await snapshot();
    const nodeCpuBefore = cpuMicros();
    const rates: number[] = [];
    const ids: string[] = [];
    for (let rep = 0; rep < profile.reps; rep++) {
      const start = performance.now();
      ids.push(...(await batch(`r${rep}`, profile.workflows)));
      rates.push(profile.workflows / ((performance.now() - start) / 1000));
      ctx.log(`  cluster rep ${rep + 1}/${profile.reps}: ${rates.at(-1)!.toFixed(0)} wf/s`);
    }
    const nodeCpu = (cpuMicros() - nodeCpuBefore) / ids.length;
    const after = await snapshot();

    const delta = (i: number, field: keyof CommandStats, name: string) => (after[i]!.stats[field][name] ?? 0) - (before[i]!.stats[field][name] ?? 0);
    const totalTransitions = local.ports.reduce((sum, _, i) => sum + delta(i, 'calls', 'fcall'), 0);
    const loads: ClusterNodeLoad[] = local.ports.map((port, i) => {
      const workflows = ids.filter((id) => shardPort[keys.shardOf(id)] === port).length;
      return {
        port,
        shards: shardPort.flatMap((p, shard) => (p === port ? [shard] : [])),
        taskQueue: port === queuePort,
        timers: port === timersPort,
        workflows,
        transitions: delta(i, 'calls', 'fcall'),
        predictedTransitions: (totalTransitions * workflows) / ids.length,
        jobScripts: delta(i, 'calls', 'evalsha'),
        transitionUsec: delta(i, 'usec', 'fcall'),
        jobScriptUsec: delta(i, 'usec', 'evalsha'),
        cpuMicros: after[i]!.cpu - before[i]!.cpu,
      };
    });

    const sum = (pick: (load: ClusterNodeLoad) => number) => loads.reduce((total, load) => total + pick(load), 0);
    const spread = loads.filter((load) => load.predictedTransitions > 0).map((load) => load.transitions / load.predictedTransitions);
    const jobScripts = sum((load) => load.jobScripts);
    const queueLoad = loads.find((load) => load.taskQueue)!;
    const redisCpu = sum((load) => load.cpuMicros);
    const rows: ResultRow[] = [
      { key: 'cluster.throughput', metric: 'throughput, 3 primaries, worker in process (median)', unit: 'wf/s', durabull: median(rates) },
      { key: 'cluster.transitions', metric: 'transitions (FCALL) per workflow', unit: 'cmds', durabull: totalTransitions / ids.length },
      { key: 'cluster.transitionUsec', metric: 'Redis time per transition (commandstats)', unit: 'µs', durabull: sum((l) => l.transitionUsec) / totalTransitions },
      { key: 'cluster.jobScripts', metric: 'BullMQ job scripts (EVALSHA) per workflow', unit: 'cmds', durabull: jobScripts / ids.length },
      { key: 'cluster.jobScriptUsec', metric: 'Redis time per job script (commandstats)', unit: 'µs', durabull: sum((l) => l.jobScriptUsec) / Math.max(1, jobScripts) },
      { key: 'cluster.spreadMin', metric: 'transitions per primary / model, lowest', unit: 'ratio', durabull: Math.min(...spread) },
      { key: 'cluster.spreadMax', metric: 'transitions per primary / model, highest', unit: 'ratio', durabull: Math.max(...spread) },
      { key: 'cluster.queueShare', metric: "share of job scripts on the task queue's primary", unit: 'ratio', durabull: queueLoad.jobScripts / Math.max(1, jobScripts) },
      {
        key: 'cluster.queuesShare',
        metric: "share of job scripts on the task queue's and the wake-up queue's primaries (model: all)",
        unit: 'ratio',
        durabull: sum((l) => (l.taskQueue || l.timers ? l.jobScripts : 0)) / Math.max(1, jobScripts),
      },
      { key: 'cluster.redisCpu', metric: 'Redis CPU per workflow, all primaries', unit: 'µs', durabull: redisCpu / ids.length },
      { key: 'cluster.queueCpuShare', metric: "share of Redis CPU on the task queue's primary", unit: 'ratio', durabull: queueLoad.cpuMicros / redisCpu },
      { key: 'cluster.nodeCpu', metric: 'Node CPU per workflow (client + worker)', unit: 'µs', durabull: nodeCpu },
    ];
    return {
      scenario: 'cluster',
      title: 'One-activity workflows on a 3-primary Redis Cluster: load per primary against the capacity model',
      parameters: {
        workflows: profile.workflows,
        reps: profile.reps,
        warmup: profile.warmup,
        primaries: local.ports.length,
        shards: keys.shardCount,
        workers: 'in-process',
        redis: 'a 3-primary Redis Cluster on loopback, no persistence',
      },
      rows,
      details: { nodes: loads, rates },
      durationMs: performance.now() - began,
    };
  } finally {
    await worker?.shutdown();
    await running;
    await client?.engine.purge().catch(() => undefined);
    await client?.close();
    for (const node of nodes) node.disconnect();
    await local.stop();
  }
}

/** Which primary (port) owns a slot, from `CLUSTER SLOTS`. */
async function slotOwners(node: Redis, ports: number[]): Promise<(slot: number) => number> {
  const ranges = (await node.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
  return (slot) => {
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`bench: no primary of ${ports.join(', ')} owns slot ${slot}`);
    return Number(range[2][1]);
  };
}
