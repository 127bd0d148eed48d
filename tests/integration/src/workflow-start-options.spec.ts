import {
  ApplicationError,
  ContinueAsNewInitiator,
  EventType,
  RetryState,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowRun,
  WorkflowSignal,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

// Workflow-level start options (API.md Part 2 "Starting, ids, schedules, retention";
// TEMPORAL-SEMANTICS §3.3, §5.1, §9.1, §9.3): startDelay (firstWorkflowTaskBackoff, signals wait,
// signal-with-start ends the delay), the workflow's own retryPolicy (a failed or timed-out run
// closes with retryState IN_PROGRESS and newExecutionRunId, the next attempt is a new run of the
// id), and cronSchedule (each run followed by the next at the next cron time).

/** Fails until its `succeedOn`th attempt (a run per attempt). */
@WorkflowDefn()
class Flaky {
  @WorkflowRun()
  async run(succeedOn: number): Promise<string> {
    const { attempt } = workflow.info();
    if (attempt < succeedOn) throw ApplicationError.create({ message: `attempt ${attempt} failed`, type: 'Flaky' });
    return `ok on attempt ${attempt}`;
  }
}

/** Fails with a non-retryable error type. */
@WorkflowDefn()
class Broken {
  @WorkflowRun()
  async run(): Promise<string> {
    throw ApplicationError.create({ message: 'broken for good', type: 'Broken' });
  }
}

/** Sleeps longer than any run timeout of the tests. */
@WorkflowDefn()
class Slow {
  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.sleep('1h');
  }
}

/** Collects signals; returns them once `done`. */
@WorkflowDefn()
class Inbox {
  got: string[] = [];

  @WorkflowRun()
  async run(): Promise<{ got: string[]; startedAt: number }> {
    const startedAt = workflow.now().getTime();
    await workflow.waitCondition(() => this.got.includes('done'));
    return { got: this.got, startedAt };
  }

  @WorkflowSignal()
  note(value: string): void {
    this.got.push(value);
  }
}

/** A cron run: reports its schedule and attempt. */
@WorkflowDefn()
class Tick {
  @WorkflowRun()
  async run(label: string): Promise<string> {
    return `${label} on ${workflow.info().cronSchedule}, attempt ${workflow.info().attempt}`;
  }
}

const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);
const attrs = (event: HistoryEvent | undefined) => event!.attributes as Record<string, any>;

describe('workflow start options', () => {
  let env: TestEnvironment;
  afterEach(() => env.teardown());
  const worker = () => env.newWorker({ taskQueue: 'q', workflows: [Flaky, Broken, Slow, Inbox, Tick] });

  describe('on real time', () => {
    beforeEach(async () => {
      env = await TestEnvironment.create();
    });

    it('startDelay: the first workflow task waits; a signal meanwhile is recorded but does not start it', async () => {
      const handle = await env.client.startWorkflow(Inbox, { id: 'delayed-1', taskQueue: 'q', startDelay: '400ms' });
      const w = worker();
      const result = await w.runUntil(async () => {
        await handle.signal(Inbox.prototype.note, 'early');
        await new Promise((resolve) => setTimeout(resolve, 150));
        // Still waiting: no workflow task yet.
        expect(types(await handle.fetchHistory())).toEqual([EventType.WorkflowExecutionStarted, EventType.WorkflowExecutionSignaled]);
        await handle.signal(Inbox.prototype.note, 'done');
        return handle.result();
      });
      expect(result.got).toEqual(['early', 'done']);
      const history = await handle.fetchHistory();
      expect(types(history).slice(0, 4)).toEqual([
        EventType.WorkflowExecutionStarted,
        EventType.WorkflowExecutionSignaled,
        EventType.WorkflowExecutionSignaled,
        EventType.WorkflowTaskScheduled,
      ]);
      expect(attrs(history[0])['firstWorkflowTaskBackoff']).toBe(400);
      expect(Date.parse(history[3]!.eventTime) - Date.parse(history[0]!.eventTime)).toBeGreaterThanOrEqual(400);
      expect(result.startedAt - Date.parse(history[0]!.eventTime)).toBeGreaterThanOrEqual(400);
    });

    it('startDelay: a signal-with-start to a run still waiting ends the wait (as Temporal)', async () => {
      const handle = await env.client.startWorkflow(Inbox, { id: 'delayed-2', taskQueue: 'q', startDelay: '1h' });
      const w = worker();
      const started = Date.now();
      const result = await w.runUntil(async () => {
        const again = await env.client.startWorkflow(Inbox, { id: 'delayed-2', taskQueue: 'q', startSignal: 'note', startSignalArgs: ['done'] });
        expect(again.runId).toBe(handle.runId);
        return handle.result();
      });
      expect(result.got).toEqual(['done']);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('rejects bad start options at the client, naming them', async () => {
      const start = (options: Record<string, unknown>) => env.client.startWorkflow(Tick, { id: 'bad', taskQueue: 'q', args: ['x'], ...options });
      await expect(start({ startDelay: -5 })).rejects.toThrow(TypeError);
      await expect(start({ cronSchedule: '61 * * * *' })).rejects.toThrow('Invalid cronSchedule: "61 * * * *" (minute: 61 is outside 0-59)');
      await expect(start({ cronSchedule: '* * *' })).rejects.toThrow(
        'Invalid cronSchedule: "* * *" (5 fields (minute hour day-of-month month day-of-week), got 3)',
      );
      await expect(start({ cronSchedule: '@sometimes' })).rejects.toThrow('Invalid cronSchedule: "@sometimes" (unknown descriptor;');
      await expect(start({ cronSchedule: '@every 10s', startDelay: '1s' })).rejects.toThrow('CronSchedule and WorkflowStartDelay may not be used together.');
      await expect(start({ retryPolicy: { maximumAttempts: -1 } })).rejects.toThrow('Maximum attempts cannot be negative');
      await expect(start({ retryPolicy: { backoffCoefficient: 0.5 } })).rejects.toThrow('Backoff coefficient cannot be less than 1');
      expect(await env.client.countWorkflows()).toBe(0);
    });

    it('retryPolicy: a failed run closes with retryState IN_PROGRESS and the next attempt is a new run of the id, after the backoff', async () => {
      const handle = await env.client.startWorkflow(Flaky, {
        id: 'flaky-1',
        taskQueue: 'q',
        args: [3],
        retryPolicy: { initialInterval: '100ms', backoffCoefficient: 2, maximumAttempts: 5 },
      });
      expect(await worker().runUntil(handle.result())).toBe('ok on attempt 3');

      const runs: HistoryEvent[][] = [];
      let runId: string | undefined = handle.runId;
      while (runId) {
        const history = await env.client.getWorkflowHandle('flaky-1', runId).fetchHistory();
        runs.push(history);
        runId = attrs(history.at(-1))['newExecutionRunId'];
      }
      expect(runs).toHaveLength(3);
      const closing = [EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted];
      expect(types(runs[0]!)).toEqual([...closing, EventType.WorkflowExecutionFailed]);
      expect(types(runs[1]!)).toEqual([...closing, EventType.WorkflowExecutionFailed]);
      expect(types(runs[2]!)).toEqual([...closing, EventType.WorkflowExecutionCompleted]);
      const [first, second, third] = runs.map((history) => history[0]!);
      const firstRunId = handle.runId!;
      const secondRunId = attrs(runs[0]!.at(-1))['newExecutionRunId'];
      const thirdRunId = attrs(runs[1]!.at(-1))['newExecutionRunId'];
      expect(attrs(runs[0]!.at(-1))).toMatchObject({
        failure: { message: 'attempt 1 failed', applicationFailureInfo: { type: 'Flaky' } },
        retryState: RetryState.IN_PROGRESS,
        newExecutionRunId: expect.any(String),
        workflowTaskCompletedEventId: 4,
      });
      expect(attrs(first)).toMatchObject({ attempt: 1, firstExecutionRunId: firstRunId, retryPolicy: { initialInterval: 100, maximumAttempts: 5 } });
      expect(attrs(first)['initiator']).toBeUndefined();
      expect(attrs(second)).toMatchObject({
        workflowType: 'Flaky',
        input: [env.client.payloads.toPayload(3)],
        attempt: 2,
        initiator: ContinueAsNewInitiator.RETRY,
        continuedExecutionRunId: firstRunId,
        originalExecutionRunId: secondRunId,
        firstExecutionRunId: firstRunId,
        continuedFailure: { message: 'attempt 1 failed' },
        firstWorkflowTaskBackoff: 100,
        retryPolicy: { initialInterval: 100, maximumAttempts: 5 },
      });
      expect(attrs(third)).toMatchObject({
        attempt: 3,
        initiator: ContinueAsNewInitiator.RETRY,
        continuedExecutionRunId: secondRunId,
        originalExecutionRunId: thirdRunId,
        firstExecutionRunId: firstRunId,
        continuedFailure: { message: 'attempt 2 failed' },
        firstWorkflowTaskBackoff: 200,
      });
      // Each backoff held back the next attempt's first workflow task.
      expect(Date.parse(runs[1]![1]!.eventTime) - Date.parse(runs[0]!.at(-1)!.eventTime)).toBeGreaterThanOrEqual(100);
      expect(Date.parse(runs[2]![1]!.eventTime) - Date.parse(runs[1]!.at(-1)!.eventTime)).toBeGreaterThanOrEqual(200);
      expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.FAILED);
      expect(await env.client.getWorkflowHandle('flaky-1').describe()).toMatchObject({ runId: thirdRunId, status: WorkflowExecutionStatus.COMPLETED });
    });

    it('retryPolicy: maximumAttempts and non-retryable types end the retries (retryState says which); no policy is RETRY_POLICY_NOT_SET', async () => {
      const w = worker();
      await w.runUntil(async () => {
        const limited = await env.client.startWorkflow(Flaky, {
          id: 'flaky-2',
          taskQueue: 'q',
          args: [10],
          retryPolicy: { initialInterval: '50ms', maximumAttempts: 2 },
        });
        const error = await limited.result().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkflowFailureError);
        expect((error as WorkflowFailureError).cause).toMatchObject({ message: 'attempt 2 failed', type: 'Flaky' });
        const last = await env.client.getWorkflowHandle('flaky-2').fetchHistory();
        expect(attrs(last[0])).toMatchObject({ attempt: 2 });
        expect(attrs(last.at(-1))).toMatchObject({ retryState: RetryState.MAXIMUM_ATTEMPTS_REACHED });
        expect(attrs(last.at(-1))['newExecutionRunId']).toBeUndefined();

        const broken = await env.client.startWorkflow(Broken, {
          id: 'broken-1',
          taskQueue: 'q',
          retryPolicy: { initialInterval: '50ms', nonRetryableErrorTypes: ['Broken'] },
        });
        await expect(broken.result()).rejects.toThrow(WorkflowFailureError);
        const only = await broken.fetchHistory();
        expect(attrs(only.at(-1))).toMatchObject({ retryState: RetryState.NON_RETRYABLE_FAILURE });
        expect(await env.client.getWorkflowHandle('broken-1').describe()).toMatchObject({ runId: broken.runId });

        const plain = await env.client.startWorkflow(Broken, { id: 'broken-2', taskQueue: 'q' });
        await expect(plain.result()).rejects.toThrow(WorkflowFailureError);
        expect(attrs((await plain.fetchHistory()).at(-1))).toMatchObject({ retryState: RetryState.RETRY_POLICY_NOT_SET });
      });
    });

    it('retryPolicy: a run that times out is retried too (WorkflowExecutionTimedOut with retryState IN_PROGRESS)', async () => {
      const handle = await env.client.startWorkflow(Slow, {
        id: 'slow-1',
        taskQueue: 'q',
        runTimeout: '300ms',
        retryPolicy: { initialInterval: '50ms', maximumAttempts: 2 },
      });
      const error = await worker().runUntil(handle.result().catch((e: unknown) => e));
      expect(error).toBeInstanceOf(WorkflowFailureError);
      const first = await handle.fetchHistory();
      expect(first.at(-1)!.eventType).toBe(EventType.WorkflowExecutionTimedOut);
      expect(attrs(first.at(-1))).toEqual({ retryState: RetryState.IN_PROGRESS, newExecutionRunId: expect.any(String) });
      const second = await env.client.getWorkflowHandle('slow-1', attrs(first.at(-1))['newExecutionRunId']).fetchHistory();
      expect(attrs(second[0])).toMatchObject({
        attempt: 2,
        initiator: ContinueAsNewInitiator.RETRY,
        continuedFailure: { message: 'Workflow timed out', timeoutFailureInfo: { timeoutType: 'START_TO_CLOSE' } },
        workflowRunTimeout: 300,
      });
      expect(attrs(second.at(-1))).toEqual({ retryState: RetryState.MAXIMUM_ATTEMPTS_REACHED });
    });
  });

  describe('on a skipping clock', () => {
    beforeEach(async () => {
      env = await TestEnvironment.createTimeSkipping();
    });

    it('cronSchedule: each run starts at the next cron time and is followed by the next run (CRON_SCHEDULE, lastCompletionResult)', async () => {
      const handle = await env.client.startWorkflow(Tick, { id: 'tick-1', taskQueue: 'q', args: ['tick'], cronSchedule: '*/5 * * * *' });
      const w = worker();
      const runs = await w.runUntil(async () => {
        const seen: HistoryEvent[][] = [];
        let runId: string | undefined = handle.runId;
        while (seen.length < 3) {
          const run = env.client.getWorkflowHandle('tick-1', runId);
          const history = await waitForClose(run);
          seen.push(history);
          runId = attrs(history.at(-1))['newExecutionRunId'];
        }
        await env.client.getWorkflowHandle('tick-1').terminate('enough');
        return seen;
      });
      for (const history of runs) {
        expect(types(history)).toEqual([
          EventType.WorkflowExecutionStarted,
          EventType.WorkflowTaskScheduled,
          EventType.WorkflowTaskStarted,
          EventType.WorkflowTaskCompleted,
          EventType.WorkflowExecutionCompleted,
        ]);
        // The first workflow task ran at a multiple of 5 minutes.
        expect(Date.parse(history[1]!.eventTime) % 300_000).toBeLessThan(1_000);
        expect(attrs(history[0])['cronSchedule']).toBe('*/5 * * * *');
      }
      expect(attrs(runs[0]![0])['initiator']).toBeUndefined();
      expect(attrs(runs[0]![0])['firstWorkflowTaskBackoff']).toBeGreaterThan(0);
      const result = attrs(runs[0]!.at(-1))['result'];
      expect(result).toEqual([env.client.payloads.toPayload('tick on */5 * * * *, attempt 1')]);
      expect(attrs(runs[1]![0])).toMatchObject({
        attempt: 1,
        initiator: ContinueAsNewInitiator.CRON_SCHEDULE,
        continuedExecutionRunId: handle.runId,
        firstExecutionRunId: handle.runId,
        lastCompletionResult: result,
        input: [env.client.payloads.toPayload('tick')],
      });
      expect(Date.parse(runs[1]![1]!.eventTime) - Date.parse(runs[0]![1]!.eventTime)).toBeGreaterThanOrEqual(299_000);
      // The third run is still the chain's; terminate ended it.
      const last = await env.client.getWorkflowHandle('tick-1').describe();
      expect(last.status).toBe(WorkflowExecutionStatus.TERMINATED);
    });
  });
});

/** A run's history once it closed. */
async function waitForClose(handle: { fetchHistory(): Promise<HistoryEvent[]> }): Promise<HistoryEvent[]> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const history = await handle.fetchHistory().catch(() => []);
    const last = history.at(-1);
    if (last && last.eventType !== EventType.WorkflowExecutionStarted && attrs(last)['newExecutionRunId'] !== undefined) return history;
    if (last?.eventType === EventType.WorkflowExecutionCompleted) return history;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the run did not close');
}
