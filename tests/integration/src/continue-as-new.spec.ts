import { randomUUID } from 'node:crypto';
import {
  ApplicationError,
  CancelledError,
  ContinueAsNewInitiator,
  TimeoutError,
  WorkflowFailureError,
  EventType,
  WorkflowAlreadyStartedError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowIdReusePolicy,
  WorkflowRun,
  TerminatedError,
  WorkflowSignal,
  WorkflowUpdate,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, WorkflowHandle, WorkflowInfo } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

// Continue-as-new (API.md Part 2 "Continue-as-new"; TEMPORAL-SEMANTICS §15, §11.2, §8.2): the run
// closes with WorkflowExecutionContinuedAsNew and the next run of the id starts in the same step;
// chain fields, info(), result() following the chain, the id never free, signals during the
// hand-over, updates deduplicated per run.

type Snapshot = Pick<WorkflowInfo, 'runId' | 'attempt' | 'continuedRunId' | 'firstExecutionRunId' | 'historyLength' | 'continueAsNewSuggested'> & {
  n: number;
};

@WorkflowDefn()
class Counter {
  @WorkflowRun()
  async run(n: number, last: number): Promise<Snapshot> {
    if (n < last) workflow.continueAsNew(n + 1, last);
    const { runId, attempt, continuedRunId, firstExecutionRunId, historyLength, continueAsNewSuggested } = workflow.info();
    return { n, runId, attempt, continuedRunId, firstExecutionRunId, historyLength, continueAsNewSuggested };
  }
}

/** Continues as new once, then waits for a `stop` signal. */
@WorkflowDefn()
class Waiter {
  stopped = false;

  @WorkflowRun()
  async run(round: number): Promise<number> {
    if (round === 1) workflow.continueAsNew(2);
    await workflow.waitCondition(() => this.stopped);
    return round;
  }

  @WorkflowSignal()
  stop(): void {
    this.stopped = true;
  }
}

/** Collects `add` signals; continues as new with what it has after every batch, until it has `want`. */
@WorkflowDefn()
class Collector {
  pending: number[] = [];

  @WorkflowRun()
  async run(want: number, seen: number[]): Promise<number[]> {
    await workflow.waitCondition(() => this.pending.length > 0);
    const all = [...seen, ...this.pending];
    if (all.length < want) workflow.continueAsNew(want, all);
    return all;
  }

  @WorkflowSignal()
  add(value: number): void {
    this.pending.push(value);
  }
}

/** Counts update calls per run; the `next` signal continues as new. */
@WorkflowDefn()
class Updated {
  calls = 0;
  next = false;
  done = false;

  @WorkflowRun()
  async run(round: number): Promise<number> {
    await workflow.waitCondition(() => this.next || this.done);
    if (this.next) workflow.continueAsNew(round + 1);
    return round;
  }

  @WorkflowUpdate()
  async bump(): Promise<string> {
    this.calls += 1;
    return `run ${workflow.info().runId} call ${this.calls}`;
  }

  @WorkflowSignal()
  advance(): void {
    this.next = true;
  }

  @WorkflowSignal()
  finish(): void {
    this.done = true;
  }
}

const moved = workflow.makeContinueAsNewFunction<[string]>('Mover', { taskQueue: 'other', runTimeout: '1h', taskTimeout: '5s', memo: { stage: 'second' } });

@WorkflowDefn({ name: 'Mover' })
class Mover {
  @WorkflowRun()
  async run(stage: string): Promise<{ stage: string; taskQueue: string; runTimeout: number; taskTimeout: number }> {
    if (stage === 'first') moved('second');
    const { taskQueue, runTimeout, taskTimeout } = workflow.info();
    return { stage, taskQueue, runTimeout, taskTimeout };
  }
}

/** Takes signals until continue-as-new is suggested; reports what info() said. */
@WorkflowDefn()
class Busy {
  count = 0;

  @WorkflowRun()
  async run(): Promise<{ before: boolean; count: number; historyLength: number; historySize: number }> {
    const before = workflow.info().continueAsNewSuggested;
    await workflow.waitCondition(() => workflow.info().continueAsNewSuggested);
    const { historyLength, historySize } = workflow.info();
    return { before, count: this.count, historyLength, historySize };
  }

  @WorkflowSignal()
  ping(): void {
    this.count += 1;
  }
}

/** Continues as new once, then fails until its third attempt: the retry policy goes on with the chain. */
@WorkflowDefn()
class Stubborn {
  @WorkflowRun()
  async run(round: number): Promise<string> {
    if (round === 1) workflow.continueAsNew(2);
    const { attempt } = workflow.info();
    if (attempt < 3) throw new ApplicationError(`round ${round} attempt ${attempt} failed`);
    return `round ${round} attempt ${attempt}`;
  }
}

/** Continues as new for ever, a timer per run. */
@WorkflowDefn()
class Looper {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    await workflow.sleep('100ms');
    workflow.continueAsNew(n + 1);
  }
}

/** Runs a Counter chain and a retried Stubborn chain as its children. */
@WorkflowDefn()
class Parent {
  @WorkflowRun()
  async run(): Promise<[Snapshot, string]> {
    const counted = await workflow.executeChildWorkflow(Counter, { args: [1, 3], id: `${workflow.info().workflowId}-counter` });
    const retried = await workflow.executeChildWorkflow(Stubborn, {
      args: [1],
      id: `${workflow.info().workflowId}-stubborn`,
      retryPolicy: { initialInterval: '50ms', maximumAttempts: 5 },
    });
    return [counted, retried];
  }
}

const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);

describe('continue-as-new', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
  });
  afterEach(() => env.teardown());

  const worker = (taskQueue = 'q') => env.newWorker({ taskQueue, workflows: [Counter, Waiter, Collector, Updated, Mover, Busy, Stubborn, Parent, Looper] });

  it('closes the run with WorkflowExecutionContinuedAsNew and starts the next run in the same step; result() follows the chain', async () => {
    const handle = await env.client.startWorkflow(Counter, { id: 'counter-1', taskQueue: 'q', args: [1, 3], memo: { owner: 'ops' } });
    const last = await worker().runUntil(handle.result());
    const first = handle.runId!;
    expect(last).toMatchObject({ n: 3, attempt: 1, firstExecutionRunId: first, continueAsNewSuggested: false });

    // Three runs: first -> second -> third (the last one's info() names its predecessor).
    const firstHistory = await handle.fetchHistory();
    expect(types(firstHistory)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionContinuedAsNew,
    ]);
    const can = firstHistory[4]!.attributes as Record<string, unknown>;
    const second = can['newExecutionRunId'] as string;
    expect(can).toEqual({
      newExecutionRunId: expect.any(String),
      workflowType: 'Counter',
      taskQueue: 'q',
      input: [env.client.payloads.toPayload(2), env.client.payloads.toPayload(3)],
      workflowRunTimeout: 0,
      workflowTaskTimeout: 10_000,
      backoffStartInterval: 0,
      initiator: ContinueAsNewInitiator.WORKFLOW,
      memo: { fields: { owner: env.client.payloads.toPayload('ops') } },
      workflowTaskCompletedEventId: 4,
    });

    const secondHandle = env.client.getWorkflowHandle('counter-1', second);
    const secondHistory = await secondHandle.fetchHistory();
    expect(types(secondHistory)).toEqual(types(firstHistory));
    const started = secondHistory[0]!.attributes as Record<string, unknown>;
    expect(started).toMatchObject({
      workflowType: 'Counter',
      workflowId: 'counter-1',
      taskQueue: 'q',
      input: [env.client.payloads.toPayload(2), env.client.payloads.toPayload(3)],
      attempt: 1,
      firstExecutionRunId: first,
      continuedExecutionRunId: first,
      originalExecutionRunId: second,
      initiator: ContinueAsNewInitiator.WORKFLOW,
      memo: { fields: { owner: env.client.payloads.toPayload('ops') } },
    });
    // Runs of an id start at least 1 s apart (Temporal's workflowIdReuseMinimalInterval): the
    // first workflow task waited for it.
    const backoff = started['firstWorkflowTaskBackoff'] as number;
    expect(backoff).toBeGreaterThan(0);
    expect(backoff).toBeLessThanOrEqual(1000);
    expect(Date.parse(secondHistory[1]!.eventTime) - Date.parse(firstHistory[0]!.eventTime)).toBeGreaterThanOrEqual(1000);

    const third = (secondHistory[4]!.attributes as { newExecutionRunId: string }).newExecutionRunId;
    expect(last).toMatchObject({ runId: third, continuedRunId: second, historyLength: 3 });
    const thirdHistory = await env.client.getWorkflowHandle('counter-1', third).fetchHistory();
    expect(types(thirdHistory)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);

    // Closed runs report CONTINUED_AS_NEW; the id's handle describes the newest run.
    expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.CONTINUED_AS_NEW);
    expect(await env.client.getWorkflowHandle('counter-1').describe()).toMatchObject({ runId: third, status: WorkflowExecutionStatus.COMPLETED });
    const listed = [];
    for await (const run of env.client.listWorkflows({ status: WorkflowExecutionStatus.CONTINUED_AS_NEW })) listed.push(run.runId);
    expect(listed.sort()).toEqual([first, second].sort());
    // executeWorkflow follows the chain too.
    expect(await worker().runUntil(env.client.executeWorkflow(Counter, { id: 'counter-2', taskQueue: 'q', args: [1, 2] }))).toMatchObject({ n: 2 });
  });

  it("passes cancel and terminate sent to a run that continued as new on to the chain's running run", async () => {
    const w = worker();
    await w.runUntil(async () => {
      for (const [id, act, cause] of [
        ['waiter-cancel', (h: WorkflowHandle) => h.cancel('enough'), CancelledError],
        ['waiter-terminate', (h: WorkflowHandle) => h.terminate('enough'), TerminatedError],
      ] as const) {
        const handle = await env.client.startWorkflow(Waiter, 1, { id, taskQueue: 'q' });
        const byId = env.client.getWorkflowHandle(id);
        for (let d = await byId.describe(); d.runId === handle.runId; d = await byId.describe()) await new Promise((resolve) => setTimeout(resolve, 20));
        await act(handle);
        const error = await handle.result().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkflowFailureError);
        expect((error as WorkflowFailureError).cause).toBeInstanceOf(cause);
        expect((error as WorkflowFailureError).runId).not.toBe(handle.runId);
        // The first run stays as it closed; the chain's end refuses another request.
        expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.CONTINUED_AS_NEW);
        await expect(act(handle)).rejects.toThrow(`Workflow execution already completed: workflowId="${id}" runId="${handle.runId}"`);
      }
    });
  });

  it('never frees the workflow id: a start during the chain is refused, and REJECT_DUPLICATE sees a running run', async () => {
    const handle = await env.client.startWorkflow(Waiter, { id: 'waiter-1', taskQueue: 'q', args: [1] });
    const w = worker();
    await w.runUntil(async () => {
      // Wait for the second run.
      let current = handle.runId;
      for (const deadline = Date.now() + 5_000; current === handle.runId && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        current = (await env.client.getWorkflowHandle('waiter-1').describe()).runId;
      }
      expect(current).not.toBe(handle.runId);
      for (const idReusePolicy of [WorkflowIdReusePolicy.ALLOW_DUPLICATE, WorkflowIdReusePolicy.REJECT_DUPLICATE]) {
        const refused = env.client.startWorkflow(Waiter, { id: 'waiter-1', taskQueue: 'q', args: [5], idReusePolicy });
        await expect(refused).rejects.toThrow(WorkflowAlreadyStartedError);
        await expect(refused).rejects.toMatchObject({ workflowId: 'waiter-1', runId: current });
      }
      // The handle of the start (bound to the first run) passes the signal on to the chain's running run.
      await handle.signal(Waiter.prototype.stop);
      expect(await handle.result()).toBe(2);
    });
  });

  it('delivers every signal sent while runs continue as new: each one once, on the run that was current', async () => {
    const handle = await env.client.startWorkflow(Collector, { id: 'collector-1', taskQueue: 'q', args: [12, []] });
    const byId = env.client.getWorkflowHandle('collector-1');
    const w = worker();
    const all = await w.runUntil(async () => {
      for (let i = 0; i < 12; i++) {
        await byId.signal(Collector.prototype.add, i);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      return handle.result();
    });
    expect(all).toEqual([...Array(12).keys()]);
    // The signals did reach several runs of the chain.
    expect(await env.client.countWorkflows({ status: WorkflowExecutionStatus.CONTINUED_AS_NEW })).toBeGreaterThanOrEqual(2);
  }, 15_000);

  it('a signal that arrives while the continue-as-new task runs fails it (UNHANDLED_COMMAND): the old run handles it first', async () => {
    const { engine } = env.client;
    const handle = await env.client.startWorkflow(Collector, { id: 'collector-2', taskQueue: 'q', args: [2, [7]] });
    const ref = { workflowId: 'collector-2', runId: handle.runId! };
    const task = await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'slow-worker', 0);
    expect(task).toBeDefined();
    await handle.signal(Collector.prototype.add, 1);
    const reply = await engine.completeWorkflowTask(
      { ...ref, token: '1' },
      {
        identity: 'slow-worker',
        workerId: 'slow-worker',
        stickyTimeout: 0,
        fence: 3,
        commands: [
          {
            eventType: EventType.WorkflowExecutionContinuedAsNew,
            attributes: { newExecutionRunId: 'never', workflowTaskCompletedEventId: 4 },
            meta: { rid: 'never', attrs: '{}', type: 'Collector', tq: 'q', wfto: 10_000, rto: 0, bof: 0 },
          },
        ],
      },
    );
    expect(reply.code).toBe(-5);
    expect(await env.client.getWorkflowHandle('collector-2').describe()).toMatchObject({ runId: handle.runId, status: WorkflowExecutionStatus.RUNNING });
    expect(await worker().runUntil(handle.result())).toEqual([7, 1]);
    expect(types(await handle.fetchHistory())).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskFailed,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
  });

  it('deduplicates update ids per run: the next run starts a fresh set', async () => {
    const handle = await env.client.startWorkflow(Updated, { id: 'updated-1', taskQueue: 'q', args: [1] });
    const byId = env.client.getWorkflowHandle('updated-1');
    const w = worker();
    await w.runUntil(async () => {
      const first = await byId.executeUpdate(Updated.prototype.bump, { id: 'u-1' });
      expect(first).toBe(`run ${handle.runId} call 1`);
      expect(await byId.executeUpdate(Updated.prototype.bump, { id: 'u-1' })).toBe(first);
      await byId.signal(Updated.prototype.advance);
      let current = handle.runId;
      for (const deadline = Date.now() + 5_000; current === handle.runId && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        current = (await byId.describe()).runId;
      }
      expect(current).not.toBe(handle.runId);
      // The same id on the new run runs the handler again; the start's handle (bound to the first
      // run) passes its updates on to the new run too.
      expect(await byId.executeUpdate(Updated.prototype.bump, { id: 'u-1' })).toBe(`run ${current} call 1`);
      expect(await handle.executeUpdate(Updated.prototype.bump, { id: 'u-2' })).toBe(`run ${current} call 2`);
      await byId.signal(Updated.prototype.finish);
      expect(await handle.result()).toBe(2);
    });
  });

  it('makeContinueAsNewFunction changes the task queue, timeouts and memo of the next run', async () => {
    const handle = await env.client.startWorkflow(Mover, { id: 'mover-1', taskQueue: 'q', args: ['first'], memo: { stage: 'first' } });
    const first = worker('q');
    const running = first.run();
    const result = await worker('other').runUntil(handle.result());
    await first.shutdown();
    await running;
    expect(result).toEqual({ stage: 'second', taskQueue: 'other', runTimeout: 3_600_000, taskTimeout: 5_000 });
    const description = await env.client.getWorkflowHandle('mover-1').describe();
    expect(description).toMatchObject({ taskQueue: 'other', memo: { stage: 'second' } });
  });

  it('suggests continuing as new from 4,096 events (Temporal\'s threshold)', async () => {
    const handle = await env.client.startWorkflow(Busy, { id: 'busy-1', taskQueue: 'q' });
    const ref = { workflowId: 'busy-1', runId: handle.runId! };
    const w = worker();
    const result = await w.runUntil(async () => {
      // Each signal has a request id of its own (a repeated one is recorded once).
      for (let sent = 0; sent < 4100; sent += 100) {
        await Promise.all(
          Array.from({ length: 100 }, async () => env.client.engine.signalWorkflow(ref, await env.client.signalAttributes('ping', []))),
        );
      }
      return handle.result();
    });
    expect(result.before).toBe(false);
    expect(result.historyLength).toBeGreaterThanOrEqual(4096);
    expect(result.count).toBeGreaterThan(4000);
    expect(result.historySize).toBeGreaterThan(0);
  }, 30_000);

  it('keeps the retry policy across continue-as-new: a run after it is retried with the input it was given', async () => {
    const handle = await env.client.startWorkflow(Stubborn, {
      id: 'stubborn-1',
      taskQueue: 'q',
      args: [1],
      retryPolicy: { initialInterval: '50ms', maximumAttempts: 5 },
    });
    expect(await worker().runUntil(handle.result())).toBe('round 2 attempt 3');
    const starts: Array<Record<string, unknown>> = [];
    for (let runId: string | undefined = handle.runId; runId; ) {
      const history = await env.client.getWorkflowHandle('stubborn-1', runId).fetchHistory();
      starts.push(history[0]!.attributes);
      runId = (history.at(-1)!.attributes as { newExecutionRunId?: string }).newExecutionRunId;
    }
    expect(starts.map((a) => [a['attempt'], a['initiator'], a['input']])).toEqual([
      [1, undefined, [env.client.payloads.toPayload(1)]],
      [1, ContinueAsNewInitiator.WORKFLOW, [env.client.payloads.toPayload(2)]],
      [2, ContinueAsNewInitiator.RETRY, [env.client.payloads.toPayload(2)]],
      [3, ContinueAsNewInitiator.RETRY, [env.client.payloads.toPayload(2)]],
    ]);
    expect(new Set(starts.map((a) => a['firstExecutionRunId']))).toEqual(new Set([handle.runId]));
  });

  it('a child whose chain goes on (continue-as-new, retries) reports to its parent once, when the chain ends', async () => {
    const handle = await env.client.startWorkflow(Parent, { id: 'parent-1', taskQueue: 'q' });
    const [counted, retried] = await worker().runUntil(handle.result());
    expect(counted).toMatchObject({ n: 3 });
    expect(retried).toBe('round 2 attempt 3');
    const history = await handle.fetchHistory();
    const of = (type: EventType) => history.filter((e) => e.eventType === type);
    expect(of(EventType.StartChildWorkflowExecutionInitiated)).toHaveLength(2);
    expect(of(EventType.ChildWorkflowExecutionStarted)).toHaveLength(2);
    expect(of(EventType.ChildWorkflowExecutionCompleted)).toHaveLength(2);
    // The first run of each chain is the one the parent started.
    const [counterStarted] = of(EventType.ChildWorkflowExecutionStarted);
    const counterRuns = await env.client.getWorkflowHandle('parent-1-counter', (counterStarted!.attributes as { workflowExecution: { runId: string } }).workflowExecution.runId).fetchHistory();
    expect(counterRuns[0]!.attributes).toMatchObject({ parentWorkflowExecution: { workflowId: 'parent-1', runId: handle.runId } });
    const lastCounter = await env.client.getWorkflowHandle('parent-1-counter').fetchHistory();
    expect(lastCounter[0]!.attributes).toMatchObject({ parentWorkflowExecution: { workflowId: 'parent-1', runId: handle.runId }, initiator: ContinueAsNewInitiator.WORKFLOW });
  });

  it('keeps the execution timeout across the chain: the run that is current when it expires times out', async () => {
    const handle = await env.client.startWorkflow(Looper, { id: 'looper-1', taskQueue: 'q', args: [1], executionTimeout: '1500ms' });
    const error = await worker().runUntil(handle.result().catch((e: unknown) => e));
    expect(error).toBeInstanceOf(WorkflowFailureError);
    expect((error as WorkflowFailureError).cause).toBeInstanceOf(TimeoutError);
    const first = await handle.fetchHistory();
    const last = await env.client.getWorkflowHandle('looper-1').fetchHistory();
    expect(last[0]!.attributes).toMatchObject({ initiator: ContinueAsNewInitiator.WORKFLOW, workflowExecutionTimeout: 1500 });
    expect(last.at(-1)!.eventType).toBe(EventType.WorkflowExecutionTimedOut);
    expect(last.at(-1)!.attributes).toEqual({ retryState: 'RETRY_POLICY_NOT_SET' });
    // Each run lives about 100 ms: only a timeout kept from the first run's start can end the chain.
    expect(last[0]!.attributes['firstExecutionRunId']).toBe(handle.runId);
    expect(last).not.toEqual(first);
    const elapsed = Date.parse(last.at(-1)!.eventTime) - Date.parse(first[0]!.eventTime);
    expect(elapsed).toBeGreaterThanOrEqual(1500);
  });

  it('hands the updates no workflow task saw to the new run: they do not hold up continue-as-new (as Temporal)', async () => {
    const { engine } = env.client;
    const handle = await env.client.startWorkflow(Updated, { id: 'updated-2', taskQueue: 'q', args: [1] });
    const ref = { workflowId: 'updated-2', runId: handle.runId! };
    // A worker of our own takes the first task; an update arrives while it runs...
    expect(await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'slow-worker', 0)).toBeDefined();
    const update = handle.executeUpdate(Updated.prototype.bump, { id: 'late' });
    for (const deadline = Date.now() + 5_000; (await engine.readUpdate(ref, 'late')).update?.stage !== 'admitted'; ) {
      if (Date.now() > deadline) throw new Error('the update was not admitted');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // ...and the task continues as new.
    const next = randomUUID();
    const input = [env.client.payloads.toPayload(2)];
    const started = {
      workflowType: 'Updated',
      workflowId: 'updated-2',
      taskQueue: 'q',
      input,
      workflowExecutionTimeout: 0,
      workflowRunTimeout: 0,
      workflowTaskTimeout: 10_000,
      attempt: 1,
      identity: 'slow-worker',
      firstExecutionRunId: handle.runId,
      randomnessSeed: '0123456789abcdef',
      originalExecutionRunId: next,
      continuedExecutionRunId: handle.runId,
      initiator: ContinueAsNewInitiator.WORKFLOW,
    };
    const reply = await engine.completeWorkflowTask(
      { ...ref, token: '1' },
      {
        identity: 'slow-worker',
        workerId: 'slow-worker',
        stickyTimeout: 0,
        fence: 3,
        commands: [
          {
            eventType: EventType.WorkflowExecutionContinuedAsNew,
            attributes: {
              newExecutionRunId: next,
              workflowType: 'Updated',
              taskQueue: 'q',
              input,
              workflowRunTimeout: 0,
              workflowTaskTimeout: 10_000,
              backoffStartInterval: 0,
              initiator: ContinueAsNewInitiator.WORKFLOW,
              workflowTaskCompletedEventId: 4,
            },
            meta: { rid: next, attrs: JSON.stringify(started), type: 'Updated', tq: 'q', wfto: 10_000, rto: 0, bof: 0 },
          },
        ],
      },
    );
    expect(reply.code).toBe(1);
    expect(types(await handle.fetchHistory())).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionContinuedAsNew,
    ]);
    expect((await engine.readUpdate(ref, 'late')).update).toEqual({ stage: 'moved', movedTo: next });
    // The new run's first workflow task delivers it; the caller gets its result from there.
    const w = worker();
    await w.runUntil(async () => {
      expect(await update).toBe(`run ${next} call 1`);
      // The same id sent again (to the first run, which sends it on) attaches to it.
      expect(await handle.executeUpdate(Updated.prototype.bump, { id: 'late' })).toBe(`run ${next} call 1`);
      await env.client.getWorkflowHandle('updated-2').signal(Updated.prototype.finish);
      expect(await handle.result()).toBe(2);
    });
    const second = await env.client.getWorkflowHandle('updated-2', next).fetchHistory();
    expect(types(second)).toContain(EventType.WorkflowExecutionUpdateAccepted);
  });

  it('rejects bad continue-as-new options, naming them', () => {
    expect(() => workflow.makeContinueAsNewFunction('Mover', { taskQueue: '' })).toThrow('Invalid taskQueue: "" (a non-empty string)');
    expect(() => workflow.makeContinueAsNewFunction('Mover', { color: 'red' } as never)).toThrow('Unknown continue-as-new option(s): color');
    expect(() => workflow.continueAsNew(1)).toThrow('workflow.continueAsNew() may only be called from workflow code');
  });
});
