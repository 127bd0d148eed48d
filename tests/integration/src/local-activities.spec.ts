import { randomBytes } from 'node:crypto';
import {
  Activity,
  ActivityCancellationType,
  AesGcmEncryptionCodec,
  ActivityError,
  ApplicationError,
  CancelledError,
  EventType,
  Replayer,
  RetryState,
  TimeoutError,
  TimeoutType,
  WorkflowDefn,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, LocalActivityOptions } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

/** Activities that record each call: its attempt and whether it ran as a local activity. */
class Local {
  calls: Array<{ name: string; attempt: number; isLocal: boolean }> = [];

  private record(name: string) {
    const { attempt, isLocal } = activity.info();
    this.calls.push({ name, attempt, isLocal });
    return attempt;
  }

  @Activity()
  async greet(name: string): Promise<string> {
    this.record('greet');
    return `Hello, ${name}`;
  }

  @Activity()
  async failsUntil(succeedOnAttempt: number): Promise<string> {
    const attempt = this.record('failsUntil');
    if (attempt < succeedOnAttempt) throw new ApplicationError(`attempt ${attempt} failed`, { type: 'Flaky' });
    return `succeeded on attempt ${attempt}`;
  }

  @Activity()
  async big(bytes: number): Promise<string> {
    this.record('big');
    return 'x'.repeat(bytes);
  }

  @Activity()
  async completesLater(): Promise<string> {
    this.record('completesLater');
    activity.raiseCompleteAsync();
  }

  @Activity()
  async rejects(): Promise<never> {
    this.record('rejects');
    throw ApplicationError.nonRetryable('bad input', 'BadInput');
  }

  @Activity()
  async sleeps(ms: number): Promise<string> {
    this.record('sleeps');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      activity.cancellationSignal().addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return activity.isCancelled() ? 'stopped' : 'done';
  }
}

/** Waits up to `ms` for its cancellation, which it obeys (throws the signal's CancelledError). */
class Obedient {
  events: string[] = [];

  @Activity()
  async waitsForCancel(ms: number): Promise<string> {
    this.events.push('started');
    const signal = activity.cancellationSignal();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (!signal.aborted) return 'finished';
    this.events.push('aborted');
    throw signal.reason;
  }
}

/** Runs one local activity, without catching: a cancellation cancels the workflow. */
@WorkflowDefn()
class Cancellable {
  @WorkflowRun()
  async run(cancellationType: ActivityCancellationType): Promise<string> {
    return workflow.executeLocalActivity(Obedient.prototype.waitsForCancel, 5_000, { startToCloseTimeout: '10s', cancellationType });
  }
}

/** What a workflow reports about the error a local activity rejected with. */
interface ErrorReport {
  error: string;
  message: string;
  retryState?: RetryState;
  activityType?: string;
  cause?: { error: string; message: string; type?: string; timeoutType?: TimeoutType };
}

function report(error: unknown): ErrorReport {
  if (!(error instanceof ActivityError)) return { error: (error as Error).constructor.name, message: (error as Error).message };
  const cause = error.cause as Error;
  return {
    error: 'ActivityError',
    message: error.message,
    retryState: error.retryState,
    activityType: error.activityType,
    cause: {
      error: cause.constructor.name,
      message: cause.message,
      type: cause instanceof ApplicationError ? cause.type : undefined,
      timeoutType: cause instanceof TimeoutError ? cause.type : undefined,
    },
  };
}

interface Call {
  name: 'greet' | 'failsUntil' | 'rejects' | 'sleeps' | 'big' | 'completesLater';
  arg?: unknown;
  options: LocalActivityOptions;
}

/** Runs one local activity; returns its result, or a report of its error. */
@WorkflowDefn()
class CallLocal {
  @WorkflowRun()
  async run(call: Call): Promise<unknown> {
    try {
      return await workflow.executeLocalActivity(call.name, call.arg, call.options);
    } catch (error) {
      return report(error);
    }
  }
}

/** A local activity, then a durable timer (so a later workflow task replays the first). */
@WorkflowDefn()
class GreetThenSleep {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    const greeting = await workflow.executeLocalActivity(Local.prototype.greet, name, { startToCloseTimeout: '5s' });
    await workflow.sleep(20);
    return `${greeting}!`;
  }
}

/** Two local activities at once; how far the workflow clock moved while they ran. */
@WorkflowDefn()
class TwoAtOnce {
  @WorkflowRun()
  async run(): Promise<{ results: string[]; elapsed: number }> {
    const before = workflow.now().getTime();
    const results = await Promise.all([
      workflow.executeLocalActivity(Local.prototype.sleeps, 300, { startToCloseTimeout: '5s' }),
      workflow.executeLocalActivity(Local.prototype.sleeps, 20, { startToCloseTimeout: '5s' }),
    ]);
    return { results, elapsed: workflow.now().getTime() - before };
  }
}

/** Starts a local activity and cancels it in the same activation. */
@WorkflowDefn()
class CancelAtOnce {
  @WorkflowRun()
  async run(): Promise<ErrorReport | string> {
    const handle = workflow.startLocalActivity(Local.prototype.sleeps, 5_000, {
      startToCloseTimeout: '10s',
      cancellationType: ActivityCancellationType.TRY_CANCEL,
    });
    handle.cancel();
    try {
      return await handle;
    } catch (error) {
      return report(error);
    }
  }
}

/** Calls executeLocalActivity with bad options: the message of what it throws. */
@WorkflowDefn()
class BadOptions {
  @WorkflowRun()
  async run(options: Record<string, unknown>): Promise<string> {
    try {
      await workflow.executeLocalActivity(Local.prototype.greet, 'x', options as LocalActivityOptions);
      return 'accepted';
    } catch (error) {
      return `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
  }
}

const markerData = (event: HistoryEvent) => (event.attributes as { details: { data: [{ data: Record<string, unknown> }] } }).details.data[0].data;
const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);

describe('local activities', () => {
  let env: TestEnvironment;
  let activities: Local;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    activities = new Local();
  });
  afterEach(() => env.teardown());

  async function run<T>(
    workflowClass: abstract new (...args: any[]) => unknown,
    arg: unknown,
    options: { taskTimeout?: number; maxCachedWorkflows?: number } = {},
  ): Promise<{ result: T; history: HistoryEvent[] }> {
    const worker = env.newWorker({
      taskQueue: 'q',
      workflows: [CallLocal, GreetThenSleep, CancelAtOnce, BadOptions, TwoAtOnce],
      activities: [activities],
      maxCachedWorkflows: options.maxCachedWorkflows,
    });
    const start = { id: 'local', taskQueue: 'q', taskTimeout: options.taskTimeout };
    const startWorkflow = env.client.startWorkflow.bind(env.client) as (...args: unknown[]) => ReturnType<typeof env.client.startWorkflow>;
    const handle = await (arg === undefined ? startWorkflow(workflowClass, start) : startWorkflow(workflowClass, arg, start));
    const result = (await worker.runUntil(handle.result())) as T;
    return { result, history: await handle.fetchHistory() };
  }

  it('records the result in a core_local_activity marker, with no activity task events', async () => {
    const { result, history } = await run(CallLocal, { name: 'greet', arg: 'World', options: { startToCloseTimeout: '5s' } });
    expect(result).toBe('Hello, World');
    expect(activities.calls).toEqual([{ name: 'greet', attempt: 1, isLocal: true }]);
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.WorkflowExecutionCompleted,
    ]);
    const marker = history[4]!;
    expect(marker.attributes).toEqual({
      markerName: 'core_local_activity',
      details: {
        data: [
          {
            metadata: { encoding: 'json/plain' },
            data: {
              seq: 1,
              attempt: 1,
              activity_id: '1',
              activity_type: 'greet',
              complete_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
              backoff: null,
              original_schedule_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            },
          },
        ],
        result: [{ metadata: { encoding: 'json/plain' }, data: 'Hello, World' }],
      },
      workflowTaskCompletedEventId: 4,
    });
    // complete_time: the workflow task's start plus the run time (the workflow clock moves to it).
    const taskStart = Date.parse(history[2]!.eventTime);
    expect(Date.parse(markerData(marker)['complete_time'] as string)).toBeGreaterThanOrEqual(taskStart);
  });

  it('rejects with an ActivityError whose cause is the activity error, recorded as the marker failure', async () => {
    const { result, history } = await run(CallLocal, { name: 'rejects', options: { startToCloseTimeout: '5s' } });
    expect(result).toEqual({
      error: 'ActivityError',
      message: 'Activity task failed',
      retryState: RetryState.NON_RETRYABLE_FAILURE,
      activityType: 'rejects',
      cause: { error: 'ApplicationError', message: 'bad input', type: 'BadInput' },
    });
    expect(activities.calls).toHaveLength(1);
    const marker = history.find((e) => e.eventType === EventType.MarkerRecorded)!;
    const attrs = marker.attributes as { details: Record<string, unknown>; failure: Record<string, unknown> };
    expect(Object.keys(attrs.details)).toEqual(['data']);
    expect(attrs.failure).toMatchObject({
      message: 'Activity task failed',
      activityFailureInfo: { activityType: 'rejects', activityId: '1', retryState: RetryState.NON_RETRYABLE_FAILURE },
      cause: { message: 'bad input', applicationFailureInfo: { type: 'BadInput', nonRetryable: true } },
    });
  });

  it('retries in the worker: one marker, with the attempt that succeeded, and no timer', async () => {
    const { result, history } = await run(CallLocal, {
      name: 'failsUntil',
      arg: 3,
      options: { startToCloseTimeout: '5s', retryPolicy: { initialInterval: 20, backoffCoefficient: 1 } },
    });
    expect(result).toBe('succeeded on attempt 3');
    expect(activities.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(types(history).filter((t) => t === EventType.MarkerRecorded || t.startsWith('Timer'))).toEqual([EventType.MarkerRecorded]);
    expect(markerData(history.find((e) => e.eventType === EventType.MarkerRecorded)!)).toMatchObject({ seq: 1, attempt: 3, backoff: null });
  });

  it('fails a local activity that tries to complete asynchronously, for good', async () => {
    const { result } = await run(CallLocal, { name: 'completesLater', options: { startToCloseTimeout: '5s' } });
    expect(result).toEqual({
      error: 'ActivityError',
      message: 'Activity task failed',
      retryState: RetryState.NON_RETRYABLE_FAILURE,
      activityType: 'completesLater',
      cause: {
        error: 'ApplicationError',
        message: 'Local activity completesLater cannot complete asynchronously (raiseCompleteAsync)',
        type: 'LocalActivityCompleteAsync',
      },
    });
    expect(activities.calls).toHaveLength(1);
  });

  it('gives up after maximumAttempts with MAXIMUM_ATTEMPTS_REACHED', async () => {
    const { result } = await run(CallLocal, {
      name: 'failsUntil',
      arg: 10,
      options: { startToCloseTimeout: '5s', retryPolicy: { initialInterval: 10, maximumAttempts: 2 } },
    });
    expect(result).toEqual({
      error: 'ActivityError',
      message: 'Activity task failed',
      retryState: RetryState.MAXIMUM_ATTEMPTS_REACHED,
      activityType: 'failsUntil',
      cause: { error: 'ApplicationError', message: 'attempt 2 failed', type: 'Flaky' },
    });
  });

  it('turns a backoff longer than localRetryThreshold into a durable timer, carrying the attempt on', async () => {
    const { result, history } = await run(CallLocal, {
      name: 'failsUntil',
      arg: 2,
      options: { startToCloseTimeout: '5s', localRetryThreshold: 50, retryPolicy: { initialInterval: 300, backoffCoefficient: 1 } },
    });
    expect(result).toBe('succeeded on attempt 2');
    expect(activities.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.TimerStarted,
      EventType.TimerFired,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.WorkflowExecutionCompleted,
    ]);
    const [first, second] = history.filter((e) => e.eventType === EventType.MarkerRecorded);
    expect(markerData(first!)).toMatchObject({ seq: 1, attempt: 1, activity_id: '1', backoff: '0.300s' });
    expect((first!.attributes as { failure: { message: string } }).failure.message).toBe('attempt 1 failed');
    expect(history[5]!.attributes).toMatchObject({ startToFireTimeout: 300 });
    // The attempts after the timer are a new local activity (sequence number), attempt carried on.
    expect(markerData(second!)).toMatchObject({ seq: 2, attempt: 2, activity_id: '2', backoff: null });
    expect(markerData(second!)['original_schedule_time']).toBe(markerData(first!)['original_schedule_time']);
  });

  it('times out an attempt at startToCloseTimeout and reports Local Activity timed out', async () => {
    const { result } = await run(CallLocal, {
      name: 'sleeps',
      arg: 2_000,
      options: { startToCloseTimeout: 100, retryPolicy: { maximumAttempts: 1 } },
    });
    expect(result).toEqual({
      error: 'ActivityError',
      message: 'Local Activity timed out',
      retryState: RetryState.MAXIMUM_ATTEMPTS_REACHED,
      activityType: 'sleeps',
      cause: { error: 'TimeoutError', message: 'Activity timed out', timeoutType: TimeoutType.START_TO_CLOSE },
    });
  });

  it('heartbeats the workflow task while a local activity outlasts the task timeout', async () => {
    const { result, history } = await run(CallLocal, { name: 'sleeps', arg: 2_500, options: { startToCloseTimeout: '10s' } }, { taskTimeout: 1_000 });
    expect(result).toBe('done');
    expect(activities.calls).toHaveLength(1);
    const eventTypes = types(history);
    expect(eventTypes).not.toContain(EventType.WorkflowTaskTimedOut);
    expect(eventTypes).not.toContain(EventType.WorkflowTaskFailed);
    // Tasks completed at about 0.8 s, 1.6 s and 2.4 s (heartbeats), then with the marker.
    const completed = eventTypes.filter((t) => t === EventType.WorkflowTaskCompleted).length;
    expect(completed).toBeGreaterThanOrEqual(3);
    expect(eventTypes.slice(-3)).toEqual([EventType.WorkflowTaskCompleted, EventType.MarkerRecorded, EventType.WorkflowExecutionCompleted]);
    const tasks = eventTypes.slice(1, -2);
    for (let i = 0; i < tasks.length; i += 3) {
      expect(tasks.slice(i, i + 3)).toEqual([EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted]);
    }
    // Every task went to the worker that runs the activity.
    const identities = new Set(history.filter((e) => e.eventType === EventType.WorkflowTaskStarted).map((e) => (e.attributes as { identity: string }).identity));
    expect(identities.size).toBe(1);
    // The heartbeat tasks replay: the marker resolves the activity in the task that recorded it.
    await new Replayer({ workflows: [CallLocal] }).replayWorkflow(history);
    expect(activities.calls).toHaveLength(1);
  });

  it('runs a local activity again when the worker that ran it heartbeated and died (no marker)', async () => {
    const { engine } = env.client;
    const handle = await env.client.startWorkflow(CallLocal, { name: 'greet', arg: 'again', options: { startToCloseTimeout: '5s' } }, {
      id: 'orphaned',
      taskQueue: 'q',
    });
    const ref = { workflowId: 'orphaned', runId: handle.runId! };
    // A worker of our own takes the first task, heartbeats it without a marker, and is gone: it
    // is not a live worker, so the next task goes to the task queue instead of being taken.
    await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'doomed-worker', 0);
    const reply = await engine.completeWorkflowTask(
      { ...ref, token: '1' },
      { identity: 'doomed-worker', workerId: 'doomed-worker', stickyTimeout: 0, fence: 3, commands: [], heartbeat: true },
    );
    expect(reply.nextTask).toBeUndefined();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CallLocal], activities: [activities] });
    expect(await worker.runUntil(handle.result())).toBe('Hello, again');
    expect(activities.calls).toEqual([{ name: 'greet', attempt: 1, isLocal: true }]);
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect((history[2]!.attributes as { identity: string }).identity).toBe('doomed-worker');
    expect(markerData(history[7]!)).toMatchObject({ seq: 1, attempt: 1 });
  });

  it('records concurrent local activities in the order they resolved, moving the workflow clock, and replays them', async () => {
    const { result, history } = await run<{ results: string[]; elapsed: number }>(TwoAtOnce, undefined);
    expect(result.results).toEqual(['done', 'done']);
    // The clock moves to each marker's complete_time: the task's start plus the activity's run time
    // (300 ms, less a ms or so: Node's timers count from the event loop's cached time, so a 300 ms
    // sleep can measure 299 ms by Date.now()).
    expect(result.elapsed).toBeGreaterThanOrEqual(295);
    const markers = history.filter((e) => e.eventType === EventType.MarkerRecorded).map((e) => markerData(e)['seq']);
    expect(markers).toEqual([2, 1]);
    expect(types(history).filter((t) => t === EventType.WorkflowTaskCompleted)).toHaveLength(1);
    await new Replayer({ workflows: [TwoAtOnce] }).replayWorkflow(history);
    expect(activities.calls).toHaveLength(2);
  });

  // Its own waits take over 4 s (the task timeout, then the 3 s activity again): 10 s leaves room for a loaded machine.
  it('stops local activities at worker shutdown: the task is left to time out and another worker runs them again', async () => {
    const handle = await env.client.startWorkflow(CallLocal, { name: 'sleeps', arg: 3_000, options: { startToCloseTimeout: '10s' } }, {
      id: 'shutdown',
      taskQueue: 'q',
      taskTimeout: 1_000,
    });
    const first = env.newWorker({ taskQueue: 'q', workflows: [CallLocal], activities: [activities], shutdownGraceTime: 100 });
    const running = first.run();
    while (activities.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const stopping = Date.now();
    await first.shutdown();
    await running;
    // The attempt's signal fired at the end of the grace time: the shutdown did not wait for it.
    expect(Date.now() - stopping).toBeLessThan(2_500);
    const second = env.newWorker({ taskQueue: 'q', workflows: [CallLocal], activities: [activities] });
    expect(await second.runUntil(handle.result())).toBe('done');
    expect(activities.calls.map((c) => c.name)).toEqual(['sleeps', 'sleeps']);
    const history = await handle.fetchHistory();
    expect(types(history).filter((t) => t === EventType.MarkerRecorded)).toHaveLength(1);
    expect(types(history)).not.toContain(EventType.WorkflowTaskFailed);
    expect(history.find((e) => e.eventType === EventType.WorkflowTaskTimedOut)?.attributes).toMatchObject({ timeoutType: 'START_TO_CLOSE' });
  }, 10_000);

  it('replays from the marker without running the activity again', async () => {
    // No cache: the task after the timer replays the whole history.
    const { result, history } = await run<string>(GreetThenSleep, 'Replay', { maxCachedWorkflows: 0 });
    expect(result).toBe('Hello, Replay!');
    expect(types(history).filter((t) => t === EventType.WorkflowTaskCompleted)).toHaveLength(2);
    expect(activities.calls).toHaveLength(1);
    await new Replayer({ workflows: [GreetThenSleep] }).replayWorkflow(history);
    expect(activities.calls).toHaveLength(1);
  });

  it('fails replay when the code runs another local activity than the marker records', async () => {
    const { history } = await run<string>(GreetThenSleep, 'Replay');
    @WorkflowDefn({ name: 'GreetThenSleep' })
    class Changed {
      @WorkflowRun()
      async run(): Promise<string> {
        await workflow.executeLocalActivity('farewell', 'x', { startToCloseTimeout: '5s' });
        return 'changed';
      }
    }
    await expect(new Replayer({ workflows: [Changed] }).replayWorkflow(history)).rejects.toThrow(
      "Activity type of recorded marker 'greet' does not match activity type of local activity command 'farewell'",
    );
  });

  it('cancels with TRY_CANCEL at once: a marker with the cancellation, the activity never runs', async () => {
    const { result, history } = await run(CancelAtOnce, undefined);
    expect(result).toEqual({
      error: 'ActivityError',
      message: 'Local Activity cancelled',
      retryState: RetryState.CANCEL_REQUESTED,
      activityType: 'sleeps',
      cause: { error: 'CancelledError', message: 'Cancelled' },
    });
    expect(activities.calls).toEqual([]);
    const marker = history.find((e) => e.eventType === EventType.MarkerRecorded)!;
    expect(markerData(marker)).toMatchObject({ seq: 1, attempt: 1, complete_time: null });
    expect((marker.attributes as { failure: { message: string } }).failure.message).toBe('Local Activity cancelled');
    expect(CancelledError).toBeDefined();
  });

  it('encodes the marker with the payload codecs: ciphertext in Redis, plain values for the code', async () => {
    const encrypted = await TestEnvironment.create({
      dataConverter: { payloadCodecs: [new AesGcmEncryptionCodec({ keys: { k1: randomBytes(32) }, encryptWith: 'k1' })] },
    });
    try {
      const worker = encrypted.newWorker({ taskQueue: 'q', workflows: [CallLocal], activities: [activities] });
      const handle = await encrypted.client.startWorkflow(CallLocal, { name: 'greet', arg: 'secret-7', options: { startToCloseTimeout: '5s' } }, {
        id: 'encrypted',
        taskQueue: 'q',
      });
      expect(await worker.runUntil(handle.result())).toBe('Hello, secret-7');
      const marker = (await handle.fetchHistory()).find((e) => e.eventType === EventType.MarkerRecorded)!;
      const details = (marker.attributes as { details: Record<string, Array<{ metadata: { encoding: string } }>> }).details;
      expect(details['data']![0]!.metadata.encoding).toBe('binary/encrypted');
      expect(details['result']![0]!.metadata.encoding).toBe('binary/encrypted');
      expect(JSON.stringify(marker.attributes)).not.toContain('secret-7');
    } finally {
      await encrypted.teardown();
    }
  });

  it('fails a local activity whose result is over the payload limit, without retrying it', async () => {
    const limited = await TestEnvironment.create({ limits: { payloadBytes: 4_096, payloadBytesWarning: 2_048 } });
    try {
      const worker = limited.newWorker({ taskQueue: 'q', workflows: [CallLocal], activities: [activities] });
      const handle = await limited.client.startWorkflow(CallLocal, { name: 'big', arg: 5_000, options: { startToCloseTimeout: '5s' } }, {
        id: 'big',
        taskQueue: 'q',
      });
      expect(await worker.runUntil(handle.result())).toEqual({
        error: 'ActivityError',
        message: 'Activity task failed',
        retryState: RetryState.NON_RETRYABLE_FAILURE,
        activityType: 'big',
        cause: { error: 'ServerError', message: 'Activity big result is 4.93 KiB, over the 4 KiB payload limit' },
      });
      expect(activities.calls).toHaveLength(1);
    } finally {
      await limited.teardown();
    }
  });

  it.each([ActivityCancellationType.TRY_CANCEL, ActivityCancellationType.WAIT_CANCELLATION_COMPLETED])(
    'cancels a running local activity when the workflow is cancelled (%s), through a heartbeat task',
    async (cancellationType) => {
      const obedient = new Obedient();
      const worker = env.newWorker({ taskQueue: 'q', workflows: [Cancellable], activities: [obedient] });
      const handle = await env.client.startWorkflow(Cancellable, cancellationType, { id: 'cancellable', taskQueue: 'q', taskTimeout: 1_000 });
      const error = await worker.runUntil(async () => {
        // Cancelled once the activity runs (the first workflow task holds the request back).
        while (obedient.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
        await handle.cancel();
        return handle.result().catch((e: unknown) => e);
      });
      expect(((error as Error).cause as Error).constructor.name).toBe('CancelledError');
      expect(obedient.events).toEqual(['started', 'aborted']);
      const history = await handle.fetchHistory();
      const eventTypes = types(history);
      // The request waited for the heartbeat task (0.8 s), which delivered it to the code.
      expect(eventTypes.slice(0, 5)).toEqual([
        EventType.WorkflowExecutionStarted,
        EventType.WorkflowTaskScheduled,
        EventType.WorkflowTaskStarted,
        EventType.WorkflowTaskCompleted,
        EventType.WorkflowExecutionCancelRequested,
      ]);
      expect(eventTypes.slice(-3)).toEqual([EventType.WorkflowTaskCompleted, EventType.MarkerRecorded, EventType.WorkflowExecutionCanceled]);
      expect(eventTypes).not.toContain(EventType.WorkflowTaskTimedOut);
      const marker = history.find((e) => e.eventType === EventType.MarkerRecorded)!;
      expect(marker.attributes).toMatchObject({
        failure: { message: 'Local Activity cancelled', activityFailureInfo: { retryState: RetryState.CANCEL_REQUESTED }, cause: { canceledFailureInfo: {} } },
      });
      await new Replayer({ workflows: [Cancellable] }).replayWorkflow(history);
      expect(obedient.events).toEqual(['started', 'aborted']);
    },
  );

  it.each([
    [{}, 'TypeError: Activity must have startToCloseTimeout or scheduleToCloseTimeout'],
    [{ startToCloseTimeout: '1s', taskQueue: 'elsewhere' }, 'TypeError: Unknown local activity option(s): taskQueue'],
    [{ startToCloseTimeout: '1s', localRetryThreshold: 'soon' }, 'localRetryThreshold'],
    [{ startToCloseTimeout: '1s', cancellationType: 'LATER' }, 'TypeError: Invalid cancellationType: "LATER"'],
    [{ startToCloseTimeout: '1s', args: ['y'] }, 'TypeError: Cannot pass both an argument and options.args to an activity'],
  ])('refuses bad options %j', async (options, message) => {
    const { result } = await run<string>(BadOptions, options);
    expect(result).toContain(message);
    expect(activities.calls).toEqual([]);
  });
});
