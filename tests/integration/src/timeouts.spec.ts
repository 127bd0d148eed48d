import { Queue } from 'bullmq';
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
import type { ActivityOptions, HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

/** An activity that behaves as its input says, recording every attempt it sees. */
interface Plan {
  /** What attempt n does (the last entry repeats): 'ok', 'fail', 'hang', 'heartbeat-then-hang', 'fail-next-50ms'. */
  attempts: string[];
}

const seen: Array<{ attempt: number; heartbeatDetails: unknown[]; at: number }> = [];

class Planned {
  @Activity({ name: 'planned' })
  async planned(plan: Plan): Promise<string> {
    const info = activity.info();
    seen.push({ attempt: info.attempt, heartbeatDetails: info.heartbeatDetails, at: Date.now() });
    const step = plan.attempts[Math.min(info.attempt, plan.attempts.length) - 1];
    switch (step) {
      case 'ok':
        return `ok on attempt ${info.attempt}`;
      case 'fail':
        throw new ApplicationError(`attempt ${info.attempt} failed`, { type: 'Flaky' });
      case 'fail-next-300ms':
        throw new ApplicationError(`attempt ${info.attempt} failed`, { type: 'Flaky', nextRetryDelay: 300 });
      case 'burst-then-fail':
        for (let i = 1; i <= 50; i++) {
          activity.heartbeat(i);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        throw new ApplicationError('failed after a burst of heartbeats', { type: 'Flaky' });
      case 'heartbeat-then-hang':
        activity.heartbeat({ progress: info.attempt * 10 });
        return hang();
      default:
        return hang();
    }
  }
}

/** Waits for the attempt's cancellation signal, then returns (a late result, to be discarded). */
function hang(): Promise<string> {
  return activity.waitForCancelled().then(() => 'late result');
}

interface Call {
  plan: Plan;
  options: ActivityOptions;
}

@WorkflowDefn()
class RunPlanned {
  @WorkflowRun()
  async run(call: Call): Promise<string> {
    return workflow.executeActivity(Planned.prototype.planned, call.plan, call.options);
  }
}

describe('activity timeouts', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    seen.length = 0;
  });
  afterEach(() => env.teardown());

  async function start(call: Call, id = 'planned') {
    return env.client.startWorkflow(RunPlanned, call, { id, taskQueue: 'q' });
  }

  async function outcome(call: Call, worker = env.newWorker({ taskQueue: 'q', workflows: [RunPlanned], activities: [new Planned()] })) {
    const handle = await start(call);
    const result = await worker.runUntil(
      handle.result().then(
        (value) => ({ value, error: undefined }),
        (error: WorkflowFailureError) => ({ value: undefined, error }),
      ),
    );
    return { ...result, history: await handle.fetchHistory() };
  }

  const activityError = (error: WorkflowFailureError | undefined) => {
    expect(error).toBeInstanceOf(WorkflowFailureError);
    expect(error!.cause).toBeInstanceOf(ActivityError);
    return error!.cause as ActivityError;
  };

  const closing = (history: HistoryEvent[]) => history.filter((e) => e.eventType.startsWith('ActivityTask')).map((e) => e.eventType);

  describe('schedule-to-start', () => {
    it('times out an attempt no worker polls for, without ActivityTaskStarted, and withdraws its job', async () => {
      // Only workflows on 'q': the activity's own queue has no worker at all.
      const worker = env.newWorker({ taskQueue: 'q', workflows: [RunPlanned] });
      const { error, history } = await outcome(
        { plan: { attempts: ['ok'] }, options: { startToCloseTimeout: '5s', scheduleToStartTimeout: 200, taskQueue: 'nobody' } },
        worker,
      );
      const err = activityError(error);
      expect(err.message).toBe('Activity task timed out');
      expect(err.retryState).toBe(RetryState.TIMEOUT);
      expect(err.startedEventId).toBe(0);
      expect(err.cause).toBeInstanceOf(TimeoutError);
      expect((err.cause as TimeoutError).type).toBe(TimeoutType.SCHEDULE_TO_START);
      expect((err.cause as TimeoutError).message).toBe('activity ScheduleToStart timeout');
      expect(closing(history)).toEqual([EventType.ActivityTaskScheduled, EventType.ActivityTaskTimedOut]);
      expect(history.find((e) => e.eventType === EventType.ActivityTaskTimedOut)!.attributes).toMatchObject({
        startedEventId: 0,
        retryState: 'TIMEOUT',
      });

      // The queued job is gone: a worker that comes later never runs it.
      const queue = new Queue('activity', { connection: env.client.redis, prefix: env.client.engine.keys.taskQueuePrefix('nobody') });
      expect(await queue.getJobCounts('wait', 'delayed', 'active', 'prioritized')).toEqual({ wait: 0, delayed: 0, active: 0, prioritized: 0 });
      await queue.close();
      const late = env.newWorker({ taskQueue: 'nobody', activities: [new Planned()] });
      await late.runUntil(new Promise((resolve) => setTimeout(resolve, 200)));
      expect(seen).toEqual([]);
    });

    it('times out an attempt that waits because every activity slot of the worker is busy', async () => {
      const worker = env.newWorker({
        taskQueue: 'q',
        workflows: [RunPlanned],
        activities: [new Planned()],
        maxConcurrentActivityTaskExecutions: 1,
      });
      const busy = await start({ plan: { attempts: ['hang'] }, options: { startToCloseTimeout: '2s', retryPolicy: { maximumAttempts: 1 } } }, 'busy');
      const error = await worker.runUntil(async () => {
        // The busy attempt holds the only slot before the other is scheduled (on a Redis Cluster
        // the two runs' workflow tasks may otherwise complete in either order).
        while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        const waiting = await start(
          { plan: { attempts: ['ok'] }, options: { startToCloseTimeout: '5s', scheduleToStartTimeout: 300 } },
          'waiting',
        );
        const failure = await waiting.result().catch((e: WorkflowFailureError) => e);
        await busy.result().catch(() => undefined);
        return failure;
      });
      const err = activityError(error as WorkflowFailureError);
      expect((err.cause as TimeoutError).type).toBe(TimeoutType.SCHEDULE_TO_START);
      expect(err.retryState).toBe(RetryState.TIMEOUT);
      expect(seen.map((s) => s.attempt)).toEqual([1]); // only the busy one ever ran
    });
  });

  describe('schedule-to-close', () => {
    it('does not schedule a retry whose backoff would end past the deadline', async () => {
      const { error, history } = await outcome({
        plan: { attempts: ['fail'] },
        options: { scheduleToCloseTimeout: 1_000, retryPolicy: { initialInterval: 400, backoffCoefficient: 2 } },
      });
      // Attempt 1 fails at ~0 ms, attempt 2 at ~400 ms; a third would start at ~400 + 800 > 1000.
      expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
      const err = activityError(error);
      expect(err.message).toBe('Activity task timed out');
      expect(err.retryState).toBe(RetryState.TIMEOUT);
      const timeout = err.cause as TimeoutError;
      expect(timeout).toBeInstanceOf(TimeoutError);
      expect(timeout.type).toBe(TimeoutType.SCHEDULE_TO_CLOSE);
      expect(timeout.message).toBe('Not enough time to schedule next retry before activity ScheduleToClose timeout, giving up retrying');
      expect(timeout.cause).toBeInstanceOf(ApplicationError);
      expect((timeout.cause as ApplicationError).message).toBe('attempt 2 failed');
      expect(closing(history)).toEqual([EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskTimedOut]);
      expect(history.find((e) => e.eventType === EventType.ActivityTaskStarted)!.attributes).toMatchObject({ attempt: 2 });
    });

    it('times out across attempts and backoff, with the last failure as cause', async () => {
      const { error, history } = await outcome({
        plan: { attempts: ['fail', 'hang'] },
        options: { scheduleToCloseTimeout: 600, startToCloseTimeout: 5_000, retryPolicy: { initialInterval: 100 } },
      });
      expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
      const err = activityError(error);
      expect(err.retryState).toBe(RetryState.TIMEOUT);
      const timeout = err.cause as TimeoutError;
      expect(timeout.type).toBe(TimeoutType.SCHEDULE_TO_CLOSE);
      expect(timeout.message).toBe('activity ScheduleToClose timeout');
      expect((timeout.cause as ApplicationError).message).toBe('attempt 1 failed');
      // The running attempt 2 was transiently started: its ActivityTaskStarted precedes the close.
      expect(closing(history)).toEqual([EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskTimedOut]);
      expect(history.find((e) => e.eventType === EventType.ActivityTaskStarted)!.attributes).toMatchObject({
        attempt: 2,
        lastFailure: { message: 'attempt 1 failed' },
      });
    });

    it('records normalised timeouts: missing ones derive from schedule-to-close, heartbeat is capped at start-to-close', async () => {
      const { history } = await outcome({
        plan: { attempts: ['ok'] },
        options: { scheduleToCloseTimeout: '3s', heartbeatTimeout: '1h' },
      });
      expect(history.find((e) => e.eventType === EventType.ActivityTaskScheduled)!.attributes).toMatchObject({
        scheduleToCloseTimeout: 3_000,
        scheduleToStartTimeout: 3_000,
        startToCloseTimeout: 3_000,
        heartbeatTimeout: 3_000,
      });
    });
  });

  describe('start-to-close and the retry decision', () => {
    it('retries a start-to-close timeout, then succeeds', async () => {
      const { value, history } = await outcome({
        plan: { attempts: ['hang', 'ok'] },
        options: { startToCloseTimeout: 200, retryPolicy: { initialInterval: 10 } },
      });
      expect(value).toBe('ok on attempt 2');
      const started = history.find((e) => e.eventType === EventType.ActivityTaskStarted)!;
      expect(started.attributes).toMatchObject({
        attempt: 2,
        lastFailure: { message: 'activity StartToClose timeout', timeoutFailureInfo: { timeoutType: 'START_TO_CLOSE' } },
      });
    });

    it('does not retry a start-to-close timeout listed as TemporalTimeout:StartToClose', async () => {
      const { error } = await outcome({
        plan: { attempts: ['hang', 'ok'] },
        options: {
          startToCloseTimeout: 200,
          retryPolicy: { initialInterval: 10, nonRetryableErrorTypes: ['TemporalTimeout:StartToClose'] },
        },
      });
      const err = activityError(error);
      expect(err.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
      expect((err.cause as TimeoutError).type).toBe(TimeoutType.START_TO_CLOSE);
      expect(seen).toHaveLength(1);
    });

    it('waits nextRetryDelay instead of the policy interval, even beyond maximumInterval', async () => {
      const { value } = await outcome({
        plan: { attempts: ['fail-next-300ms', 'ok'] },
        // Without nextRetryDelay the retry would wait 1 hour; maximumInterval does not cap it down.
        options: { startToCloseTimeout: '5s', retryPolicy: { initialInterval: '1h', maximumInterval: '1h' } },
      });
      expect(value).toBe('ok on attempt 2');
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300);
    });

    it('keeps nextRetryDelay uncapped by a smaller maximumInterval', async () => {
      await outcome({
        plan: { attempts: ['fail-next-300ms', 'ok'] },
        options: { startToCloseTimeout: '5s', retryPolicy: { initialInterval: 10, maximumInterval: 20 } },
      });
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300);
    });

    it('stops at maximumAttempts before looking at the backoff', async () => {
      const { error } = await outcome({
        plan: { attempts: ['fail'] },
        options: { startToCloseTimeout: '5s', retryPolicy: { initialInterval: 10, maximumAttempts: 2 } },
      });
      expect(activityError(error).retryState).toBe(RetryState.MAXIMUM_ATTEMPTS_REACHED);
      expect(seen).toHaveLength(2);
    });
  });

  describe('heartbeats', () => {
    it('times out an attempt that stops heartbeating, retries it, and hands the latest details to the next attempt', async () => {
      const { value, history } = await outcome({
        plan: { attempts: ['heartbeat-then-hang', 'ok'] },
        options: { startToCloseTimeout: '10s', heartbeatTimeout: 300, retryPolicy: { initialInterval: 10 } },
      });
      expect(value).toBe('ok on attempt 2');
      expect(seen.map((s) => s.heartbeatDetails)).toEqual([[], [{ progress: 10 }]]);
      expect(history.find((e) => e.eventType === EventType.ActivityTaskStarted)!.attributes).toMatchObject({
        attempt: 2,
        lastFailure: { message: 'activity Heartbeat timeout', timeoutFailureInfo: { timeoutType: 'HEARTBEAT' } },
      });
    });

    it('puts the latest heartbeat details on the TimeoutError', async () => {
      const { error } = await outcome({
        plan: { attempts: ['heartbeat-then-hang'] },
        options: { startToCloseTimeout: '10s', heartbeatTimeout: 300, retryPolicy: { maximumAttempts: 1 } },
      });
      const err = activityError(error);
      expect(err.retryState).toBe(RetryState.MAXIMUM_ATTEMPTS_REACHED);
      const timeout = err.cause as TimeoutError;
      expect(timeout.type).toBe(TimeoutType.HEARTBEAT);
      expect(timeout.message).toBe('activity Heartbeat timeout');
      expect(timeout.lastHeartbeatDetails).toEqual([{ progress: 10 }]);
    });

    it('puts the latest heartbeat details on a start-to-close TimeoutError too', async () => {
      const { error } = await outcome({
        plan: { attempts: ['heartbeat-then-hang'] },
        options: { startToCloseTimeout: 300, retryPolicy: { maximumAttempts: 1 } },
      });
      const timeout = activityError(error).cause as TimeoutError;
      expect(timeout.type).toBe(TimeoutType.START_TO_CLOSE);
      expect(timeout.lastHeartbeatDetails).toEqual([{ progress: 10 }]);
    });

    it('throttles heartbeats to one per 80% of the heartbeat timeout, and sends the latest details with a failure', async () => {
      const sent = jest.spyOn(env.client.engine, 'recordHeartbeat');
      const { value } = await outcome({
        plan: { attempts: ['burst-then-fail', 'ok'] },
        options: { startToCloseTimeout: '10s', heartbeatTimeout: '5s', retryPolicy: { initialInterval: 10 } },
      });
      expect(value).toBe('ok on attempt 2');
      // 50 heartbeats in ~150 ms: the first is sent, the rest wait for the 4 s throttle window;
      // the latest goes with the attempt's failure (throttling never delays a final heartbeat).
      expect(sent).toHaveBeenCalledTimes(1);
      expect(seen.map((s) => s.heartbeatDetails)).toEqual([[], [50]]);
    });

    it('does not retry a heartbeat timeout listed as TemporalTimeout:Heartbeat', async () => {
      const { error } = await outcome({
        plan: { attempts: ['heartbeat-then-hang', 'ok'] },
        options: {
          startToCloseTimeout: '10s',
          heartbeatTimeout: 300,
          retryPolicy: { initialInterval: 10, nonRetryableErrorTypes: ['TemporalTimeout:Heartbeat'] },
        },
      });
      expect(activityError(error).retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
      expect(seen).toHaveLength(1);
    });
  });
});
