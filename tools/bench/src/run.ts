import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { installCommandCounter } from './client-commands';
import { SCENARIO_NAMES, TUNING, sizeProfile } from './config';
import type { ScenarioName, Size, SizeProfile } from './config';
import type { BenchContext } from './context';
import { DurableRedis } from './durable-redis';
import type { DurabilityPolicy } from './durable-redis';
import { WorkerHostPool } from './hosts';
import { machineInfo } from './machine';
import { evaluateTargets } from './report';
import type { BenchReport, ScenarioResult } from './report';
import { cluster } from './scenarios/cluster';
import { fanout } from './scenarios/fanout';
import { latency } from './scenarios/latency';
import { longHistory } from './scenarios/long-history';
import { forever } from './scenarios/forever';
import { openWorkflows } from './scenarios/open-workflows';
import { replication } from './scenarios/replication';
import { throughput } from './scenarios/throughput';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Scenarios to run (in the canonical order whatever the order given). @default all */
  scenarios?: readonly ScenarioName[];
  /** @default 'full' */
  size?: Size;
  /** Repetitions of every repeated scenario, replacing the size's defaults. */
  reps?: number;
  /** Where to write the JSON report; nothing is written when absent. */
  out?: string;
  /** @default process.env.REDIS_URL, else redis://127.0.0.1:6379 (as the SDK and tests) */
  redisUrl?: string;
  /**
   * Run every scenario against a throwaway Redis of the benchmark's own with AOF and this fsync
   * policy (instead of `redisUrl`), Durabull and the raw chain alike: the cost of durability.
   * The replication scenario keeps its own primary and replica. @default the Redis of `redisUrl`
   */
  durability?: DurabilityPolicy;
  /** Progress lines. @default silent */
  log?: (message: string) => void;
  /** The command line recorded in the report. */
  command?: string;
}

const SCENARIOS: Record<ScenarioName, (ctx: BenchContext, profile: SizeProfile) => Promise<ScenarioResult>> = {
  latency: (ctx, profile) => latency(ctx, profile.latency),
  throughput: (ctx, profile) => throughput(ctx, profile.throughput),
  fanout: (ctx, profile) => fanout(ctx, profile.fanout),
  'long-history': (ctx, profile) => longHistory(ctx, profile.longHistory),
  'open-workflows': (ctx, profile) => openWorkflows(ctx, profile.openWorkflows),
  forever: (ctx, profile) => forever(ctx, profile.forever),
  replication: (ctx, profile) => replication(ctx, profile.replication),
  cluster: (ctx, profile) => cluster(ctx, profile.cluster),
};

/** The checkout being measured (`git describe --always --dirty`), or undefined outside git. */
function gitCommit(): string | undefined {
  try {
    const cwd = path.resolve(__dirname, '../../..');
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Runs the benchmark: each scenario measures Durabull and its raw-BullMQ baseline on the same
 * Redis in this run, then the targets are checked on their ratios. Returns the report
 * (and writes it to `out` as JSON).
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const size = options.size ?? 'full';
  const wanted = new Set(options.scenarios ?? SCENARIO_NAMES);
  const profile = sizeProfile(size, options.reps);
  const log = options.log ?? (() => undefined);
  const durable = options.durability ? await DurableRedis.start(options.durability) : undefined;
  if (durable) log(`durable mode: a redis-server with appendonly yes, appendfsync ${durable.policy} at ${durable.url}`);
  const redisUrl = durable?.url ?? options.redisUrl ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  installCommandCounter();
  const startedAt = new Date();
  const began = performance.now();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const hosts = new WorkerHostPool();
  const ctx: BenchContext = { redisUrl, redis, hosts, log };
  try {
    const machine = await machineInfo(redis);
    const scenarios: ScenarioResult[] = [];
    for (const name of SCENARIO_NAMES) {
      if (!wanted.has(name)) continue;
      log(`${name} ...`);
      const result = await SCENARIOS[name](ctx, profile);
      log(`${name} done in ${(result.durationMs / 1000).toFixed(1)} s`);
      scenarios.push(result);
    }
    const report: BenchReport = {
      schemaVersion: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: performance.now() - began,
      command: options.command ?? '',
      commit: gitCommit(),
      size,
      reps: options.reps,
      durability: options.durability,
      machine,
      tuning: { ...TUNING },
      scenarios,
      targets: evaluateTargets(scenarios, options.durability),
    };
    if (options.out) {
      mkdirSync(path.dirname(options.out), { recursive: true });
      writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
    }
    return report;
  } finally {
    await hosts.close();
    redis.disconnect();
    await durable?.stop();
  }
}
