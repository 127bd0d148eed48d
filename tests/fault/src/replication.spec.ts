import { Client, ReplicationTimeoutError } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { Redis } from 'ioredis';
import { historyViolations } from './invariants';
import { FAST_RECOVERY, Pipeline, PipelineActivities } from './fixtures/pipeline';
import { OwnRedis } from './fixtures/redis-server';

// The `durability` client option on a primary with one replica (two redis-server processes of the
// test's own): every transition is followed by WAIT on its connection.

/** Resolves once the primary reports `count` replicas online (synced and streaming). */
async function replicasOnline(primary: Redis, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await primary.info('replication');
    if ((info.match(/^slave\d+:.*state=online/gm) ?? []).length >= count) return;
    if (Date.now() > deadline) throw new Error(`the replica did not come online:\n${info}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How many times the primary ran a command (INFO commandstats). */
async function commandCalls(redis: Redis, command: string): Promise<number> {
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(await redis.info('commandstats'));
  return match ? Number(match[1]) : 0;
}

describe('replica-acknowledged transitions (the durability option)', () => {
  let primary: OwnRedis;
  let replica: OwnRedis;
  let replicaReader: Redis;
  let env: TestEnvironment | undefined;
  beforeEach(async () => {
    primary = await OwnRedis.start(['--appendonly', 'no', '--repl-diskless-sync-delay', '0']);
    replica = await OwnRedis.start(['--appendonly', 'no', '--replicaof', '127.0.0.1', String(primary.port)]);
    replicaReader = new Redis(replica.url, { maxRetriesPerRequest: 1 });
    const admin = new Redis(primary.url);
    try {
      await replicasOnline(admin, 1);
    } finally {
      admin.disconnect();
    }
  });
  afterEach(async () => {
    replica.resume();
    await env?.teardown();
    env = undefined;
    replicaReader.disconnect();
    await replica.stop();
    await primary.stop();
  });

  /** Events of a run's history on the replica, read from it directly. */
  async function replicaHistoryLength(client: Client, workflowId: string, runId: string): Promise<number> {
    return replicaReader.xlen(client.engine.keys.run(workflowId, runId).history);
  }

  it('resolves a start once the replica holds it, and runs whole workflows with every transition confirmed', async () => {
    env = await TestEnvironment.create({ redis: primary.url, durability: { replicas: 1, timeout: '2s' } });
    const admin = env.client.redis as Redis;
    const waitsBefore = await commandCalls(admin, 'wait');

    const first = await env.client.startWorkflow(Pipeline, { args: [2, 10], id: 'confirmed-0', taskQueue: 'pipeline' });
    // Read right away, from the replica: WAIT returned before startWorkflow did.
    expect(await replicaHistoryLength(env.client, 'confirmed-0', first.runId!)).toBe(2);
    const rest = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        env!.client.startWorkflow(Pipeline, { args: [2, 10], id: `confirmed-${i + 1}`, taskQueue: 'pipeline' }),
      ),
    );
    const handles = [first, ...rest];
    const worker = env.newWorker({ taskQueue: 'pipeline', workflows: [Pipeline], activities: [new PipelineActivities()], ...FAST_RECOVERY });
    const results = await worker.runUntil(Promise.all(handles.map((handle) => handle.result())));
    for (const run of results) expect(run.map((step) => step.step)).toEqual([1, 2]);
    for (const handle of handles) {
      const history = await handle.fetchHistory();
      expect(historyViolations(history)).toEqual([]);
    }
    // One WAIT per transition: a start, then for each of two steps at least a workflow task
    // completed and an activity completed, then the closing workflow task.
    expect((await commandCalls(admin, 'wait')) - waitsBefore).toBeGreaterThanOrEqual(handles.length * 6);
  });

  it('fails a start with ReplicationTimeoutError when the replica does not confirm it in time; the run still goes on', async () => {
    env = await TestEnvironment.create({ redis: primary.url, durability: { replicas: 1, timeout: 300 } });
    replica.pause();
    const startedAt = Date.now();
    const error = await env.client
      .startWorkflow(Pipeline, { args: [1, 10], id: 'unconfirmed', taskQueue: 'pipeline' })
      .then(() => undefined, (e: unknown) => e);
    const waited = Date.now() - startedAt;

    expect(error).toBeInstanceOf(ReplicationTimeoutError);
    const timeout = error as ReplicationTimeoutError;
    expect(timeout).toMatchObject({
      workflowId: 'unconfirmed',
      transition: 'startWorkflow',
      replicasRequested: 1,
      replicasAcknowledged: 0,
      timeout: 300,
    });
    expect(timeout.message).toBe(
      `Transition startWorkflow of workflowId="unconfirmed" runId=${JSON.stringify(timeout.runId)} reached 0 of 1 replica(s) ` +
        'within 300ms: it is committed on the primary but would be lost if the primary failed now',
    );
    expect(waited).toBeGreaterThanOrEqual(290);

    // Committed on the primary all the same (the error does not undo it): once the replica is
    // back, a worker gets its first task from the outbox sweep and the run completes.
    replica.resume();
    const handle = env.client.getWorkflowHandle<Array<{ step: number }>>('unconfirmed');
    expect((await handle.describe()).runId).toBe(timeout.runId);
    const worker = env.newWorker({ taskQueue: 'pipeline', workflows: [Pipeline], activities: [new PipelineActivities()], ...FAST_RECOVERY });
    const result = await worker.runUntil(handle.result());
    expect(result.map((step) => step.step)).toEqual([1]);
    expect(await replicaHistoryLength(env.client, 'unconfirmed', timeout.runId)).toBeGreaterThan(2);
  });

  it('without the option, a start resolves while the replica is frozen and has not received it (what a failover would lose)', async () => {
    env = await TestEnvironment.create({ redis: primary.url });
    replica.pause();
    const handle = await env.client.startWorkflow(Pipeline, { args: [1, 10], id: 'unreplicated', taskQueue: 'pipeline' });
    expect(await env.client.engine.readHistory({ workflowId: 'unreplicated', runId: handle.runId! })).toHaveLength(2);
    replica.resume();
    // The replica catches up once it runs again.
    const deadline = Date.now() + 5_000;
    while ((await replicaHistoryLength(env.client, 'unreplicated', handle.runId!)) < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await replicaHistoryLength(env.client, 'unreplicated', handle.runId!)).toBe(2);
  });

  it('checks the option', async () => {
    await expect(Client.connect({ redis: primary.url, durability: { replicas: -1 } })).rejects.toThrow(
      new TypeError('Invalid durability.replicas: -1 (an integer >= 0)'),
    );
    await expect(Client.connect({ redis: primary.url, durability: { replicas: 1, timeout: 0 } })).rejects.toThrow(
      new TypeError('Invalid durability.timeout: 0 (at least 1 ms; WAIT 0 would wait forever)'),
    );
    await expect(Client.connect({ redis: primary.url, durability: { replicas: 1, wait: 1 } as never })).rejects.toThrow(
      new TypeError('Unknown durability option(s): wait'),
    );
  });
});
