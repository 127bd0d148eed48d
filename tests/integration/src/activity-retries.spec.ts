import {
  Activity,
  ActivityError,
  ApplicationError,
  EventType,
  RetryState,
  TimeoutError,
  TimeoutType,
  WorkflowDefn,
  WorkflowFailureError,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, RetryPolicy } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class FlakyError extends Error {}

/** Activities whose behaviour per attempt is scripted by the workflow's input. */
class Scripted {
  calls: Array<{ name: string; attempt: number }> = [];

  @Activity({ name: 'fails_until' })
  async failsUntil(succeedOnAttempt: number): Promise<string> {
    const { attempt } = activity.info();
    this.calls.push({ name: 'fails_until', attempt });
    if (attempt < succeedOnAttempt) throw new FlakyError(`attempt ${attempt} failed`);
    return `succeeded on attempt ${attempt}`;
  }

  @Activity({ name: 'throws' })
  async throws(kind: string): Promise<never> {
    const { attempt } = activity.info();
    this.calls.push({ name: 'throws', attempt });
    switch (kind) {
      case 'non-retryable':
        throw ApplicationError.nonRetryable('cannot ever work', 'Fatal', { attempt });
      case 'listed-type':
        throw new ApplicationError('listed type', { type: 'Listed' });
      case 'type-prefix':
        throw new ApplicationError('only a prefix of a listed type', { type: 'List' });
      default:
        throw new FlakyError(`attempt ${attempt} failed`);
    }
  }

  @Activity({ name: 'sleeps' })
  async sleeps(ms: number): Promise<string> {
    this.calls.push({ name: 'sleeps', attempt: activity.info().attempt });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      activity.cancellationSignal().addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return activity.isCancelled() ? 'returned after the deadline' : 'done';
  }
}

interface Call {
  name: 'fails_until' | 'throws' | 'sleeps';
  arg: unknown;
  retryPolicy?: RetryPolicy;
  startToCloseTimeout?: number;
}

@WorkflowDefn()
class CallOne {
  @WorkflowRun()
  async run(call: Call): Promise<unknown> {
    return workflow.executeActivity(call.name, call.arg, {
      startToCloseTimeout: call.startToCloseTimeout ?? '10s',
      retryPolicy: call.retryPolicy,
    });
  }
}

const fast: RetryPolicy = { initialInterval: 10, backoffCoefficient: 1 };

describe('activity retries', () => {
  let env: TestEnvironment;
  let activities: Scripted;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    activities = new Scripted();
  });
  afterEach(() => env.teardown());

  async function run(call: Call): Promise<{ result?: unknown; error?: WorkflowFailureError; history: HistoryEvent[] }> {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CallOne], activities: [activities] });
    const handle = await env.client.startWorkflow(CallOne, call, { id: `call-${call.name}`, taskQueue: 'q' });
    const outcome = await worker.runUntil(
      handle.result().then(
        (result) => ({ result }),
        (error: WorkflowFailureError) => ({ error }),
      ),
    );
    return { ...outcome, history: await handle.fetchHistory() };
  }

  const activityEvents = (history: HistoryEvent[]) =>
    history.filter((e) => e.eventType.startsWith('ActivityTask')).map((e) => e.eventType);

  it('retries until success, recording only the final attempt and the previous failure', async () => {
    const { result, history } = await run({ name: 'fails_until', arg: 3, retryPolicy: fast });
    expect(result).toBe('succeeded on attempt 3');
    expect(activities.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(activityEvents(history)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCompleted,
    ]);
    const started = history.find((e) => e.eventType === EventType.ActivityTaskStarted)!;
    expect(started.attributes).toMatchObject({
      attempt: 3,
      lastFailure: {
        message: 'attempt 2 failed',
        applicationFailureInfo: { type: 'FlakyError', nonRetryable: false },
      },
    });
  });

  it('reports a success on the second attempt with attempt 2 and the first failure', async () => {
    const { result, history } = await run({ name: 'fails_until', arg: 2, retryPolicy: fast });
    expect(result).toBe('succeeded on attempt 2');
    const started = history.find((e) => e.eventType === EventType.ActivityTaskStarted)!;
    expect(started.attributes).toMatchObject({ attempt: 2, lastFailure: { message: 'attempt 1 failed' } });
  });

  it('gives up after maximumAttempts with MAXIMUM_ATTEMPTS_REACHED and the last failure as cause', async () => {
    const { error, history } = await run({ name: 'throws', arg: 'flaky', retryPolicy: { ...fast, maximumAttempts: 3 } });
    expect(error).toBeInstanceOf(WorkflowFailureError);
    const cause = error!.cause as ActivityError;
    expect(cause).toBeInstanceOf(ActivityError);
    expect(cause.message).toBe('Activity task failed');
    expect(cause.retryState).toBe(RetryState.MAXIMUM_ATTEMPTS_REACHED);
    expect(cause.activityType).toBe('throws');
    expect(cause.activityId).toBe('1');
    expect(cause.cause).toBeInstanceOf(ApplicationError);
    expect((cause.cause as ApplicationError).message).toBe('attempt 3 failed');
    expect((cause.cause as ApplicationError).type).toBe('FlakyError');
    expect(activities.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(activityEvents(history)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskFailed,
    ]);
    const [scheduled, started, failed] = history.filter((e) => e.eventType.startsWith('ActivityTask'));
    expect(started!.attributes).toMatchObject({ attempt: 3, lastFailure: { message: 'attempt 2 failed' } });
    expect(failed!.attributes).toMatchObject({
      scheduledEventId: scheduled!.eventId,
      startedEventId: started!.eventId,
      retryState: 'MAXIMUM_ATTEMPTS_REACHED',
      failure: { message: 'attempt 3 failed' },
    });
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionFailed);
  });

  it('does not retry an ApplicationError flagged nonRetryable', async () => {
    const { error } = await run({ name: 'throws', arg: 'non-retryable', retryPolicy: fast });
    const cause = error!.cause as ActivityError;
    expect(cause.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
    expect(cause.cause).toMatchObject({ message: 'cannot ever work', type: 'Fatal', nonRetryable: true, details: [{ attempt: 1 }] });
    expect(activities.calls).toHaveLength(1);
  });

  it('does not retry an error whose type is listed in nonRetryableErrorTypes (exact match only)', async () => {
    const listed = await run({ name: 'throws', arg: 'listed-type', retryPolicy: { ...fast, nonRetryableErrorTypes: ['Listed'] } });
    expect((listed.error!.cause as ActivityError).retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
    expect(activities.calls).toHaveLength(1);
  });

  it('retries an error whose type is only a prefix of a listed type', async () => {
    const prefix = await run({
      name: 'throws',
      arg: 'type-prefix',
      retryPolicy: { ...fast, maximumAttempts: 2, nonRetryableErrorTypes: ['Listed'] },
    });
    expect((prefix.error!.cause as ActivityError).retryState).toBe(RetryState.MAXIMUM_ATTEMPTS_REACHED);
    expect(activities.calls).toHaveLength(2);
  });

  it('times out an attempt at startToCloseTimeout, firing its signal and discarding its late result', async () => {
    const { error, history } = await run({
      name: 'sleeps',
      arg: 5_000,
      startToCloseTimeout: 200,
      retryPolicy: { maximumAttempts: 1 },
    });
    const cause = error!.cause as ActivityError;
    expect(cause.message).toBe('Activity task timed out');
    expect(cause.retryState).toBe(RetryState.MAXIMUM_ATTEMPTS_REACHED);
    const timeout = cause.cause as TimeoutError;
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect(timeout.message).toBe('activity StartToClose timeout');
    expect(timeout.type).toBe(TimeoutType.START_TO_CLOSE);
    expect(activityEvents(history)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskTimedOut,
    ]);
    // The attempt returned 'returned after the deadline' once its signal fired: not recorded.
    expect(history.some((e) => e.eventType === EventType.ActivityTaskCompleted)).toBe(false);
  });

  it('fails an activity that no worker of its task queue runs for good, naming what this worker has', async () => {
    const { error } = await run({ name: 'no_such_activity' as Call['name'], arg: 1, retryPolicy: fast });
    const cause = error!.cause as ActivityError;
    expect(cause.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
    expect(cause.cause).toMatchObject({
      type: 'NotFoundError',
      nonRetryable: true,
      message:
        'Activity function no_such_activity for workflow call-no_such_activity is not registered on any worker of task queue q (this worker has: fails_until, sleeps, throws)',
    });
  });

  it('retries an activity this worker does not run while another live worker of the task queue does', async () => {
    class Elsewhere {
      @Activity({ name: 'only_elsewhere' })
      async onlyElsewhere(): Promise<string> {
        return `ran on attempt ${activity.info().attempt}`;
      }
    }
    // The worker without it takes the workflow and the first attempts; the other one registers it.
    const lacking = env.newWorker({ taskQueue: 'q', workflows: [CallOne], activities: [activities] });
    const having = env.newWorker({ taskQueue: 'q', activities: [new Elsewhere()] });
    const handle = await env.client.startWorkflow(CallOne, { name: 'only_elsewhere' as Call['name'], arg: 1, retryPolicy: fast }, { id: 'elsewhere', taskQueue: 'q' });
    const result = await lacking.runUntil(having.runUntil(handle.result()));
    expect(result).toMatch(/^ran on attempt \d+$/);
    const started = (await handle.fetchHistory()).find((e) => e.eventType === EventType.ActivityTaskStarted)!;
    const { attempt, lastFailure } = started.attributes as { attempt: number; lastFailure?: { applicationFailureInfo: { nonRetryable: boolean } } };
    // An attempt that reached the worker without it failed retryably (the other one runs it).
    if (attempt > 1) expect(lastFailure!.applicationFailureInfo.nonRetryable).toBe(false);
  });
});
