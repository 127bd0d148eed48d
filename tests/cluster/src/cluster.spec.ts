import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Activity, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';
import { parseClosedRunMessage } from '@durabull/engine';
import { REDIS_CLUSTER_ENV, TestEnvironment, parseClusterNodes } from '@durabull/testing';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';

// What the integration suite cannot tell by passing: that it ran on the cluster, that every
// script kept to one hash slot (the server refuses CROSSSLOT keys, but only for the keys a script
// declares; this checks them against CLUSTER KEYSLOT), that runs and queues spread over the
// primaries, and that what scripts PUBLISH reaches a subscriber on another node.

class Steps {
  @Activity({ name: 'cluster-step' })
  async step(n: number): Promise<number> {
    activity.heartbeat(n);
    return n * 2;
  }
}

@WorkflowDefn({ name: 'cluster-spread' })
class Spread {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    const doubled = await workflow.executeActivity(Steps.prototype.step, n, { startToCloseTimeout: '10s', heartbeatTimeout: '5s' });
    await workflow.sleep(20);
    return doubled;
  }
}

@WorkflowDefn({ name: 'cluster-waits' })
class Waits {
  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.sleep('1h');
  }
}

/** The engine's Lua scripts (`<name>-<numberOfKeys>.lua`). */
const SCRIPTS = new Set(
  readdirSync(join(__dirname, '..', '..', '..', 'libs', 'engine', 'src', 'lua'))
    .map((file) => /^(\w+)-\d+\.lua$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined),
);

/** Records the keys of every engine script call made through `redis` (FCALL of `durabull_<hash>_<script>`). */
function recordScriptKeys(redis: Redis | Cluster): Array<{ script: string; keys: string[] }> {
  const calls: Array<{ script: string; keys: string[] }> = [];
  const original = redis.fcall.bind(redis) as (...args: unknown[]) => Promise<unknown>;
  (redis as unknown as { fcall: (...args: unknown[]) => Promise<unknown> }).fcall = (...args: unknown[]) => {
    const [fn, numberOfKeys, ...rest] = args;
    const script = String(fn).replace(/^durabull_[0-9a-f]+_/, '');
    if (!SCRIPTS.has(script)) throw new Error(`FCALL of ${String(fn)}, not an engine script`);
    calls.push({ script, keys: rest.slice(0, Number(numberOfKeys)).map(String) });
    return original(...args);
  };
  return calls;
}

async function keysOf(node: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

describe('Durabull on a Redis Cluster', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  const cluster = () => env.client.redis as Cluster;
  const keyslot = async (key: string) => Number(await cluster().cluster('KEYSLOT', key));

  it('runs the tests on the cluster of DURABULL_TEST_REDIS_CLUSTER, three primaries', async () => {
    const nodes = parseClusterNodes(process.env[REDIS_CLUSTER_ENV] ?? '');
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    expect(env.client.connection.isCluster).toBe(true);
    expect(cluster().nodes('master')).toHaveLength(3);
    expect(await cluster().cluster('INFO')).toMatch(/^cluster_state:ok/m);
  });

  it('keeps every script call in one slot while the runs spread over the primaries', async () => {
    const calls = recordScriptKeys(env.client.redis);
    const worker = env.newWorker({ taskQueue: 'spread', workflows: [Spread, Waits], activities: [new Steps()] });
    const results = await worker.runUntil(async () => {
      const handles = await Promise.all(
        Array.from({ length: 24 }, (_, n) => env.client.startWorkflow(Spread, n, { id: `spread-${n}`, taskQueue: 'spread' })),
      );
      const cancelled = await env.client.startWorkflow(Waits, { id: 'cancelled', taskQueue: 'spread' });
      const terminated = await env.client.startWorkflow(Waits, { id: 'terminated', taskQueue: 'spread' });
      await cancelled.cancel('enough');
      await terminated.terminate('enough');
      await Promise.all([cancelled, terminated].map((handle) => handle.result().catch(() => undefined)));
      return Promise.all(handles.map((handle) => handle.result()));
    });
    expect(results).toEqual(Array.from({ length: 24 }, (_, n) => n * 2));
    await env.client.engine.sweep({ graceMs: 60_000 }); // sweepShard on every shard: nothing to re-dispatch

    // One slot per call, as the server computes it.
    const seen = new Set(calls.map((call) => call.script));
    for (const script of ['startWorkflow', 'completeWorkflowTask', 'completeActivityAndWorkflowTask', 'fireDeadline', 'requestCancelWorkflow', 'terminateWorkflow', 'sweepShard']) {
      expect(seen).toContain(script);
    }
    const slotsPerCall = await Promise.all(calls.map(async (call) => new Set(await Promise.all(call.keys.map(keyslot))).size));
    expect(calls.filter((_, i) => slotsPerCall[i] !== 1)).toEqual([]);

    // The runs' histories live on more than one primary.
    const { keys } = env.client.engine;
    const perNode = await Promise.all(cluster().nodes('master').map((node) => keysOf(node, keys.pattern)));
    const nodesWithHistories = perNode.filter((found) => found.some((key) => key.includes(':hist:')));
    expect(nodesWithHistories.length).toBeGreaterThan(1);
    // A BullMQ queue's keys share one slot (its prefix is hash-tagged).
    const queueKeys = perNode.flat().filter((key) => key.startsWith(`${keys.taskQueuePrefix('spread')}:`));
    expect(queueKeys.length).toBeGreaterThan(0);
    expect(new Set(await Promise.all(queueKeys.map(keyslot)))).toEqual(new Set([await keyslot(keys.taskQueuePrefix('spread'))]));
  }, 30_000);

  it('is reached by the durabull CLI with --redis naming the cluster nodes', async () => {
    const worker = env.newWorker({ taskQueue: 'spread', workflows: [Spread], activities: [new Steps()] });
    await worker.runUntil(env.client.executeWorkflow(Spread, 21, { id: 'cli-on-cluster', taskQueue: 'spread' }));
    const nodes = parseClusterNodes(process.env[REDIS_CLUSTER_ENV] ?? '').map(({ host, port }) => `${host}:${port}`).join(',');
    const cli = join(__dirname, '..', '..', '..', 'apps', 'cli', 'bin', 'durabull.js');
    const { stdout } = await promisify(execFile)(process.execPath, [
      cli, 'workflow', 'describe', '--workflow-id', 'cli-on-cluster', '--redis', nodes, '--namespace', env.namespace, '-o', 'json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ workflowId: 'cli-on-cluster', status: 'COMPLETED', result: 42 });
  });

  it('spreads the shards of a namespace over the primaries', async () => {
    const { keys } = env.client.engine;
    const owners = new Set<string>();
    for (let shard = 0; shard < keys.shardCount; shard++) {
      const slot = await keyslot(keys.shard(shard).outbox);
      const node = cluster().slots[slot]?.[0];
      expect(node).toBeDefined();
      owners.add(node!);
    }
    expect(owners.size).toBeGreaterThan(1);
  });

  it('works on an ioredis Cluster instance passed in, leaves it open, and purges the namespace from every primary', async () => {
    const given = new Cluster(parseClusterNodes(process.env[REDIS_CLUSTER_ENV] ?? ''), { redisOptions: { maxRetriesPerRequest: 3 } });
    try {
      const own = await TestEnvironment.create({ redis: given });
      let pattern: string;
      try {
        pattern = own.client.engine.keys.pattern;
        const worker = own.newWorker({ taskQueue: 'given', workflows: [Spread], activities: [new Steps()] });
        const handles = await Promise.all(
          Array.from({ length: 8 }, (_, n) => own.client.startWorkflow(Spread, n, { id: `given-${n}`, taskQueue: 'given' })),
        );
        expect(await worker.runUntil(Promise.all(handles.map((handle) => handle.result())))).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
        expect(own.client.redis).toBe(given);
      } finally {
        await own.teardown();
      }
      expect(await given.ping()).toBe('PONG');
      const left = await Promise.all(given.nodes('master').map((node) => keysOf(node, pattern)));
      expect(left.flat()).toEqual([]);
    } finally {
      await given.quit();
    }
  }, 30_000);

  it('delivers what scripts publish to a subscriber on any primary', async () => {
    const subscriber = env.client.connection.duplicate();
    try {
      const received: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => received.push(message));
      await subscriber.subscribe(env.client.engine.keys.closedChannel);
      const worker = env.newWorker({ taskQueue: 'pubsub', workflows: [Spread], activities: [new Steps()] });
      const handles = await Promise.all(
        Array.from({ length: 8 }, (_, n) => env.client.startWorkflow(Spread, n, { id: `pubsub-${n}`, taskQueue: 'pubsub' })),
      );
      await worker.runUntil(Promise.all(handles.map((handle) => handle.result())));
      const deadline = Date.now() + 5_000;
      while (received.length < handles.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(new Set(received.map((message) => parseClosedRunMessage(message).runId))).toEqual(new Set(handles.map((handle) => handle.runId)));
    } finally {
      subscriber.disconnect();
    }
  }, 30_000);
});
