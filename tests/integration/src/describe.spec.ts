import {
  Activity,
  ActivityCancellationType,
  AesGcmEncryptionCodec,
  ApplicationError,
  CancelledError,
  EventType,
  PendingActivityState,
  TerminatedError,
  TimeoutError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { PendingActivityInfo, WorkflowExecutionDetails } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { randomBytes } from 'node:crypto';

/** Activities held open until the test releases them. */
let release: () => void = () => undefined;
let released = new Promise<void>((resolve) => (release = resolve));

class Desk {
  /** Heartbeats once, then waits for the test (whatever cancellation says). */
  @Activity({ name: 'describe-hold' })
  async hold(label: string): Promise<string> {
    activity.heartbeat(`${label} half way`, 50);
    await released;
    return label;
  }

  /** Fails its first attempt, succeeds after. */
  @Activity({ name: 'describe-flaky' })
  async flaky(): Promise<string> {
    if (activity.info().attempt === 1) throw new ApplicationError('first try', { type: 'Flaky' });
    return 'second try';
  }

  @Activity({ name: 'describe-echo' })
  async echo(text: string): Promise<string> {
    return text;
  }
}

/** One pending activity in each state: queued, running, in a retry's backoff, cancel requested. */
@WorkflowDefn({ name: 'DescribedBusy' })
class Busy {
  @WorkflowRun()
  async run(): Promise<string[]> {
    const queued = workflow.startActivity(Desk.prototype.echo, 'queued', { activityId: 'queued', taskQueue: 'nobody', startToCloseTimeout: '1h' });
    const running = workflow.startActivity(Desk.prototype.hold, 'running', { activityId: 'running', startToCloseTimeout: '1h' });
    const retrying = workflow.startActivity(Desk.prototype.flaky, {
      activityId: 'retrying',
      startToCloseTimeout: '1h',
      retryPolicy: { initialInterval: '1h', maximumAttempts: 3 },
    });
    const cancelled = workflow.startActivity(Desk.prototype.hold, 'cancelled', {
      activityId: 'cancelled',
      startToCloseTimeout: '1h',
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
    await workflow.sleep(300);
    cancelled.cancel();
    return Promise.all([queued, running, retrying, cancelled.catch(() => 'cancelled')]);
  }
}

@WorkflowDefn({ name: 'DescribedEnding' })
class Ending {
  @WorkflowRun()
  async run(how: 'complete' | 'fail' | 'wait'): Promise<{ said: string }> {
    if (how === 'fail') throw ApplicationError.nonRetryable('it failed', 'Planned', { code: 7 });
    if (how === 'wait') await workflow.sleep('1h');
    return { said: await workflow.executeActivity(Desk.prototype.echo, 'bye', { startToCloseTimeout: '5s' }) };
  }
}

/** Workflow code with a bug: every attempt of its workflow task fails until the bug is fixed. */
let bugFixed = false;
@WorkflowDefn({ name: 'DescribedBuggy' })
class Buggy {
  @WorkflowRun()
  async run(): Promise<string> {
    if (!bugFixed) throw new TypeError('a bug in workflow code');
    return 'fixed';
  }
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 8_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('describe(): memo, outcome, pending activities (TEMPORAL-SEMANTICS §20, §21)', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create({
      dataConverter: { payloadCodecs: [new AesGcmEncryptionCodec({ keys: { k1: randomBytes(32) }, encryptWith: 'k1' })] },
    });
    released = new Promise<void>((resolve) => (release = resolve));
  });
  afterEach(async () => {
    release();
    await env.teardown();
  });

  it('keeps a memo, encrypted in WorkflowExecutionStarted, and returns it decoded', async () => {
    const memo = { owner: 'ana@example.com', priority: 3, tags: ['vip', 'eu'], nested: { ok: true }, nothing: null };
    const handle = await env.client.startWorkflow(Ending, 'wait', { id: 'memo', taskQueue: 'describe', memo });
    expect((await handle.describe()).memo).toEqual(memo);

    const [started] = await handle.fetchHistory();
    const stored = (started!.attributes as { memo: { fields: Record<string, { metadata: Record<string, string> }> } }).memo;
    expect(Object.keys(stored.fields)).toEqual(['owner', 'priority', 'tags', 'nested', 'nothing']);
    expect(stored.fields['owner']!.metadata['encoding']).toBe('binary/encrypted');
    expect(JSON.stringify(stored)).not.toContain('ana@example.com');

    // A client without the codec cannot read it.
    const plain = await env.newClient({ dataConverter: {} });
    await expect(plain.getWorkflowHandle('memo').describe()).rejects.toThrow(new TypeError('Unknown payload encoding "binary/encrypted"'));

    const none = await env.client.startWorkflow(Ending, 'wait', { id: 'no-memo', taskQueue: 'describe' });
    expect((await none.describe()).memo).toEqual({});
    expect((await none.fetchHistory())[0]!.attributes).not.toHaveProperty('memo');
    await expect(env.client.startWorkflow(Ending, 'wait', { id: 'bad-memo', taskQueue: 'describe', memo: ['x'] as never })).rejects.toThrow(
      new TypeError('Invalid memo: ["x"] (an object of values by key)'),
    );
  });

  it('reports each pending activity of a running run in its state', async () => {
    const worker = env.newWorker({ taskQueue: 'describe', workflows: [Busy], activities: [new Desk()] });
    await worker.runUntil(async () => {
      const before = Date.now();
      const handle = await env.client.startWorkflow(Busy, { id: 'busy', taskQueue: 'describe' });
      const isSettled = (d: WorkflowExecutionDetails) => {
        const byId = Object.fromEntries(d.pendingActivities.map((a) => [a.activityId, a]));
        return (
          byId['running']?.heartbeatDetails !== undefined &&
          byId['retrying']?.attempt === 2 &&
          byId['cancelled']?.state === PendingActivityState.CANCEL_REQUESTED &&
          byId['cancelled']?.heartbeatDetails !== undefined
        );
      };
      const described = await eventually(() => handle.describe(), isSettled, 'every activity in its state', 3_000);
      const after = Date.now();

      expect(described).toMatchObject({ workflowId: 'busy', status: WorkflowExecutionStatus.RUNNING, memo: {}, pendingChildren: [] });
      expect(described).not.toHaveProperty('result');
      expect(described).not.toHaveProperty('failure');
      const [queued, running, retrying, cancelled] = described.pendingActivities as [PendingActivityInfo, PendingActivityInfo, PendingActivityInfo, PendingActivityInfo];
      expect(described.pendingActivities.map((a) => [a.activityId, a.activityType, a.state, a.attempt])).toEqual([
        ['queued', 'describe-echo', PendingActivityState.SCHEDULED, 1],
        ['running', 'describe-hold', PendingActivityState.STARTED, 1],
        ['retrying', 'describe-flaky', PendingActivityState.SCHEDULED, 2],
        ['cancelled', 'describe-hold', PendingActivityState.CANCEL_REQUESTED, 1],
      ]);

      // Queued: nothing has happened to it yet.
      expect(Object.keys(queued).sort()).toEqual(['activityId', 'activityType', 'attempt', 'maximumAttempts', 'scheduledTime', 'state']);
      expect(queued.maximumAttempts).toBe(0);

      // Running: started, with its heartbeat.
      expect(running.heartbeatDetails).toEqual(['running half way', 50]);
      for (const time of [running.scheduledTime, running.lastStartedTime!, running.lastHeartbeatTime!]) {
        expect(time).toBeInstanceOf(Date);
        expect(time.getTime()).toBeGreaterThanOrEqual(before - 1_000);
        expect(time.getTime()).toBeLessThanOrEqual(after + 1_000);
      }
      expect(running).not.toHaveProperty('lastFailure');
      expect(running).not.toHaveProperty('nextAttemptScheduleTime');

      // In its retry backoff: the next attempt, the last failure, when the next attempt is due.
      expect(retrying.maximumAttempts).toBe(3);
      expect(retrying.lastFailure).toBeInstanceOf(ApplicationError);
      expect([retrying.lastFailure!.message, (retrying.lastFailure as ApplicationError).type]).toEqual(['first try', 'Flaky']);
      const due = retrying.nextAttemptScheduleTime!.getTime();
      expect(due).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000);
      expect(due).toBeLessThanOrEqual(after + 3_600_000 + 1_000);
      expect(retrying).not.toHaveProperty('lastStartedTime');
      expect(retrying).not.toHaveProperty('heartbeatDetails');

      // Cancel requested wins over STARTED: the attempt still runs.
      expect(cancelled.lastStartedTime).toBeInstanceOf(Date);
      expect(cancelled.heartbeatDetails).toEqual(['cancelled half way', 50]);

      // The history has no event for any of this beyond the schedules and the cancel request.
      const types = (await handle.fetchHistory()).map((e) => e.eventType);
      expect(types.filter((t) => t.startsWith('Activity'))).toEqual([
        EventType.ActivityTaskScheduled,
        EventType.ActivityTaskScheduled,
        EventType.ActivityTaskScheduled,
        EventType.ActivityTaskScheduled,
        EventType.ActivityTaskCancelRequested,
      ]);

      await handle.terminate('done looking');
      release();
      const closed = await handle.describe();
      expect(closed.pendingActivities).toEqual([]);
      expect(closed.failure).toBeInstanceOf(TerminatedError);
      expect(closed.failure!.message).toBe('done looking');
    });
  });

  it('reports a workflow task that keeps failing: its attempt and the last failure, gone once it completes', async () => {
    bugFixed = false;
    const handle = await env.client.startWorkflow(Buggy, { id: 'buggy', taskQueue: 'q' });
    expect((await handle.describe()).pendingWorkflowTask).toMatchObject({ state: 'SCHEDULED', attempt: 1 });
    expect((await handle.describe()).pendingWorkflowTask?.lastFailure).toBeUndefined();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Buggy] });
    const result = await worker.runUntil(async () => {
      // Attempts 1 and 2 fail (the retry waits 1 s), attempt 3 is scheduled after 2 s.
      const failing = await eventually(() => handle.describe(), (d) => (d.pendingWorkflowTask?.attempt ?? 0) >= 2, 'a retried workflow task');
      bugFixed = true;
      return { failing, result: await handle.result() };
    });
    const task = result.failing.pendingWorkflowTask!;
    expect(task.lastFailureCause).toBe('WORKFLOW_WORKER_UNHANDLED_FAILURE');
    expect(task.lastFailure).toBeInstanceOf(ApplicationError);
    expect(task.lastFailure).toMatchObject({ message: 'a bug in workflow code', type: 'TypeError' });
    expect(task.scheduledTime).toBeInstanceOf(Date);
    expect(result.result).toBe('fixed');
    expect((await handle.describe()).pendingWorkflowTask).toBeUndefined();
  });

  it('reports a closed run\'s result or failure', async () => {
    const worker = env.newWorker({ taskQueue: 'describe', workflows: [Ending], activities: [new Desk()] });
    await worker.runUntil(async () => {
      const completed = await env.client.startWorkflow(Ending, 'complete', { id: 'completed', taskQueue: 'describe', memo: { kept: 'after close' } });
      await completed.result();
      expect(await completed.describe()).toMatchObject({
        status: WorkflowExecutionStatus.COMPLETED,
        result: { said: 'bye' },
        memo: { kept: 'after close' },
        pendingActivities: [],
        pendingChildren: [],
      });
      expect(await completed.describe()).not.toHaveProperty('failure');

      const failed = await env.client.startWorkflow(Ending, 'fail', { id: 'failed', taskQueue: 'describe' });
      await failed.result().catch(() => undefined);
      const failure = (await failed.describe()).failure as ApplicationError;
      expect(failure).toBeInstanceOf(ApplicationError);
      expect([failure.message, failure.type, failure.nonRetryable, failure.details]).toEqual(['it failed', 'Planned', true, [{ code: 7 }]]);
      expect(await failed.describe()).not.toHaveProperty('result');

      const cancelled = await env.client.startWorkflow(Ending, 'wait', { id: 'cancelled', taskQueue: 'describe' });
      await cancelled.cancel();
      await cancelled.result().catch(() => undefined);
      expect((await cancelled.describe()).failure).toBeInstanceOf(CancelledError);

      const timedOut = await env.client.startWorkflow(Ending, 'wait', { id: 'timed-out', taskQueue: 'describe', runTimeout: 300 });
      await timedOut.result().catch(() => undefined);
      expect((await timedOut.describe()).failure).toBeInstanceOf(TimeoutError);
    });
  });
});
