import { Activity, WorkflowDefn, WorkflowRun, workflow } from '@durabull/sdk';
import type { Client } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import type { Redis } from 'ioredis';
import { OwnRedis } from './fixtures/redis-server';

class Counter {
  @Activity({ name: 'memory-increment' })
  async increment(n: number): Promise<number> {
    return n + 1;
  }
}

/** A short workflow: one activity. */
@WorkflowDefn({ name: 'MemoryBrief' })
class MemoryBrief {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    return workflow.executeActivity(Counter.prototype.increment, n, { startToCloseTimeout: '10s' });
  }
}

const RUNS = 10_000;
/** Runs started at once. */
const BATCH = 500;
/** How long a batch may take (about 2 s on an idle machine) before the test names its open runs. */
const BATCH_TIMEOUT_MS = 60_000;
/** Runs of the warm-up: enough to bring BullMQ's event streams near their length cap. */
const WARM_UP_RUNS = 4_000;
/**
 * Growth allowed besides BullMQ's event streams (capped at about 10,000 entries each, they may
 * still be filling): allocator and client-buffer noise. A leak of the runs would be about 60 MB.
 */
const TOLERANCE_BYTES = 1024 * 1024;

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every key of the namespace. */
async function namespaceKeys(client: Client): Promise<string[]> {
  const redis = client.redis as Redis;
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', client.engine.keys.pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)![1]);
}

/** Bytes held by the namespace's BullMQ event streams. */
async function eventStreamBytes(client: Client): Promise<number> {
  const redis = client.redis as Redis;
  let total = 0;
  for (const key of (await namespaceKeys(client)).filter((k) => k.endsWith(':events'))) {
    total += Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
  }
  return total;
}

describe('retention and Redis memory', () => {
  let redis: OwnRedis;
  let env: TestEnvironment;
  beforeEach(async () => {
    // A Redis of the test's own, so that no other test's keys move its memory figures.
    redis = await OwnRedis.start(['--appendonly', 'no']);
    env = await TestEnvironment.create({ redis: redis.url, retention: '1s' });
  });
  afterEach(async () => {
    await env.teardown();
    await redis.stop();
  });

  it(`returns to its baseline after ${RUNS.toLocaleString('en')} runs closed and expired, leaving no key of them`, async () => {
    const { client } = env;
    const direct = client.redis as Redis;
    const worker = env.newWorker({ taskQueue: 'memory', workflows: [MemoryBrief], activities: [new Counter()] });

    async function runAll(prefix: string, count: number): Promise<void> {
      for (let i = 0; i < count; i += BATCH) {
        const ids = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => `${prefix}-${i + j}`);
        const results = await settledWithin(
          ids.map((id, j) => client.executeWorkflow(MemoryBrief, i + j, { id, taskQueue: 'memory' })),
          ids,
        );
        expect(results).toEqual(ids.map((_, j) => i + j + 1));
      }
    }

    /**
     * The batch's results; if some are still missing after BATCH_TIMEOUT_MS, fails naming those
     * runs with their status and history, so that a stuck run is told apart from a slow machine.
     */
    async function settledWithin(batch: Promise<number>[], ids: string[]): Promise<number[]> {
      const pending = new Set(ids);
      batch.forEach((result, j) => void result.then(() => pending.delete(ids[j]!), () => undefined));
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void Promise.all(
            [...pending].slice(0, 5).map(async (id) => {
              const handle = client.getWorkflowHandle(id);
              const status = await handle.describe().then((d) => d.status, (error: Error) => error.message);
              const events = await handle.fetchHistory().then((h) => h.map((e) => e.eventType).join(', '), (error: Error) => error.message);
              return `${id}: ${status} [${events}]`;
            }),
          ).then((lines) => reject(new Error(`${pending.size} of ${ids.length} runs still open after ${BATCH_TIMEOUT_MS} ms:\n${lines.join('\n')}`)));
        }, BATCH_TIMEOUT_MS);
      });
      try {
        return await Promise.race([Promise.all(batch), stuck]);
      } finally {
        clearTimeout(timer);
      }
    }

    /** Every run deleted, and nothing pending: no deadline, no outbox entry, no wake-up job. */
    async function expired(): Promise<void> {
      const { keys } = client.engine;
      const shards = Array.from({ length: keys.shardCount }, (_, shard) => keys.shard(shard));
      const timers = client.engine.dispatcher.queue(keys.timerPrefix, 'timers');
      await waitFor(async () => {
        if ((await client.countWorkflows()) > 0) return false;
        for (const shard of shards) {
          if ((await direct.zcard(shard.deadlines)) + (await direct.zcard(shard.outbox)) > 0) return false;
        }
        const jobs = await timers.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        return Object.values(jobs).every((n) => n === 0);
      }, 'every run to expire');
    }

    const figures = await worker.runUntil(async () => {
      await runAll('warm', WARM_UP_RUNS);
      await expired();
      const baseline = { used: await usedMemory(direct), streams: await eventStreamBytes(client), keys: await namespaceKeys(client) };

      const started = Date.now();
      await runAll('run', RUNS);
      const ranMs = Date.now() - started;
      const peak = await usedMemory(direct);
      await expired();
      const after = { used: await usedMemory(direct), streams: await eventStreamBytes(client), keys: await namespaceKeys(client) };
      return { baseline, peak, after, ranMs };
    });

    const { baseline, after } = figures;
    const growth = after.used - baseline.used;
    const streamsGrowth = after.streams - baseline.streams;
    process.stdout.write(
      `retention memory: used_memory baseline ${baseline.used} B, when the ${RUNS} runs had closed (${figures.ranMs} ms) ${figures.peak} B, ` +
        `after expiry ${after.used} B: ${growth >= 0 ? '+' : ''}${growth} B, of which BullMQ event streams ${streamsGrowth} B ` +
        `(${after.keys.length} namespace keys, ${baseline.keys.length} at the baseline)\n`,
    );

    // Everything the runs took while they were kept was given back.
    expect(growth - streamsGrowth).toBeLessThan(TOLERANCE_BYTES);
    // Event streams included, a fraction of what the runs would hold had they been kept.
    expect(growth).toBeLessThan(4 * TOLERANCE_BYTES);
    // No key of any run is left: the engine's keys (runs, shards, settings) are those it had at
    // the baseline. BullMQ's queue keys are not compared: a load may use a queue's bookkeeping keys
    // for the first time, and jobs still held by the live worker come and go (their memory is in
    // the figures above).
    expect(after.keys.filter((key) => /:(run|hist|buf|wid):/.test(key))).toEqual([]);
    const engineKeys = (keys: string[]) => keys.filter((key) => !/\{[^}]*:(q:[^}]+|sticky:[^}]+|timers|system)\}/.test(key));
    expect(engineKeys(after.keys)).toEqual(engineKeys(baseline.keys));
  }, 600_000);
});
