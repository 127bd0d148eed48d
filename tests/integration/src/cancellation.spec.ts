import {
  Activity,
  ActivityCancellationType,
  ActivityError,
  CancelledError,
  EventType,
  TerminatedError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

const log: string[] = [];

class Work {
  /** Runs until cancelled; ends with the cancellation (CancelledError) unless told to finish anyway. */
  @Activity({ name: 'long' })
  async long(mode: 'honour' | 'ignore'): Promise<string> {
    log.push('long started');
    await activity.waitForCancelled();
    log.push(`long saw cancellation: ${String((activity.cancellationSignal().reason as Error).message)}`);
    if (mode === 'ignore') return 'finished despite cancellation';
    throw activity.cancellationSignal().reason;
  }

  @Activity({ name: 'quick' })
  async quick(name: string): Promise<string> {
    log.push(`quick ${name}`);
    return `${name} done`;
  }

  @Activity({ name: 'fails' })
  async fails(): Promise<string> {
    throw new Error('always');
  }
}

interface Scenario {
  cancellationType: ActivityCancellationType;
  mode?: 'honour' | 'ignore';
  /** Where the activity waits: 'running' (started), 'queued' (no worker), 'backoff' (between retries), 'same-task'. */
  state: 'running' | 'queued' | 'backoff' | 'same-task';
}

@WorkflowDefn()
class CancelOne {
  @WorkflowRun()
  async run(s: Scenario): Promise<string> {
    const options = { startToCloseTimeout: '10s', cancellationType: s.cancellationType };
    const handle =
      s.state === 'queued'
        ? workflow.startActivity(Work.prototype.quick, 'never', { ...options, taskQueue: 'nobody' })
        : s.state === 'backoff'
          ? workflow.startActivity(Work.prototype.fails, { ...options, retryPolicy: { initialInterval: '1h' } })
          : workflow.startActivity(Work.prototype.long, s.mode ?? 'honour', options);
    if (s.state !== 'same-task') await workflow.sleep(s.state === 'backoff' ? 500 : 300);
    handle.cancel();
    let outcome: string;
    try {
      outcome = `resolved: ${await handle}`;
    } catch (err) {
      const e = err as ActivityError;
      outcome = `${e.constructor.name}: ${e.message} / ${(e.cause as Error).constructor.name}: ${(e.cause as Error).message} / ${e.retryState}`;
    }
    // Stay open a little, so what the activity does after the request is recorded.
    await workflow.sleep(600);
    return outcome;
  }
}

describe('activity cancellation', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    log.length = 0;
  });
  afterEach(() => env.teardown());

  async function run(s: Scenario): Promise<{ result: string; history: HistoryEvent[] }> {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CancelOne], activities: [new Work()] });
    const handle = await env.client.startWorkflow(CancelOne, s, { id: `cancel-${s.state}`, taskQueue: 'q' });
    const result = await worker.runUntil(handle.result());
    return { result, history: await handle.fetchHistory() };
  }

  const activityEvents = (history: HistoryEvent[]) =>
    history.filter((e) => e.eventType.startsWith('ActivityTask')).map((e) => e.eventType);
  const CANCELLED = 'ActivityError: Activity cancelled / CancelledError: Cancelled / CANCEL_REQUESTED';

  it('TRY_CANCEL resolves the handle at once, still records the request, and the running activity is told promptly', async () => {
    const { result, history } = await run({ cancellationType: ActivityCancellationType.TRY_CANCEL, state: 'running' });
    expect(result).toBe(CANCELLED);
    expect(activityEvents(history)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskCancelRequested,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCanceled,
    ]);
    expect(log).toEqual(['long started', 'long saw cancellation: Activity cancelled']);
    const requested = history.find((e) => e.eventType === EventType.ActivityTaskCancelRequested)!;
    const canceled = history.find((e) => e.eventType === EventType.ActivityTaskCanceled)!;
    expect(canceled.attributes).toMatchObject({ latestCancelRequestedEventId: requested.eventId, scheduledEventId: 5 });
    expect(Date.parse(canceled.eventTime) - Date.parse(requested.eventTime)).toBeLessThan(1_000);
  });

  it('WAIT_CANCELLATION_COMPLETED waits for the activity to end cancelled', async () => {
    const { result, history } = await run({ cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, state: 'running' });
    expect(result).toBe(CANCELLED);
    const canceledAt = history.findIndex((e) => e.eventType === EventType.ActivityTaskCanceled);
    const nextTask = history.findIndex((e, i) => i > canceledAt && e.eventType === EventType.WorkflowTaskCompleted);
    // The handle resolved in the workflow task that saw ActivityTaskCanceled: the final timer follows it.
    expect(history[nextTask + 1]!.eventType).toBe(EventType.TimerStarted);
  });

  it('WAIT_CANCELLATION_COMPLETED resolves with the result when the activity completes anyway', async () => {
    const { result, history } = await run({
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      mode: 'ignore',
      state: 'running',
    });
    expect(result).toBe('resolved: finished despite cancellation');
    expect(activityEvents(history)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskCancelRequested,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCompleted,
    ]);
  });

  it('ABANDON resolves at once, records no request, and lets the activity run on', async () => {
    const { result, history } = await run({ cancellationType: ActivityCancellationType.ABANDON, state: 'running' });
    expect(result).toBe(CANCELLED);
    expect(activityEvents(history)).toEqual([EventType.ActivityTaskScheduled]);
    // It ran on until the run closed (closing a run stops its running activities).
    expect(log[0]).toBe('long started');
  });

  it('cancels an activity that has not started at once, with ACTIVITY_ID_NOT_STARTED', async () => {
    const { result, history } = await run({ cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, state: 'queued' });
    expect(result).toBe(CANCELLED);
    expect(activityEvents(history)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskCancelRequested,
      EventType.ActivityTaskCanceled,
    ]);
    const [, requested, canceled] = history.filter((e) => e.eventType.startsWith('ActivityTask'));
    expect(canceled!.eventId).toBe(requested!.eventId + 1);
    expect(canceled!.attributes).toEqual({
      startedEventId: 0,
      details: [{ metadata: { encoding: 'json/plain' }, data: 'ACTIVITY_ID_NOT_STARTED' }],
      latestCancelRequestedEventId: requested!.eventId,
      scheduledEventId: 5,
      identity: '',
    });
  });

  it('cancels an activity waiting between retries at once', async () => {
    const { result, history } = await run({ cancellationType: ActivityCancellationType.TRY_CANCEL, state: 'backoff' });
    expect(result).toBe(CANCELLED);
    expect(activityEvents(history)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskCancelRequested,
      EventType.ActivityTaskCanceled,
    ]);
    expect(history.find((e) => e.eventType === EventType.ActivityTaskCanceled)!.attributes).toMatchObject({ startedEventId: 0 });
  });

  it('writes no events for an activity cancelled in the workflow task that scheduled it', async () => {
    const { result, history } = await run({ cancellationType: ActivityCancellationType.TRY_CANCEL, state: 'same-task' });
    expect(result).toBe(CANCELLED);
    expect(activityEvents(history)).toEqual([]);
    expect(log).toEqual([]);
  });
});

@WorkflowDefn()
class Cancellable {
  @WorkflowRun()
  async run(what: 'activity' | 'timer' | 'cleanup'): Promise<string> {
    try {
      if (what === 'timer') await workflow.sleep('1h');
      else await workflow.executeActivity(Work.prototype.long, 'honour', { startToCloseTimeout: '1h' });
      return 'not cancelled';
    } catch (err) {
      if (what === 'cleanup') {
        await workflow.executeActivity(Work.prototype.quick, 'cleanup', { startToCloseTimeout: '10s' });
      }
      throw err;
    }
  }
}

describe('workflow cancellation and termination', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    log.length = 0;
  });
  afterEach(() => env.teardown());

  async function startAndWait(what: 'activity' | 'timer' | 'cleanup') {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Cancellable], activities: [new Work()] });
    const handle = await env.client.startWorkflow(Cancellable, what, { id: `wf-${what}`, taskQueue: 'q' });
    const waitFor = what === 'timer' ? EventType.TimerStarted : EventType.ActivityTaskScheduled;
    return { worker, handle, ready: waitForEvent(() => handle.fetchHistory(), waitFor) };
  }

  it('delivers a CancelledError into the workflow, which lets it escape: WorkflowExecutionCanceled', async () => {
    const { worker, handle, ready } = await startAndWait('activity');
    const error = await worker.runUntil(async () => {
      await ready;
      await waitUntil(() => log.includes('long started'));
      await handle.cancel('no longer needed');
      return handle.result().catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(WorkflowFailureError);
    expect((error as WorkflowFailureError).cause).toBeInstanceOf(CancelledError);
    expect(((error as WorkflowFailureError).cause as Error).message).toBe('Workflow cancelled');
    const history = await handle.fetchHistory();
    expect(history.find((e) => e.eventType === EventType.WorkflowExecutionCancelRequested)!.attributes).toMatchObject({
      cause: 'no longer needed',
    });
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionCanceled);
    expect(history.some((e) => e.eventType === EventType.ActivityTaskCancelRequested)).toBe(true);
    expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.CANCELED);
    expect(log).toContain('long saw cancellation: Activity cancelled');
  });

  it('lets the workflow clean up (run another activity) before it ends cancelled', async () => {
    const { worker, handle, ready } = await startAndWait('cleanup');
    const error = await worker.runUntil(async () => {
      await ready;
      await handle.cancel();
      return handle.result().catch((e: unknown) => e);
    });
    expect(((error as WorkflowFailureError).cause as Error)).toBeInstanceOf(CancelledError);
    expect(log).toContain('quick cleanup');
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.eventType === EventType.ActivityTaskCompleted)).toHaveLength(1);
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionCanceled);
  });

  it('cancels a sleeping workflow: TimerCanceled, then WorkflowExecutionCanceled', async () => {
    const { worker, handle, ready } = await startAndWait('timer');
    await worker.runUntil(async () => {
      await ready;
      await handle.cancel();
      await handle.result().catch(() => undefined);
    });
    const types = (await handle.fetchHistory()).map((e) => e.eventType);
    expect(types.slice(-5)).toEqual([
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.TimerCanceled,
      EventType.WorkflowExecutionCanceled,
    ]);
  });

  it('terminates at once: no workflow code runs, and pending activities and timers become no-ops', async () => {
    const { worker, handle, ready } = await startAndWait('activity');
    const error = await worker.runUntil(async () => {
      await ready;
      await waitUntil(() => log.includes('long started'));
      await handle.terminate('operator said so');
      return handle.result().catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(WorkflowFailureError);
    expect((error as WorkflowFailureError).cause).toBeInstanceOf(TerminatedError);
    expect(((error as WorkflowFailureError).cause as Error).message).toBe('operator said so');
    const history = await handle.fetchHistory();
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionTerminated);
    expect(history.at(-1)!.attributes).toMatchObject({ reason: 'operator said so' });
    expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.TERMINATED);
    await expect(handle.cancel()).rejects.toThrow('Workflow execution already completed');
  });

  it('reports a terminated run of a sleeping workflow and leaves its timer without effect', async () => {
    const { worker, handle, ready } = await startAndWait('timer');
    await worker.runUntil(async () => {
      await ready;
      await handle.terminate();
    });
    const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailureError;
    expect((error.cause as Error).message).toBe('Workflow terminated');
    const history = await handle.fetchHistory();
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionTerminated);
  });
});

async function waitForEvent(read: () => Promise<HistoryEvent[]>, type: EventType): Promise<HistoryEvent> {
  for (;;) {
    const event = (await read()).find((e) => e.eventType === type);
    if (event) return event;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
