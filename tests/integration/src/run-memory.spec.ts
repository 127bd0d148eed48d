import { Activity, WorkflowDefn, WorkflowRun, workflow } from '@durabull/sdk';
import type { Client } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import type { Cluster, Redis } from 'ioredis';

class Echoes {
  @Activity({ name: 'run-memory-echo' })
  async echo(n: number): Promise<number> {
    return n;
  }
}

/** The benchmark's one-activity workflow: it returns its input through one activity. */
@WorkflowDefn({ name: 'RunMemoryEcho' })
class RunMemoryEcho {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    return workflow.executeActivity(Echoes.prototype.echo, n, { startToCloseTimeout: '10s' });
  }
}

const RUNS = 40;
/** Issue 13: a closed one-activity run (history, state and index entries) takes at most 3 KiB. */
const BYTES_PER_CLOSED_RUN = 3 * 1024;

/** The engine's keys of the namespace (runs, histories, indexes, shards), not BullMQ's queue keys. */
async function engineKeys(client: Client): Promise<string[]> {
  const redis = client.redis as Redis | Cluster;
  const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', client.engine.keys.pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found.filter((key) => !/\{[^}]*:(q:[^}]+|sticky:[^}]+|timers|system)\}/.test(key)).sort();
}

/** MEMORY USAGE of each key, by kind (`run`, `hist`, `vis:closed`, ...). */
async function memoryByKind(client: Client): Promise<Map<string, number>> {
  const redis = client.redis as Redis | Cluster;
  const kinds = new Map<string, number>();
  for (const key of await engineKeys(client)) {
    const kind = /\}:(vis:\w+|\w+)/.exec(key)?.[1] ?? key;
    const bytes = Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
    kinds.set(kind, (kinds.get(kind) ?? 0) + bytes);
  }
  return kinds;
}

const total = (kinds: Map<string, number>) => [...kinds.values()].reduce((sum, bytes) => sum + bytes, 0);

describe('Redis memory of a closed run', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
  });
  afterEach(async () => {
    await env.teardown();
  });

  it(`keeps a closed one-activity run (history, state, indexes) within ${BYTES_PER_CLOSED_RUN} bytes`, async () => {
    const { client } = env;
    const worker = env.newWorker({ taskQueue: 'run-memory', workflows: [RunMemoryEcho], activities: [new Echoes()] });
    const runAll = async (prefix: string) => {
      const results = await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          client.executeWorkflow(RunMemoryEcho, i, { id: `${prefix}-${String(i).padStart(6, '0')}`, taskQueue: 'run-memory' }),
        ),
      );
      expect(results).toEqual(Array.from({ length: RUNS }, (_, i) => i));
    };
    const { before, after } = await worker.runUntil(async () => {
      // A first batch, so that every shard-wide key the runs share (settings, indexes) exists: what
      // the second batch adds is what a run itself keeps.
      await runAll('run-memory-warm');
      const before = await memoryByKind(client);
      await runAll('run-memory-order');
      return { before, after: await memoryByKind(client) };
    });
    const perRun = (total(after) - total(before)) / RUNS;
    const shares = [...after].map(([kind, bytes]) => `${kind} ${Math.round((bytes - (before.get(kind) ?? 0)) / RUNS)}`);
    process.stdout.write(`closed one-activity run: ${Math.round(perRun)} B of Redis memory (${shares.join(', ')})\n`);
    expect(perRun).toBeLessThanOrEqual(BYTES_PER_CLOSED_RUN);
    // The figure measures something: a run takes at least its history.
    expect(perRun).toBeGreaterThan(200);
  }, 30_000);
});
