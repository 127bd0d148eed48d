import {
  Activity,
  ApplicationError,
  Client,
  EventType,
  TerminatedError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowNotFoundError,
  WorkflowRun,
  workflow,
} from '@durabull/sdk';
import type { Logger, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import type { Cluster, Redis } from 'ioredis';

class Errands {
  @Activity({ name: 'retention-echo' })
  async echo(text: string): Promise<string> {
    return text;
  }
}

@WorkflowDefn({ name: 'RetainedEcho' })
class RetainedEcho {
  @WorkflowRun()
  async run(text: string): Promise<string> {
    return workflow.executeActivity(Errands.prototype.echo, text, { startToCloseTimeout: '5s' });
  }
}

@WorkflowDefn({ name: 'RetainedFailure' })
class RetainedFailure {
  @WorkflowRun()
  async run(): Promise<string> {
    throw ApplicationError.nonRetryable('no luck', 'Unlucky');
  }
}

@WorkflowDefn({ name: 'RetainedSleeper' })
class RetainedSleeper {
  @WorkflowRun()
  async run(): Promise<string> {
    await workflow.sleep('1h');
    return 'woke';
  }
}

const WORKFLOWS = [RetainedEcho, RetainedFailure, RetainedSleeper];
const HOUR = 3_600_000;

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 8_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The primaries of a client's Redis (one, unless it is a cluster). */
function primaries(redis: Redis | Cluster): Redis[] {
  return 'nodes' in redis ? redis.nodes('master') : [redis];
}

/** Every key of the namespace, from every primary. */
async function namespaceKeys(client: Client): Promise<string[]> {
  const found: string[] = [];
  for (const node of primaries(client.redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', client.engine.keys.pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** What is left of a run in Redis: its keys, and its members in the shard's sorted sets. */
async function remainsOf(client: Client, workflowId: string, runId: string): Promise<string[]> {
  const keys = client.engine.keys.run(workflowId, runId);
  const left = (await namespaceKeys(client)).filter((key) => key.includes(runId) || key === keys.workflowId);
  for (const zset of [keys.deadlines, keys.outbox, keys.allRuns, keys.openRuns, keys.closedRuns]) {
    const members = await client.redis.zrange(zset, 0, -1);
    left.push(...members.filter((member) => member.includes(runId)).map((member) => `${zset} ${member}`));
  }
  return left;
}

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Expects every read through a handle (bound to a run, or following its id) to say the run is not found. */
async function expectGone(handle: WorkflowHandle<unknown>): Promise<void> {
  const run = handle.runId === undefined ? '' : ` runId=${JSON.stringify(handle.runId)}`;
  for (const read of [() => handle.describe(), () => handle.result(), () => handle.fetchHistory()]) {
    const error = await rejection(read());
    expect(error).toBeInstanceOf(WorkflowNotFoundError);
    expect(error.message).toBe(`Workflow execution not found: workflowId=${JSON.stringify(handle.workflowId)}${run}`);
  }
}

function recordingLogger(): Logger & { warnings: Array<[string, Record<string, unknown> | undefined]> } {
  const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
  const ignore = () => undefined;
  return { warnings, debug: ignore, info: ignore, error: ignore, warn: (message, attributes) => warnings.push([message, attributes]) };
}

describe('retention', () => {
  let env: TestEnvironment;
  afterEach(() => env.teardown());

  const retentionDeadline = async (client: Client, workflowId: string, runId: string) => {
    const keys = client.engine.keys.run(workflowId, runId);
    return client.redis.zscore(keys.deadlines, `ret|||${runId}|${workflowId}`);
  };

  it('deletes completed, failed, terminated and timed-out runs about a second after they close, and keeps open ones', async () => {
    env = await TestEnvironment.create({ retention: '1s' });
    const { client } = env;
    const worker = env.newWorker({ taskQueue: 'keep', workflows: WORKFLOWS, activities: [new Errands()] });
    await worker.runUntil(async () => {
      const completed = await client.startWorkflow(RetainedEcho, 'hi', { id: 'completed', taskQueue: 'keep' });
      const failed = await client.startWorkflow(RetainedFailure, { id: 'failed', taskQueue: 'keep' });
      const terminated = await client.startWorkflow(RetainedSleeper, { id: 'terminated', taskQueue: 'keep' });
      const timedOut = await client.startWorkflow(RetainedSleeper, { id: 'timed-out', taskQueue: 'keep', runTimeout: '300ms' });
      const open = await client.startWorkflow(RetainedSleeper, { id: 'open', taskQueue: 'keep' });
      await terminated.terminate('enough');
      const closed = [completed, failed, terminated, timedOut];
      expect(await completed.result()).toBe('hi');
      for (const handle of closed.slice(1)) expect(await rejection(handle.result())).toBeInstanceOf(WorkflowFailureError);
      const statuses = await Promise.all(closed.map(async (handle) => (await handle.describe()).status));
      expect(statuses).toEqual(['COMPLETED', 'FAILED', 'TERMINATED', 'TIMED_OUT']);

      // Each closed run is deleted by the deadline its close armed, a second after its close time.
      await waitFor(async () => (await client.countWorkflows()) === 1, 'the closed runs to be deleted');
      for (const handle of closed) {
        await expectGone(handle);
        await expectGone(client.getWorkflowHandle(handle.workflowId));
        expect(await remainsOf(client, handle.workflowId, handle.runId!)).toEqual([]);
      }
      const listed = [];
      for await (const execution of client.listWorkflows()) listed.push(execution.workflowId);
      expect(listed).toEqual(['open']);
      expect(await client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })).toBe(1);
      expect(await client.countWorkflows({ status: WorkflowExecutionStatus.COMPLETED })).toBe(0);
      expect(await client.countWorkflows({ workflowType: 'RetainedSleeper' })).toBe(1);
      expect(await client.countWorkflows({ taskQueue: 'keep' })).toBe(1);

      // The open run is untouched, and the deleted ids can be started again.
      expect(await open.describe()).toMatchObject({ status: WorkflowExecutionStatus.RUNNING });
      expect((await open.fetchHistory()).map((e) => e.eventType)).toContain(EventType.TimerStarted);
      const again = await client.startWorkflow(RetainedEcho, 'again', { id: 'completed', taskQueue: 'keep' });
      expect(await again.result()).toBe('again');
    });
  });

  it('arms the deletion at close time + the retention; a later connect changes the retention for runs that close afterwards', async () => {
    env = await TestEnvironment.create({ retention: '1h' });
    const { keys } = env.client.engine;
    const settings = async () =>
      Promise.all(Array.from({ length: keys.shardCount }, (_, shard) => env.client.redis.hget(keys.shard(shard).settings, 'retention')));
    expect(await env.client.redis.hget(keys.meta, 'retention')).toBe(String(HOUR));
    expect(new Set(await settings())).toEqual(new Set([String(HOUR)]));

    const worker = env.newWorker({ taskQueue: 'keep', workflows: WORKFLOWS, activities: [new Errands()] });
    await worker.runUntil(async () => {
      const kept = await env.client.startWorkflow(RetainedEcho, 'kept', { id: 'kept', taskQueue: 'keep' });
      await kept.result();
      const { closeTime } = await kept.describe();
      expect(Number(await retentionDeadline(env.client, 'kept', kept.runId!))).toBe(closeTime!.getTime() + HOUR);

      // Another client sets a second: the whole namespace changes; one without the option leaves it.
      await env.newClient({ retention: { seconds: 1 } });
      await env.newClient({ retention: undefined });
      expect(await env.client.redis.hget(keys.meta, 'retention')).toBe('1000');
      expect(new Set(await settings())).toEqual(new Set(['1000']));

      const brief = await env.client.startWorkflow(RetainedEcho, 'brief', { id: 'brief', taskQueue: 'keep' });
      await brief.result();
      await waitFor(async () => (await env.client.countWorkflows()) === 1, 'the second run to be deleted');
      await expectGone(brief);
      // The run that closed under the old retention keeps its deadline.
      expect(await kept.describe()).toMatchObject({ status: WorkflowExecutionStatus.COMPLETED });
      expect(Number(await retentionDeadline(env.client, 'kept', kept.runId!))).toBe(closeTime!.getTime() + HOUR);
    });
  });

  it('keeps closed runs 72 hours in a namespace no client set a retention for', async () => {
    env = await TestEnvironment.create();
    expect(await env.client.redis.hget(env.client.engine.keys.meta, 'retention')).toBe(String(72 * HOUR));
    const worker = env.newWorker({ taskQueue: 'keep', workflows: WORKFLOWS, activities: [new Errands()] });
    const handle = await env.client.startWorkflow(RetainedEcho, 'hi', { id: 'default', taskQueue: 'keep' });
    await worker.runUntil(handle.result());
    const { closeTime } = await handle.describe();
    expect(Number(await retentionDeadline(env.client, 'default', handle.runId!))).toBe(closeTime!.getTime() + 72 * HOUR);
  });

  it('rejects bad retention values, naming them, before touching the namespace', async () => {
    env = await TestEnvironment.create({ retention: '2h' });
    const cases: Array<[unknown, string]> = [
      [-1, 'Invalid duration for retention: -1 (a duration cannot be negative)'],
      ['soon', `Invalid duration for retention: "soon" (use milliseconds, a string like '10s' or an object like { seconds: 10 })`],
      [0, 'Invalid retention: 0 (from 1 second to 3650 days)'],
      ['500ms', 'Invalid retention: "500ms" (from 1 second to 3650 days)'],
      [{ days: 3651 }, 'Invalid retention: {"days":3651} (from 1 second to 3650 days)'],
      [Number.NaN, 'Invalid duration for retention: NaN (a duration must be a finite number of milliseconds)'],
    ];
    for (const [retention, message] of cases) {
      const error = await rejection(env.newClient({ retention: retention as string }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe(message);
    }
    expect(await env.client.redis.hget(env.client.engine.keys.meta, 'retention')).toBe(String(2 * HOUR));
  });
});

describe('handle.delete()', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('terminates a running run, then deletes it; its id can be started again', async () => {
    const worker = env.newWorker({ taskQueue: 'del', workflows: WORKFLOWS, activities: [new Errands()] });
    await worker.runUntil(async () => {
      // executeWorkflow watches the run before it starts: its wait sees the close, whenever it comes.
      const waiting = rejection(env.client.executeWorkflow(RetainedSleeper, { id: 'sleeper', taskQueue: 'del' }));
      const timerStarted = async () => (await env.client.getWorkflowHandle('sleeper').fetchHistory()).some((e) => e.eventType === EventType.TimerStarted);
      await waitFor(() => timerStarted().catch(() => false), 'the timer');
      const { runId } = await env.client.getWorkflowHandle('sleeper').describe();
      const handle = env.client.getWorkflowHandle('sleeper', runId);
      await handle.delete();

      // Whoever waited for the result learns it was terminated.
      const error = await waiting;
      expect(error).toBeInstanceOf(WorkflowFailureError);
      expect((error as WorkflowFailureError).cause).toBeInstanceOf(TerminatedError);
      expect((error as WorkflowFailureError).cause!.message).toBe('Delete workflow execution');

      await expectGone(handle);
      await expectGone(env.client.getWorkflowHandle('sleeper'));
      expect(await remainsOf(env.client, 'sleeper', handle.runId!)).toEqual([]);
      expect(await env.client.countWorkflows()).toBe(0);
      expect(await rejection(handle.delete())).toBeInstanceOf(WorkflowNotFoundError);

      const again = await env.client.startWorkflow(RetainedEcho, 'back', { id: 'sleeper', taskQueue: 'del' });
      expect(again.runId).not.toBe(handle.runId);
      expect(await again.result()).toBe('back');
    });
  });

  it('deletes a closed run at once, and an older run of an id without touching its newer run', async () => {
    const worker = env.newWorker({ taskQueue: 'del', workflows: WORKFLOWS, activities: [new Errands()] });
    await worker.runUntil(async () => {
      const first = await env.client.startWorkflow(RetainedEcho, 'one', { id: 'echo', taskQueue: 'del' });
      expect(await first.result()).toBe('one');
      const second = await env.client.startWorkflow(RetainedSleeper, { id: 'echo', taskQueue: 'del' });

      await first.delete();
      await expectGone(first);
      // The id's record stays: it names the newer run.
      expect(await remainsOf(env.client, 'echo', first.runId!)).toEqual([env.client.engine.keys.run('echo', '').workflowId]);
      // The id still names the newer, running run.
      expect(await env.client.getWorkflowHandle('echo').describe()).toMatchObject({
        runId: second.runId,
        status: WorkflowExecutionStatus.RUNNING,
      });
      expect(await env.client.countWorkflows()).toBe(1);

      await second.terminate('done');
      await env.client.getWorkflowHandle('echo').delete();
      await expectGone(second);
      expect(await env.client.countWorkflows()).toBe(0);
      const third = await env.client.startWorkflow(RetainedEcho, 'three', { id: 'echo', taskQueue: 'del' });
      expect(await third.result()).toBe('three');
    });
  });

  it('throws WorkflowNotFoundError for an unknown workflow id or run', async () => {
    const unknownId = await rejection(env.client.getWorkflowHandle('nobody').delete());
    expect(unknownId).toBeInstanceOf(WorkflowNotFoundError);
    expect(unknownId.message).toBe('Workflow execution not found: workflowId="nobody"');
    const unknownRun = await rejection(env.client.getWorkflowHandle('nobody', 'no-such-run').delete());
    expect(unknownRun.message).toBe('Workflow execution not found: workflowId="nobody" runId="no-such-run"');
  });
});

describe('Redis eviction policy', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('is checked when a client connects: a warning, once, unless it is noeviction', async () => {
    const nodes = primaries(env.client.redis);
    const before = await Promise.all(nodes.map(async (node) => ((await node.config('GET', 'maxmemory-policy')) as string[])[1]!));
    const quiet = recordingLogger();
    await env.newClient({ logger: quiet });
    expect(quiet.warnings).toEqual([]);

    // A throwaway setting, restored at once (no maxmemory is set, so nothing is ever evicted).
    const logger = recordingLogger();
    try {
      await Promise.all(nodes.map((node) => node.config('SET', 'maxmemory-policy', 'allkeys-lru')));
      await env.newClient({ logger });
    } finally {
      await Promise.all(nodes.map((node, i) => node.config('SET', 'maxmemory-policy', before[i]!)));
    }
    expect(logger.warnings).toEqual([
      [
        `Redis maxmemory-policy is "allkeys-lru"; it should be "noeviction": when Redis is full it may evict Durabull's runs, histories and queued tasks`,
        { maxmemoryPolicy: 'allkeys-lru' },
      ],
    ]);
  });
});
