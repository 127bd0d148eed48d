import { randomBytes } from 'node:crypto';
import {
  Activity,
  ActivityCancellationType,
  ActivityError,
  ActivityNotFoundError,
  AesGcmEncryptionCodec,
  ApplicationError,
  AsyncActivityCancelledError,
  CompleteAsyncError,
  EventType,
  IllegalStateError,
  TimeoutError,
  WorkflowDefn,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { ActivityInfo, ActivityOptions, HistoryEvent, Worker } from '@durabull/sdk';
import { ActivityEnvironment, TestEnvironment } from '@durabull/testing';

/** What each attempt of `deferred` saw, by `<key>#<attempt>`. */
const attempts = new Map<string, ActivityInfo>();

class Deferred {
  /** Hands its task token over and ends without completing: the attempt stays open. */
  @Activity({ name: 'deferred' })
  async deferred(key: string): Promise<string> {
    const info = activity.info();
    attempts.set(`${key}#${info.attempt}`, info);
    activity.raiseCompleteAsync();
  }

  /** Completes normally: another activity may run while async ones wait. */
  @Activity({ name: 'plain' })
  async plain(text: string): Promise<string> {
    return `plain ${text}`;
  }
}

interface Plan {
  options?: Partial<Pick<ActivityOptions, 'startToCloseTimeout' | 'heartbeatTimeout' | 'scheduleToCloseTimeout' | 'taskQueue' | 'activityId' | 'cancellationType'>> & {
    maximumAttempts?: number;
  };
  /** Cancel the activity after this many ms. */
  cancelAfter?: number;
  /** Also run this many `deferred` activities (keys `<key>-<i>`) and a `plain` one, all at once. */
  parallel?: number;
}

/** Runs `deferred(key)` and reports how it ended, as text. */
@WorkflowDefn()
class AwaitDeferred {
  @WorkflowRun()
  async run(key: string, plan: Plan): Promise<string> {
    const { maximumAttempts = 1, ...options } = plan.options ?? {};
    const activityOptions = { startToCloseTimeout: '10s', retryPolicy: { maximumAttempts, initialInterval: 10 }, ...options };
    if (plan.parallel) {
      const results = await Promise.all([
        ...Array.from({ length: plan.parallel }, (_, i) => workflow.executeActivity(Deferred.prototype.deferred, `${key}-${i}`, activityOptions)),
        workflow.executeActivity(Deferred.prototype.plain, key, activityOptions),
      ]);
      return results.join(', ');
    }
    const handle = workflow.startActivity(Deferred.prototype.deferred, key, activityOptions);
    if (plan.cancelAfter !== undefined) {
      await workflow.sleep(plan.cancelAfter);
      handle.cancel();
    }
    try {
      return `result: ${JSON.stringify(await handle)}`;
    } catch (err) {
      const e = err as ActivityError;
      const cause = e.cause as Error & { details?: unknown[] };
      return `${e.constructor.name}: ${e.message} / ${cause.constructor.name}: ${cause.message} / ${e.retryState}` +
        (cause.details?.length ? ` / details ${JSON.stringify(cause.details)}` : '') +
        (cause instanceof TimeoutError ? ` / ${cause.type} ${JSON.stringify(cause.lastHeartbeatDetails)}` : '');
    }
  }
}

const ATTEMPT_NOT_FOUND = 'invalid activityID or activity already timed out or invoking workflow is completed';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('async activity completion', () => {
  let env: TestEnvironment;
  let worker: Worker;
  let running: Promise<void> | undefined;
  let stop: () => void;

  beforeEach(async () => {
    attempts.clear();
    env = await TestEnvironment.create();
  });
  afterEach(async () => {
    stop?.();
    await running;
    running = undefined;
    await env.teardown();
  });

  /** Starts a worker that runs until the test ends. */
  function startWorker(options: { maxConcurrentActivityTaskExecutions?: number } = {}): Worker {
    worker = env.newWorker({ taskQueue: 'q', workflows: [AwaitDeferred], activities: [new Deferred()], ...options });
    let release!: () => void;
    const until = new Promise<void>((resolve) => (release = resolve));
    stop = release;
    running = worker.runUntil(until);
    return worker;
  }

  async function start(key: string, plan: Plan = {}) {
    return env.client.startWorkflow(AwaitDeferred, { args: [key, plan], id: `wf-${key}`, taskQueue: 'q' });
  }

  /** The info of attempt `attempt` of `deferred(key)`, once it ran. */
  async function attemptOf(key: string, attempt = 1): Promise<ActivityInfo> {
    for (let waited = 0; waited < 10_000; waited += 10) {
      const info = attempts.get(`${key}#${attempt}`);
      if (info) return info;
      await sleep(10);
    }
    throw new Error(`attempt ${attempt} of ${key} never ran`);
  }

  const activityEvents = (history: HistoryEvent[]) =>
    history.filter((e) => e.eventType.startsWith('ActivityTask')).map((e) => ({ type: e.eventType, attributes: e.attributes }));

  async function rejection(call: Promise<unknown>): Promise<Error> {
    try {
      await call;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a rejection');
  }

  it('completes by task token: the worker reports nothing, the handle records ActivityTaskCompleted with its identity', async () => {
    startWorker();
    const handle = await start('a');
    const info = await attemptOf('a');
    expect(typeof info.taskToken).toBe('string');
    // Nothing is reported for the attempt: it stays open.
    await sleep(200);
    expect((await handle.fetchHistory()).map((e) => e.eventType)).not.toContain(EventType.ActivityTaskStarted);

    await env.client.getAsyncActivityHandle(info.taskToken).complete({ approved: true });
    expect(await handle.result()).toBe('result: {"approved":true}');
    expect(activityEvents(await handle.fetchHistory())).toEqual([
      { type: EventType.ActivityTaskScheduled, attributes: expect.objectContaining({ activityId: '1', activityType: 'deferred' }) },
      { type: EventType.ActivityTaskStarted, attributes: expect.objectContaining({ scheduledEventId: 5, attempt: 1, identity: worker.options.identity }) },
      {
        type: EventType.ActivityTaskCompleted,
        attributes: expect.objectContaining({ scheduledEventId: 5, startedEventId: 6, identity: env.client.identity }),
      },
    ]);
    // The token is spent: a second completion finds nothing.
    const again = await rejection(env.client.getAsyncActivityHandle(info.taskToken).complete('twice'));
    expect(again).toBeInstanceOf(ActivityNotFoundError);
    expect(again.message).toBe('workflow execution already completed');
  });

  it('frees the slot: with one activity slot, three async activities and a plain one all run', async () => {
    startWorker({ maxConcurrentActivityTaskExecutions: 1 });
    const handle = await start('slots', { parallel: 3 });
    const infos = await Promise.all([0, 1, 2].map((i) => attemptOf(`slots-${i}`)));
    for (const [i, info] of infos.entries()) await env.client.getAsyncActivityHandle(info.taskToken).complete(`done ${i}`);
    expect(await handle.result()).toBe('done 0, done 1, done 2, plain slots');
  });

  it('encodes the token from the namespace, run, scheduled event id, attempt and activity id', async () => {
    startWorker();
    const handle = await start('token');
    const info = await attemptOf('token');
    const decoded = JSON.parse(Buffer.from(info.taskToken, 'base64url').toString('utf8'));
    expect(decoded).toEqual([1, env.namespace, 'wf-token', handle.runId ?? (await handle.describe()).runId, 5, 1, '1']);
    const asyncHandle = env.client.getAsyncActivityHandle(info.taskToken);
    expect({ workflowId: asyncHandle.workflowId, activityId: asyncHandle.activityId, taskToken: asyncHandle.taskToken }).toEqual({
      workflowId: 'wf-token',
      activityId: '1',
      taskToken: info.taskToken,
    });
    await asyncHandle.complete();
    expect(await handle.result()).toBe('result: undefined');
  });

  it('fails by task token: a non-retryable failure closes the activity with ActivityTaskFailed', async () => {
    startWorker();
    const handle = await start('fail');
    const info = await attemptOf('fail');
    await env.client.getAsyncActivityHandle(info.taskToken).fail(ApplicationError.nonRetryable('declined', 'Declined', 'by a human'));
    expect(await handle.result()).toBe(
      'ActivityError: Activity task failed / ApplicationError: declined / NON_RETRYABLE_FAILURE / details ["by a human"]',
    );
    const events = activityEvents(await handle.fetchHistory());
    expect(events.map((e) => e.type)).toEqual([EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskFailed]);
    expect(events[2]!.attributes).toMatchObject({ identity: env.client.identity, retryState: 'NON_RETRYABLE_FAILURE', scheduledEventId: 5, startedEventId: 6 });
  });

  it('a retryable failure starts another attempt with a new token; the old one is then stale', async () => {
    startWorker();
    const handle = await start('retry', { options: { maximumAttempts: 3 } });
    const first = await attemptOf('retry', 1);
    const firstHandle = env.client.getAsyncActivityHandle(first.taskToken);
    await firstHandle.heartbeat('halfway', 50);
    await firstHandle.fail(new Error('try again'));
    const second = await attemptOf('retry', 2);
    expect(second.taskToken).not.toBe(first.taskToken);
    // The next attempt reads the details heartbeated through the handle.
    expect(second.heartbeatDetails).toEqual(['halfway', 50]);

    for (const call of [firstHandle.complete('late'), firstHandle.heartbeat(), firstHandle.fail(new Error('late'))]) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(ActivityNotFoundError);
      expect(error.message).toBe(ATTEMPT_NOT_FOUND);
      expect(error).toMatchObject({ workflowId: 'wf-retry', activityId: '1' });
    }

    await env.client.getAsyncActivityHandle(second.taskToken).complete('second');
    expect(await handle.result()).toBe('result: "second"');
    const events = activityEvents(await handle.fetchHistory());
    expect(events.map((e) => e.type)).toEqual([EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskCompleted]);
    expect(events[1]!.attributes).toMatchObject({ attempt: 2, lastFailure: { message: 'try again', applicationFailureInfo: { type: 'Error' } } });
  });

  it('heartbeats by token and by id keep a heartbeat timeout from firing', async () => {
    startWorker();
    const handle = await start('hb', { options: { heartbeatTimeout: 300 } });
    const info = await attemptOf('hb');
    const byToken = env.client.getAsyncActivityHandle(info.taskToken);
    const byId = env.client.getAsyncActivityHandle({ workflowId: 'wf-hb', activityId: '1' });
    for (let i = 0; i < 6; i++) {
      await (i % 2 === 0 ? byToken : byId).heartbeat('beat', i);
      await sleep(120);
    }
    await byToken.complete('alive');
    expect(await handle.result()).toBe('result: "alive"');
  });

  it('the attempt\'s timeouts still apply: a start-to-close timeout retries it, and the old token is stale', async () => {
    startWorker();
    const handle = await start('stc', { options: { startToCloseTimeout: 300, maximumAttempts: 2 } });
    const first = await attemptOf('stc', 1);
    const second = await attemptOf('stc', 2);
    const stale = await rejection(env.client.getAsyncActivityHandle(first.taskToken).complete('too late'));
    expect(stale).toBeInstanceOf(ActivityNotFoundError);
    expect(stale.message).toBe(ATTEMPT_NOT_FOUND);
    // The second attempt times out too: the activity closes with ActivityTaskTimedOut.
    expect(await handle.result()).toBe(
      'ActivityError: Activity task timed out / TimeoutError: activity StartToClose timeout / MAXIMUM_ATTEMPTS_REACHED / START_TO_CLOSE []',
    );
    expect(second.attempt).toBe(2);
    const events = activityEvents(await handle.fetchHistory());
    expect(events.map((e) => e.type)).toEqual([EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskTimedOut]);
    expect(events[1]!.attributes).toMatchObject({ attempt: 2, identity: worker.options.identity });
  });

  it('a heartbeat timeout fires without heartbeats, carrying the last details sent through the handle', async () => {
    startWorker();
    const handle = await start('hbto', { options: { heartbeatTimeout: 300 } });
    const info = await attemptOf('hbto');
    await env.client.getAsyncActivityHandle(info.taskToken).heartbeat('last words');
    expect(await handle.result()).toBe(
      'ActivityError: Activity task timed out / TimeoutError: activity Heartbeat timeout / MAXIMUM_ATTEMPTS_REACHED / HEARTBEAT ["last words"]',
    );
  });

  it('a schedule-to-close timeout closes the activity while it waits', async () => {
    startWorker();
    const handle = await start('s2c', { options: { scheduleToCloseTimeout: 300, startToCloseTimeout: '10s', maximumAttempts: 5 } });
    const info = await attemptOf('s2c');
    expect(await handle.result()).toBe(
      'ActivityError: Activity task timed out / TimeoutError: activity ScheduleToClose timeout / TIMEOUT / SCHEDULE_TO_CLOSE []',
    );
    const error = await rejection(env.client.getAsyncActivityHandle(info.taskToken).complete());
    expect(error.message).toBe('workflow execution already completed');
  });

  it('cancellation reaches the handle: heartbeat records and then rejects, reportCancellation closes it as cancelled', async () => {
    startWorker();
    const handle = await start('cancel', { cancelAfter: 100, options: { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } });
    const info = await attemptOf('cancel');
    const asyncHandle = env.client.getAsyncActivityHandle(info.taskToken);
    const early = await rejection(asyncHandle.reportCancellation());
    expect(early).toBeInstanceOf(IllegalStateError);
    expect(early.message).toBe('unable to mark activity as canceled without activity being request canceled first');

    let cancelled: Error | undefined;
    for (let i = 0; i < 100 && !cancelled; i++) {
      await asyncHandle.heartbeat('working', i).catch((error: Error) => (cancelled = error));
      if (!cancelled) await sleep(20);
    }
    expect(cancelled).toBeInstanceOf(AsyncActivityCancelledError);
    expect(cancelled).toMatchObject({ message: 'Activity cancelled', workflowId: 'wf-cancel', activityId: '1' });

    await asyncHandle.reportCancellation({ reason: 'stopped' });
    expect(await handle.result()).toBe(
      'ActivityError: Activity cancelled / CancelledError: Cancelled / CANCEL_REQUESTED / details [{"reason":"stopped"}]',
    );
    const events = activityEvents(await handle.fetchHistory());
    expect(events.map((e) => e.type)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskCancelRequested,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCanceled,
    ]);
    expect(events[3]!.attributes).toMatchObject({ identity: env.client.identity, scheduledEventId: 5 });
  });

  it('completes, fails and cancels by id (the current run when no run id is given)', async () => {
    startWorker();
    const completed = await start('id-complete');
    await attemptOf('id-complete');
    await env.client.getAsyncActivityHandle({ workflowId: 'wf-id-complete', activityId: '1' }).complete('by id');
    expect(await completed.result()).toBe('result: "by id"');

    const failed = await start('id-fail');
    await attemptOf('id-fail');
    const runId = (await failed.describe()).runId;
    await env.client.getAsyncActivityHandle({ workflowId: 'wf-id-fail', runId, activityId: '1' }).fail(ApplicationError.nonRetryable('no'));
    expect(await failed.result()).toBe('ActivityError: Activity task failed / ApplicationError: no / NON_RETRYABLE_FAILURE');

    const cancelled = await start('id-cancel', { cancelAfter: 100, options: { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } });
    await attemptOf('id-cancel');
    const byId = env.client.getAsyncActivityHandle({ workflowId: 'wf-id-cancel', activityId: '1' });
    await expect(byId.reportCancellation()).rejects.toThrow(IllegalStateError);
    for (let i = 0; i < 100; i++) {
      const error = await byId.heartbeat().then(() => undefined, (e: Error) => e);
      if (error) {
        expect(error).toBeInstanceOf(AsyncActivityCancelledError);
        break;
      }
      await sleep(20);
    }
    await byId.reportCancellation();
    expect(await cancelled.result()).toBe('ActivityError: Activity cancelled / CancelledError: Cancelled / CANCEL_REQUESTED');
  });

  it('completing by id an activity no worker started fabricates its ActivityTaskStarted; failing or heartbeating it is refused', async () => {
    startWorker();
    const handle = await start('unstarted', { options: { taskQueue: 'nobody', activityId: 'approval' } });
    // Wait for the activity to be scheduled (the workflow task completed).
    for (let i = 0; i < 500 && !(await handle.fetchHistory()).some((e) => e.eventType === EventType.ActivityTaskScheduled); i++) await sleep(10);
    const byId = env.client.getAsyncActivityHandle({ workflowId: 'wf-unstarted', activityId: 'approval' });
    for (const call of [byId.fail(new Error('no')), byId.heartbeat('x'), byId.reportCancellation()]) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(ActivityNotFoundError);
      expect(error.message).toBe(ATTEMPT_NOT_FOUND);
    }
    await byId.complete('approved');
    expect(await handle.result()).toBe('result: "approved"');
    const events = activityEvents(await handle.fetchHistory());
    expect(events).toEqual([
      { type: EventType.ActivityTaskScheduled, attributes: expect.objectContaining({ activityId: 'approval', taskQueue: 'nobody' }) },
      { type: EventType.ActivityTaskStarted, attributes: expect.objectContaining({ attempt: 1, identity: env.client.identity, scheduledEventId: 5 }) },
      { type: EventType.ActivityTaskCompleted, attributes: expect.objectContaining({ identity: env.client.identity, startedEventId: 6 }) },
    ]);
    // Its queued task was withdrawn: nothing is left for the queue.
    const queued = await env.client.engine.dispatcher.queue(env.client.engine.keys.taskQueuePrefix('nobody'), 'activity').getJobCounts();
    expect(queued).toMatchObject({ waiting: 0, delayed: 0, active: 0 });
  });

  it('refuses an unknown activity id, an unknown workflow id or run, a closed run, a malformed token and another namespace\'s token', async () => {
    startWorker();
    const handle = await start('refusals');
    const info = await attemptOf('refusals');
    const runId = (await handle.describe()).runId;

    const unknownActivity = await rejection(env.client.getAsyncActivityHandle({ workflowId: 'wf-refusals', activityId: '7' }).complete());
    expect(unknownActivity).toBeInstanceOf(ActivityNotFoundError);
    expect(unknownActivity).toMatchObject({
      message: 'cannot find pending activity with ActivityID 7, check workflow execution history for more details',
      workflowId: 'wf-refusals',
      runId,
      activityId: '7',
    });

    const unknownWorkflow = await rejection(env.client.getAsyncActivityHandle({ workflowId: 'nope', activityId: '1' }).heartbeat());
    expect(unknownWorkflow).toBeInstanceOf(ActivityNotFoundError);
    expect(unknownWorkflow.message).toBe('workflow not found for ID: nope');

    const unknownRun = await rejection(env.client.getAsyncActivityHandle({ workflowId: 'wf-refusals', runId: 'no-such-run', activityId: '1' }).complete());
    expect(unknownRun).toBeInstanceOf(ActivityNotFoundError);
    expect(unknownRun.message).toBe('Workflow execution not found: workflowId="wf-refusals" runId="no-such-run"');

    expect(() => env.client.getAsyncActivityHandle('not a token')).toThrow(
      new TypeError('Invalid task token "not a token": error deserializing task token'),
    );
    expect(() => env.client.getAsyncActivityHandle(Buffer.from('[2]').toString('base64url'))).toThrow(TypeError);
    expect(() => env.client.getAsyncActivityHandle({ workflowId: 'wf-refusals' } as never)).toThrow(
      new TypeError('Invalid activityId: undefined (a non-empty string)'),
    );
    expect(() => env.client.getAsyncActivityHandle({ workflowId: 'w', activityId: '1', taskToken: 'x' } as never)).toThrow(
      new TypeError('Unknown async activity handle option(s): taskToken'),
    );

    const other = await TestEnvironment.create();
    try {
      expect(() => other.client.getAsyncActivityHandle(info.taskToken)).toThrow(IllegalStateError);
      expect(() => other.client.getAsyncActivityHandle(info.taskToken)).toThrow(
        `Operation requested with a token from a different namespace. (token namespace "${env.namespace}", client namespace "${other.namespace}")`,
      );
    } finally {
      await other.teardown();
    }

    await handle.terminate('done');
    const closed = await rejection(env.client.getAsyncActivityHandle(info.taskToken).complete());
    expect(closed).toBeInstanceOf(ActivityNotFoundError);
    expect(closed.message).toBe('workflow execution already completed');
  });

  it('raiseCompleteAsync() outside an activity is an IllegalStateError; it throws a CompleteAsyncError inside one', async () => {
    expect(() => activity.raiseCompleteAsync()).toThrow(new IllegalStateError('activity.raiseCompleteAsync() may only be called from an activity'));
    const testEnv = new ActivityEnvironment();
    await expect(testEnv.run(() => activity.raiseCompleteAsync())).rejects.toBeInstanceOf(CompleteAsyncError);
    expect(testEnv.info.taskToken).toBe('test-task-token');
  });
});

describe('async activity completion with codecs and limits', () => {
  let env: TestEnvironment;
  afterEach(() => env.teardown());

  it('encodes what the handle sends with the client\'s codecs', async () => {
    const codec = new AesGcmEncryptionCodec({ keys: { k1: randomBytes(32) }, encryptWith: 'k1' });
    env = await TestEnvironment.create({ dataConverter: { payloadCodecs: [codec] } });
    attempts.clear();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [AwaitDeferred], activities: [new Deferred()] });
    const handle = await env.client.startWorkflow(AwaitDeferred, { args: ['secret', {}], id: 'wf-secret', taskQueue: 'q' });
    const result = await worker.runUntil(async () => {
      for (; !attempts.has('secret#1'); ) await sleep(10);
      await env.client.getAsyncActivityHandle(attempts.get('secret#1')!.taskToken).complete('card-4111');
      return handle.result();
    });
    expect(result).toBe('result: "card-4111"');
    const completed = (await handle.fetchHistory()).find((e) => e.eventType === EventType.ActivityTaskCompleted)!;
    expect(JSON.stringify(completed.attributes)).not.toContain('card-4111');
    expect(completed.attributes).toMatchObject({ result: [{ metadata: { encoding: 'binary/encrypted' } }] });
  });

  it('a result over the payload limit fails the activity (non-retryable ServerError); heartbeat details over it are refused', async () => {
    env = await TestEnvironment.create({ limits: { payloadBytes: 4_096, payloadBytesWarning: 2_048 } });
    attempts.clear();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [AwaitDeferred], activities: [new Deferred()] });
    const handle = await env.client.startWorkflow(AwaitDeferred, { args: ['big', { options: { maximumAttempts: 3 } }], id: 'wf-big', taskQueue: 'q' });
    const result = await worker.runUntil(async () => {
      for (; !attempts.has('big#1'); ) await sleep(10);
      const asyncHandle = env.client.getAsyncActivityHandle(attempts.get('big#1')!.taskToken);
      await expect(asyncHandle.heartbeat('y'.repeat(5_000))).rejects.toThrow('Activity 1 heartbeat details is 4.93 KiB, over the 4 KiB payload limit');
      await asyncHandle.complete('x'.repeat(5_000));
      return handle.result();
    });
    expect(result).toBe(
      'ActivityError: Activity task failed / ServerError: Activity 1 result is 4.93 KiB, over the 4 KiB payload limit / NON_RETRYABLE_FAILURE',
    );
  });
});
