/**
 * Open workflows: N workflows parked on a durable timer (`workflow.sleep`), run by one worker
 * process. Measures, per parked workflow, the growth of Redis `used_memory` and of the worker's
 * heap and RSS (after a full GC), from just before the first start to when every run has written
 * its TimerStarted. For context, the Redis memory of N delayed BullMQ jobs (what a parked chain
 * would cost without Durabull). Then the worker is stopped and the namespace purged.
 */
import { performance } from 'node:perf_hooks';
import { Client } from '@durabull/sdk';
import type { WorkflowHandle } from '@durabull/sdk';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { TUNING } from '../config';
import type { SizeProfile } from '../config';
import { cleanUp, scenarioNames } from '../context';
import type { BenchContext } from '../context';
import { deleteKeys, usedMemory } from '../redis-stats';
import { comparison } from '../report';
import type { ScenarioResult } from '../report';
import { OneActivityWorkflow, SleeperWorkflow } from '../workloads';

/** Workflow starts (and describe calls) in flight at once. */
const PARALLEL = 200;
/** A run is parked once its history reaches TimerStarted: started, task scheduled/started/completed, timer. */
const PARKED_HISTORY_LENGTH = 5;
const KIB = 1024;

/** Runs `work` on every item, at most `parallel` at a time. */
async function forEachLimited<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Runs the open-workflows scenario. */
export async function openWorkflows(ctx: BenchContext, profile: SizeProfile['openWorkflows']): Promise<ScenarioResult> {
  const began = performance.now();
  const n = profile.workflows;
  const names = scenarioNames();
  const [host] = await ctx.hosts.get(1);
  const client = await Client.connect({ redis: ctx.redisUrl, namespace: names.namespace });
  let durabull: { redisBytes: number; heapBytes: number; rssBytes: number; parkMs: number };
  try {
    await host!.start({ redisUrl: ctx.redisUrl, durabull: { namespace: names.namespace, taskQueue: names.taskQueue, tuning: TUNING } });
    // Warm-up: connections, JIT and the worker's caches, before the memory baseline.
    for (let i = 0; i < profile.warmup; i++) {
      await client.executeWorkflow(OneActivityWorkflow, 'warm', { id: `warm-${i}`, taskQueue: names.taskQueue });
    }
    const heapBefore = await host!.memory();
    const redisBefore = await usedMemory(ctx.redis);
    const start = performance.now();
    const handles: WorkflowHandle[] = [];
    await forEachLimited(
      Array.from({ length: n }, (_, i) => `open-${i}`),
      PARALLEL,
      async (id) => void handles.push(await client.startWorkflow(SleeperWorkflow, profile.sleep, { id, taskQueue: names.taskQueue })),
    );
    // Poll the runs still not parked until none is left (the timers fire long after).
    let waiting = handles;
    const deadline = Date.now() + 120_000;
    while (waiting.length > 0) {
      if (Date.now() > deadline) throw new Error(`${waiting.length} of ${n} workflows did not park within 120 s`);
      const still: WorkflowHandle[] = [];
      await forEachLimited(waiting, PARALLEL, async (handle) => {
        if ((await handle.describe()).historyLength < PARKED_HISTORY_LENGTH) still.push(handle);
      });
      waiting = still;
      if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const parkMs = performance.now() - start;
    const heapAfter = await host!.memory();
    const redisAfter = await usedMemory(ctx.redis);
    durabull = {
      redisBytes: redisAfter - redisBefore,
      heapBytes: heapAfter.heapUsed - heapBefore.heapUsed,
      rssBytes: heapAfter.rss - heapBefore.rss,
      parkMs,
    };
    ctx.log(`  open workflows: ${n} parked in ${(parkMs / 1000).toFixed(1)} s`);
  } finally {
    await host!.stop();
    await cleanUp(ctx, names, client);
    await client.close();
  }

  const baselineBytes = await delayedJobsMemory(ctx, names.rawPrefix, n);
  const perWorkflow = (bytes: number) => bytes / n / KIB;
  const cached = Math.min(n, TUNING.maxCachedWorkflows);
  const redisKiB = perWorkflow(durabull.redisBytes);
  const rawKiB = perWorkflow(baselineBytes);
  return {
    scenario: 'open-workflows',
    title: `${n} workflows parked on a ${profile.sleep} timer`,
    parameters: { workflows: n, sleep: profile.sleep, maxCachedWorkflows: TUNING.maxCachedWorkflows, workers: '1 process' },
    rows: [
      comparison('open.redisPerWorkflow', 'Redis used_memory per parked workflow', 'KiB', redisKiB, rawKiB),
      { key: 'open.heapPerWorkflow', metric: 'worker heap per parked workflow', unit: 'KiB', durabull: perWorkflow(durabull.heapBytes) },
      { key: 'open.rssPerWorkflow', metric: 'worker RSS per parked workflow', unit: 'KiB', durabull: perWorkflow(durabull.rssBytes) },
      {
        key: 'open.heapPerCachedWorkflow',
        metric: `worker heap per cached workflow (${cached} cached)`,
        unit: 'KiB',
        durabull: durabull.heapBytes / cached / KIB,
      },
      { key: 'open.parkRate', metric: 'start-to-parked rate', unit: 'wf/s', durabull: n / (durabull.parkMs / 1000) },
    ],
    details: { durabull, baseline: { redisBytes: baselineBytes, what: `${n} BullMQ jobs delayed by ${profile.sleep}` } },
    durationMs: performance.now() - began,
  };
}

/** Redis memory taken by `n` delayed BullMQ jobs with Durabull's job options. */
async function delayedJobsMemory(ctx: BenchContext, prefix: string, n: number): Promise<number> {
  const connection = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('parked', { connection, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  try {
    await queue.waitUntilReady();
    const before = await usedMemory(ctx.redis);
    for (let i = 0; i < n; i += 1000) {
      const jobs = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
        name: 'parked',
        data: { kind: 'end', id: `open-${i + j}`, result: null },
        opts: { jobId: `open-${i + j}.end`, delay: 60_000 },
      }));
      await queue.addBulk(jobs);
    }
    return (await usedMemory(ctx.redis)) - before;
  } finally {
    await queue.close();
    connection.disconnect();
    await deleteKeys(ctx.redis, `${prefix}:*`);
  }
}
