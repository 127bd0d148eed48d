/**
 * Forever: one workflow that runs for ever (a loop on a durable timer) and continues as new every
 * `perRun` iterations, run by one worker process, on a namespace with a 1 s retention (closed
 * runs of the chain are deleted soon after they close). Measures the Redis memory of the
 * namespace's keys (MEMORY USAGE of each, so other users of the Redis do not count) and the
 * worker's heap (after a full GC) at the same moment of two runs: the end of the second run and
 * the end of the last one (the workflow waits for a signal there, and the runs before it have
 * been deleted): a workflow that continues as new should keep both flat however many iterations
 * it has run. BullMQ's event streams grow up to their cap (10,000 entries per queue) meanwhile.
 */
import { performance } from 'node:perf_hooks';
import { Client, EventType } from '@durabull/sdk';
import type { Redis } from 'ioredis';
import { TUNING } from '../config';
import type { SizeProfile } from '../config';
import { cleanUp, scenarioNames } from '../context';
import type { BenchContext } from '../context';
import type { ScenarioResult } from '../report';
import { ForeverWorkflow } from '../workloads';

const KIB = 1024;
/** The namespace's retention for the scenario: closed runs go at once (the minimum, 1 s). */
const RETENTION_MS = 1000;

/** Memory of a namespace's keys: in all, and by kind (the key's first part after its hash tag). */
export interface KeysMemory {
  bytes: number;
  keys: number;
  byKind: Record<string, { bytes: number; keys: number }>;
}

/** Bytes (MEMORY USAGE) and number of the keys matching `pattern`, in all and by kind. */
export async function keysMemory(redis: Redis, pattern: string): Promise<KeysMemory> {
  let cursor = '0';
  const total: KeysMemory = { bytes: 0, keys: 0, byKind: {} };
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      const bytes = Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
      const kind = (key.split('}:')[1] ?? key).split(':')[0]!;
      const entry = (total.byKind[kind] ??= { bytes: 0, keys: 0 });
      entry.bytes += bytes;
      entry.keys++;
      total.bytes += bytes;
      total.keys++;
    }
  } while (cursor !== '0');
  return total;
}

/** Bytes of the run keys (state, history, buffered events, workflow id) of a namespace. */
const runBytes = (memory: KeysMemory) =>
  ['run', 'hist', 'buf', 'wid'].reduce((sum, kind) => sum + (memory.byKind[kind]?.bytes ?? 0), 0);

/** Waits until `check` holds, polling every 20 ms. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`forever: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs the forever scenario. */
export async function forever(ctx: BenchContext, profile: SizeProfile['forever']): Promise<ScenarioResult> {
  const began = performance.now();
  const { iterations, perRun } = profile;
  const names = scenarioNames();
  const [host] = await ctx.hosts.get(1);
  const client = await Client.connect({ redis: ctx.redisUrl, namespace: names.namespace, retention: RETENTION_MS });
  const pattern = client.engine.keys.pattern;
  const id = 'forever';
  try {
    await host!.start({ redisUrl: ctx.redisUrl, durabull: { namespace: names.namespace, taskQueue: names.taskQueue, tuning: TUNING } });
    const handle = await client.startWorkflow<number>('BenchForever', { id, taskQueue: names.taskQueue, args: [0, iterations, perRun] });
    const byId = client.getWorkflowHandle(id);
    const timeout = 60_000 + iterations * 50;
    const runs = Math.ceil(iterations / perRun);
    /** Waits until the id's current run has run `count` iterations and waits for `proceed`; then for the runs before it to be deleted. */
    const waitingAfter = async (what: string, count: number) => {
      await until(what, timeout, async () => {
        const history = await byId.fetchHistory();
        const fired = history.filter((event) => event.eventType === EventType.TimerFired).length;
        return fired === count && history.at(-1)?.eventType === EventType.WorkflowTaskCompleted;
      });
      await new Promise((resolve) => setTimeout(resolve, RETENTION_MS + 1500));
    };
    // Start: the end of the second run (the first one closed and was deleted).
    await waitingAfter('the end of the second run', Math.min(perRun, iterations - perRun));
    const redisStart = await keysMemory(ctx.redis, pattern);
    const heapStart = await host!.memory();
    const loopStart = performance.now();
    await byId.signal(ForeverWorkflow.prototype.proceed);
    // End: the end of the last run, the same moment of a run.
    await waitingAfter('the last iteration', iterations - (runs - 1) * perRun);
    const loopMs = performance.now() - loopStart - RETENTION_MS - 1500;
    const redisEnd = await keysMemory(ctx.redis, pattern);
    const heapEnd = await host!.memory();
    await byId.signal(ForeverWorkflow.prototype.proceed);
    const done = await handle.result();
    if (done !== iterations) throw new Error(`forever: the chain ran ${done} of ${iterations} iterations`);
    const measured = iterations - 2 * perRun;
    ctx.log(`  forever: ${iterations} iterations in ${runs} runs (${measured} between the two measurements in ${(loopMs / 1000).toFixed(1)} s)`);
    return {
      scenario: 'forever',
      title: `One workflow looping on a timer for ${iterations} iterations, continuing as new every ${perRun}`,
      parameters: { iterations, perRun, runs, retention: '1s', workers: '1 process' },
      rows: [
        { key: 'forever.redisStart', metric: `Redis memory of the namespace, after ${2 * perRun} iterations`, unit: 'KiB', durabull: redisStart.bytes / KIB },
        { key: 'forever.redisEnd', metric: `Redis memory of the namespace, after ${iterations} iterations`, unit: 'KiB', durabull: redisEnd.bytes / KIB },
        { key: 'forever.redisGrowth', metric: 'Redis memory growth', unit: 'KiB', durabull: (redisEnd.bytes - redisStart.bytes) / KIB },
        {
          key: 'forever.runKeysGrowth',
          metric: 'of which run keys (state, history, workflow id)',
          unit: 'KiB',
          durabull: (runBytes(redisEnd) - runBytes(redisStart)) / KIB,
        },
        { key: 'forever.heapStart', metric: `worker heap, after ${2 * perRun} iterations`, unit: 'KiB', durabull: heapStart.heapUsed / KIB },
        { key: 'forever.heapEnd', metric: `worker heap, after ${iterations} iterations`, unit: 'KiB', durabull: heapEnd.heapUsed / KIB },
        { key: 'forever.heapGrowth', metric: 'worker heap growth', unit: 'KiB', durabull: (heapEnd.heapUsed - heapStart.heapUsed) / KIB },
        { key: 'forever.rate', metric: 'iterations per second (a 1 ms timer each; runs start >= 1 s apart)', unit: 'it/s', durabull: Math.max(measured, 1) / (loopMs / 1000) },
      ],
      details: { redisStart, redisEnd, heapStart, heapEnd, loopMs },
      durationMs: performance.now() - began,
    };
  } finally {
    await host!.stop();
    await cleanUp(ctx, names, client);
    await client.close();
  }
}
