import {
  ApplicationError,
  CancelledError,
  ChildWorkflowCancellationType,
  ChildWorkflowError,
  EventType,
  ParentClosePolicy,
  Replayer,
  RetryState,
  WorkflowAlreadyStartedError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowRun,
  WorkflowSignal,
  workflow,
} from '@durabull/sdk';
import type { ChildWorkflowHandle, HistoryEvent, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

// Child workflows (API.md "Child workflows and other workflows"; TEMPORAL-SEMANTICS §13): a
// parent starts a child, usually on another shard, through the engine's cross-shard messages;
// the exact histories of both runs, ChildWorkflowError, a taken id, each parent close policy,
// cancellation types, describe's pending children, and replay of what was recorded.

@WorkflowDefn()
class Shipping {
  released = false;
  notes: string[] = [];

  @WorkflowRun()
  async run(order: string): Promise<string> {
    if (order === 'broken') throw new ApplicationError('no such order', { type: 'OrderError', nonRetryable: true });
    if (order.startsWith('hold')) await workflow.waitCondition(() => this.released);
    return `shipped ${order}${this.notes.map((n) => ` ${n}`).join('')}`;
  }

  @WorkflowSignal()
  release(note?: string): void {
    if (note) this.notes.push(note);
    this.released = true;
  }
}

type Outcome =
  | { ok: true; value: unknown; workflowId?: string; firstExecutionRunId?: string }
  | { ok: false; error: string; message: string; fields?: Record<string, unknown>; cause?: { error: string; message: string } };

function outcomeOf(error: unknown): Outcome {
  const e = error as Error & Partial<ChildWorkflowError>;
  const outcome: Outcome = { ok: false, error: e.constructor.name, message: e.message };
  if (e instanceof ChildWorkflowError) {
    outcome.fields = { workflowId: e.workflowId, runId: e.runId, workflowType: e.workflowType, retryState: e.retryState };
    outcome.cause = { error: (e.cause as Error).constructor.name, message: (e.cause as Error).message };
  }
  return outcome;
}

/** Runs one child as `how` says and reports how it went. */
@WorkflowDefn()
class Orders {
  @WorkflowRun()
  async run(how: 'execute' | 'start' | 'signal' | 'cancel', order: string, childId?: string): Promise<Outcome> {
    try {
      if (how === 'execute') {
        return { ok: true, value: await workflow.executeChildWorkflow(Shipping, order, childId ? { id: childId } : {}) };
      }
      const child = await workflow.startChildWorkflow(Shipping, { args: [order], ...(childId ? { id: childId } : {}) });
      if (how === 'signal') await child.signal(Shipping.prototype.release, 'fast');
      if (how === 'cancel') child.cancel();
      return { ok: true, value: await child.result(), workflowId: child.workflowId, firstExecutionRunId: child.firstExecutionRunId };
    } catch (error) {
      return outcomeOf(error);
    }
  }
}

/** Starts a child that waits, with these options, then waits itself (for a cancel) or returns. */
@WorkflowDefn()
class Parent {
  child?: ChildWorkflowHandle<string>;

  @WorkflowRun()
  async run(
    childId: string,
    options: { parentClosePolicy?: ParentClosePolicy; cancellationType?: ChildWorkflowCancellationType },
    then: 'return' | 'await',
  ): Promise<string> {
    this.child = await workflow.startChildWorkflow(Shipping, { args: ['hold'], id: childId, ...options });
    if (then === 'return') return 'done';
    return await this.child.result();
  }
}

/** Continues as new `rounds` times, then completes. */
@WorkflowDefn()
class Rounds {
  @WorkflowRun()
  async run(rounds: number): Promise<string> {
    if (rounds > 0) workflow.continueAsNew(rounds - 1);
    return `done on attempt ${workflow.info().attempt}`;
  }
}

/** Returns `workflow.info().parent`, after continuing as new `rounds` times. */
@WorkflowDefn()
class Orphan {
  @WorkflowRun()
  async run(rounds: number): Promise<unknown> {
    if (rounds > 0) workflow.continueAsNew(rounds - 1);
    return workflow.info().parent ?? null;
  }
}

/** Ignores a cancellation request: waits until signalled `release`. */
@WorkflowDefn()
class Stubborn {
  released = false;

  @WorkflowRun()
  async run(): Promise<string> {
    try {
      await workflow.waitCondition(() => this.released);
    } catch {
      await workflow.waitCondition(() => this.released);
    }
    return 'stubborn';
  }

  @WorkflowSignal()
  release(): void {
    this.released = true;
  }
}

/** Fails its first attempt, completes the second. */
@WorkflowDefn()
class Flaky {
  @WorkflowRun()
  async run(): Promise<string> {
    if (workflow.info().attempt < 2) throw new ApplicationError('first attempt fails');
    return `ok on attempt ${workflow.info().attempt}`;
  }
}

/** Runs a child of `type` with `options` and reports how it went. */
@WorkflowDefn()
class Runner {
  @WorkflowRun()
  async run(type: string, args: unknown[], options: Record<string, unknown>): Promise<Outcome> {
    try {
      const child = await workflow.startChildWorkflow(type, { args, ...options });
      return { ok: true, value: await child.result(), workflowId: child.workflowId, firstExecutionRunId: child.firstExecutionRunId };
    } catch (error) {
      return outcomeOf(error);
    }
  }
}

/** Starts a child that waits, then continues as new once: the parent close policy applies. */
@WorkflowDefn()
class Relay {
  @WorkflowRun()
  async run(childId: string, round: number): Promise<string> {
    if (round === 0) {
      await workflow.startChildWorkflow(Shipping, { args: ['hold'], id: childId });
      workflow.continueAsNew(childId, 1);
    }
    return 'second run';
  }
}

const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);

async function eventually<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('child workflows', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
  });
  afterEach(() => env.teardown());

  const worker = () => env.newWorker({ taskQueue: 'q', workflows: [Shipping, Orders, Parent, Rounds, Flaky, Runner, Relay, Orphan, Stubborn] });
  const shardOf = (id: string) => env.client.engine.keys.shardOf(id);
  /** A workflow id on another shard than `other`'s. */
  const idBesides = (prefix: string, other: string) => {
    for (let i = 0; ; i++) if (shardOf(`${prefix}-${i}`) !== shardOf(other)) return `${prefix}-${i}`;
  };
  const closeOf = async (handle: WorkflowHandle) =>
    eventually(async () => {
      const last = (await handle.fetchHistory()).at(-1);
      return last && last.eventType !== EventType.WorkflowTaskScheduled && /^WorkflowExecution(Completed|Failed|Canceled|Terminated|TimedOut)$/.test(last.eventType)
        ? last
        : undefined;
    }, `${handle.workflowId} to close`);

  it('runs a child on another shard: the exact histories of parent and child, and its result', async () => {
    const childId = idBesides('ship', 'orders-1');
    expect(shardOf(childId)).not.toBe(shardOf('orders-1'));
    const parent = await env.client.startWorkflow(Orders, { args: ['execute', 'book', childId], id: 'orders-1', taskQueue: 'q' });
    expect(await worker().runUntil(parent.result())).toEqual({ ok: true, value: 'shipped book' });

    const history = await parent.fetchHistory();
    // The child may complete before the parent's task that its start scheduled is started (a busy
    // machine): that task then delivers both events, as Temporal's server does.
    const childDoneFirst = history[7]!.eventType === EventType.ChildWorkflowExecutionCompleted;
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.StartChildWorkflowExecutionInitiated,
      EventType.ChildWorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      ...(childDoneFirst
        ? [EventType.ChildWorkflowExecutionCompleted]
        : [EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted, EventType.ChildWorkflowExecutionCompleted, EventType.WorkflowTaskScheduled]),
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    const child = env.client.getWorkflowHandle(childId);
    const childRun = (await child.describe()).runId;
    expect(history[4]!.attributes).toEqual({
      workflowId: childId,
      workflowType: 'Shipping',
      taskQueue: 'q',
      input: [env.client.payloads.toPayload('book')],
      workflowExecutionTimeout: 0,
      workflowRunTimeout: 0,
      workflowTaskTimeout: 10_000,
      parentClosePolicy: 'TERMINATE',
      workflowTaskCompletedEventId: 4,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    const execution = { workflowId: childId, runId: childRun };
    expect(history[5]!.attributes).toEqual({ initiatedEventId: 5, workflowExecution: execution, workflowType: 'Shipping' });
    expect(history[childDoneFirst ? 7 : 9]!.attributes).toEqual({
      startedEventId: 6,
      workflowExecution: execution,
      workflowType: 'Shipping',
      initiatedEventId: 5,
      result: [env.client.payloads.toPayload('shipped book')],
    });

    const childHistory = await child.fetchHistory();
    expect(types(childHistory)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect(childHistory[0]!.attributes).toMatchObject({
      workflowType: 'Shipping',
      workflowId: childId,
      taskQueue: 'q',
      input: [env.client.payloads.toPayload('book')],
      firstExecutionRunId: childRun,
      parentWorkflowExecution: { workflowId: 'orders-1', runId: parent.runId },
      parentInitiatedEventId: 5,
    });
  });

  it('gives the parent a ChildWorkflowError when the child fails (retryState RETRY_POLICY_NOT_SET, cause the child failure)', async () => {
    const parent = await env.client.startWorkflow(Orders, { args: ['execute', 'broken', 'broken-1'], id: 'orders-2', taskQueue: 'q' });
    const outcome = await worker().runUntil(parent.result());
    const childRun = (await env.client.getWorkflowHandle('broken-1').describe()).runId;
    expect(outcome).toEqual({
      ok: false,
      error: 'ChildWorkflowError',
      message: 'Child Workflow execution failed',
      fields: { workflowId: 'broken-1', runId: childRun, workflowType: 'Shipping', retryState: RetryState.RETRY_POLICY_NOT_SET },
      cause: { error: 'ApplicationError', message: 'no such order' },
    });
    const failed = (await parent.fetchHistory()).find((e) => e.eventType === EventType.ChildWorkflowExecutionFailed)!;
    expect(failed.attributes).toMatchObject({
      workflowExecution: { workflowId: 'broken-1', runId: childRun },
      workflowType: 'Shipping',
      initiatedEventId: 5,
      startedEventId: 6,
      retryState: 'RETRY_POLICY_NOT_SET',
      failure: { message: 'no such order', applicationFailureInfo: { type: 'OrderError', nonRetryable: true } },
    });
  });

  it('fails a parent that does not catch the ChildWorkflowError, its cause kept', async () => {
    @WorkflowDefn({ name: 'Careless' })
    class Careless {
      @WorkflowRun()
      async run(): Promise<string> {
        return await workflow.executeChildWorkflow(Shipping, { args: ['broken'] });
      }
    }
    const parent = await env.client.startWorkflow(Careless, { id: 'careless', taskQueue: 'q' });
    const w = env.newWorker({ taskQueue: 'q', workflows: [Shipping, Careless] });
    const error = (await w.runUntil(parent.result().catch((e: unknown) => e))) as Error;
    expect(error.cause).toBeInstanceOf(ChildWorkflowError);
    const childError = error.cause as ChildWorkflowError;
    expect(childError.message).toBe('Child Workflow execution failed');
    expect(childError.workflowId).toBe(`${parent.runId}-child-1`);
    expect((childError.cause as ApplicationError).message).toBe('no such order');
  });

  it('rejects startChildWorkflow with WorkflowAlreadyStartedError when the child id is taken (StartChildWorkflowExecutionFailed)', async () => {
    const running = await env.client.startWorkflow(Shipping, 'hold', { id: 'taken', taskQueue: 'q' });
    const parent = await env.client.startWorkflow(Orders, { args: ['start', 'book', 'taken'], id: 'orders-3', taskQueue: 'q' });
    const outcome = await worker().runUntil(parent.result());
    expect(outcome).toEqual({ ok: false, error: 'WorkflowAlreadyStartedError', message: 'Workflow execution already started' });
    const history = await parent.fetchHistory();
    expect(types(history).slice(3, 7)).toEqual([
      EventType.WorkflowTaskCompleted,
      EventType.StartChildWorkflowExecutionInitiated,
      EventType.StartChildWorkflowExecutionFailed,
      EventType.WorkflowTaskScheduled,
    ]);
    expect(history[5]!.attributes).toEqual({
      workflowId: 'taken',
      workflowType: 'Shipping',
      cause: 'WORKFLOW_ALREADY_EXISTS',
      initiatedEventId: 5,
      workflowTaskCompletedEventId: 4,
    });
    expect((await running.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
    void WorkflowAlreadyStartedError;
  });

  it('signals a child through its handle, and knows its ids', async () => {
    const parent = await env.client.startWorkflow(Orders, { args: ['signal', 'hold', 'signalled'], id: 'orders-4', taskQueue: 'q' });
    const outcome = await worker().runUntil(parent.result());
    const childRun = (await env.client.getWorkflowHandle('signalled').describe()).runId;
    expect(outcome).toEqual({ ok: true, value: 'shipped hold fast', workflowId: 'signalled', firstExecutionRunId: childRun });
    const history = await parent.fetchHistory();
    expect(types(history)).toContain(EventType.ExternalWorkflowExecutionSignaled);
    expect(history.find((e) => e.eventType === EventType.SignalExternalWorkflowExecutionInitiated)!.attributes).toMatchObject({
      workflowExecution: { workflowId: 'signalled', runId: '' },
      signalName: 'release',
      childWorkflowOnly: true,
    });
  });

  it('terminates a running child when the parent closes (TERMINATE, the default)', async () => {
    const childId = idBesides('held', 'parent-t');
    const parent = await env.client.startWorkflow(Parent, { args: [childId, {}, 'return'], id: 'parent-t', taskQueue: 'q' });
    const child = env.client.getWorkflowHandle(childId);
    const close = await worker().runUntil(async () => {
      await parent.result();
      return closeOf(child);
    });
    expect(close).toMatchObject({
      eventType: EventType.WorkflowExecutionTerminated,
      attributes: { reason: 'by parent close policy', identity: 'history-service' },
    });
    expect((await parent.describe()).pendingChildren).toEqual([]);
  });

  it('asks a running child to cancel when the parent closes (REQUEST_CANCEL)', async () => {
    const parent = await env.client.startWorkflow(Parent, {
      args: ['held-c', { parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL }, 'return'],
      id: 'parent-c',
      taskQueue: 'q',
    });
    const child = env.client.getWorkflowHandle('held-c');
    const close = await worker().runUntil(async () => {
      await parent.result();
      return closeOf(child);
    });
    expect(close.eventType).toBe(EventType.WorkflowExecutionCanceled);
    const requested = (await child.fetchHistory()).find((e) => e.eventType === EventType.WorkflowExecutionCancelRequested)!;
    expect(requested.attributes).toEqual({ cause: 'by parent close policy', identity: 'history-service' });
  });

  it('leaves a running child alone when the parent closes (ABANDON)', async () => {
    const parent = await env.client.startWorkflow(Parent, {
      args: ['held-a', { parentClosePolicy: ParentClosePolicy.ABANDON }, 'return'],
      id: 'parent-a',
      taskQueue: 'q',
    });
    const child = env.client.getWorkflowHandle<string>('held-a');
    const result = await worker().runUntil(async () => {
      await parent.result();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await child.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
      await child.signal(Shipping.prototype.release);
      return child.result();
    });
    expect(result).toBe('shipped hold');
  });

  it('cancels a child with the parent (WAIT_CANCELLATION_COMPLETED): the parent waits for the child to close, and is cancelled', async () => {
    const childId = idBesides('held', 'parent-w');
    const parent = await env.client.startWorkflow(Parent, { args: [childId, {}, 'await'], id: 'parent-w', taskQueue: 'q' });
    const child = env.client.getWorkflowHandle(childId);
    const error = await worker().runUntil(async () => {
      await eventually(async () => ((await parent.describe()).pendingChildren[0]?.runId ? true : undefined), 'the child to start');
      await parent.cancel();
      return parent.result().catch((e: unknown) => e as Error);
    });
    expect((error.cause as Error).constructor.name).toBe('CancelledError');
    expect((await child.describe()).status).toBe(WorkflowExecutionStatus.CANCELED);
    const history = await parent.fetchHistory();
    const order = types(history).filter((t) =>
      [
        EventType.WorkflowExecutionCancelRequested,
        EventType.RequestCancelExternalWorkflowExecutionInitiated,
        EventType.ExternalWorkflowExecutionCancelRequested,
        EventType.ChildWorkflowExecutionCanceled,
        EventType.WorkflowExecutionCanceled,
      ].includes(t),
    );
    expect(order).toEqual([
      EventType.WorkflowExecutionCancelRequested,
      EventType.RequestCancelExternalWorkflowExecutionInitiated,
      EventType.ExternalWorkflowExecutionCancelRequested,
      EventType.ChildWorkflowExecutionCanceled,
      EventType.WorkflowExecutionCanceled,
    ]);
    const initiated = history.find((e) => e.eventType === EventType.RequestCancelExternalWorkflowExecutionInitiated)!;
    expect(initiated.attributes['workflowExecution']).toEqual({ workflowId: childId, runId: '' });
    expect(initiated.attributes['childWorkflowOnly']).toBe(true);
  });

  it('TRY_CANCEL: the parent is cancelled at once, the child gets the request', async () => {
    const parent = await env.client.startWorkflow(Parent, {
      args: ['held-try', { cancellationType: ChildWorkflowCancellationType.TRY_CANCEL, parentClosePolicy: ParentClosePolicy.ABANDON }, 'await'],
      id: 'parent-try',
      taskQueue: 'q',
    });
    const child = env.client.getWorkflowHandle('held-try');
    const close = await worker().runUntil(async () => {
      await eventually(async () => ((await parent.describe()).pendingChildren[0]?.runId ? true : undefined), 'the child to start');
      await parent.cancel();
      await parent.result().catch(() => undefined);
      return closeOf(child);
    });
    expect(close.eventType).toBe(EventType.WorkflowExecutionCanceled);
    const history = await parent.fetchHistory();
    // The cancel request and the parent's close in the same workflow task: it did not wait.
    const at = types(history).indexOf(EventType.RequestCancelExternalWorkflowExecutionInitiated);
    expect(types(history)[at + 1]).toBe(EventType.WorkflowExecutionCanceled);
    expect(types(history)).not.toContain(EventType.ChildWorkflowExecutionCanceled);
  });

  it('WAIT_CANCELLATION_REQUESTED: the parent is cancelled once the child recorded the request, not when it closes', async () => {
    @WorkflowDefn({ name: 'Waiter' })
    class Waiter {
      @WorkflowRun()
      async run(): Promise<string> {
        const child = await workflow.startChildWorkflow(Stubborn, {
          id: 'stubborn',
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_REQUESTED,
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        return await child.result();
      }
    }
    const parent = await env.client.startWorkflow(Waiter, { id: 'waiter', taskQueue: 'q' });
    const child = env.client.getWorkflowHandle<string>('stubborn');
    const w = env.newWorker({ taskQueue: 'q', workflows: [Waiter, Stubborn] });
    const [error, childResult] = await w.runUntil(async () => {
      await eventually(async () => ((await parent.describe()).pendingChildren[0]?.runId ? true : undefined), 'the child to start');
      await parent.cancel();
      const e = await parent.result().catch((reason: unknown) => reason as Error);
      expect((await child.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
      await child.signal(Stubborn.prototype.release);
      return [e, await child.result()] as const;
    });
    expect((error.cause as Error).constructor.name).toBe('CancelledError');
    expect(childResult).toBe('stubborn');
    const history = types(await parent.fetchHistory());
    expect(history.slice(history.indexOf(EventType.RequestCancelExternalWorkflowExecutionInitiated))).toEqual([
      EventType.RequestCancelExternalWorkflowExecutionInitiated,
      EventType.ExternalWorkflowExecutionCancelRequested,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCanceled,
    ]);
  });

  it('ABANDON cancellation: no request to the child, the parent is cancelled at once', async () => {
    const parent = await env.client.startWorkflow(Parent, {
      args: ['held-ab', { cancellationType: ChildWorkflowCancellationType.ABANDON, parentClosePolicy: ParentClosePolicy.ABANDON }, 'await'],
      id: 'parent-ab',
      taskQueue: 'q',
    });
    const child = env.client.getWorkflowHandle('held-ab');
    await worker().runUntil(async () => {
      await eventually(async () => ((await parent.describe()).pendingChildren[0]?.runId ? true : undefined), 'the child to start');
      await parent.cancel();
      await parent.result().catch(() => undefined);
    });
    expect((await parent.describe()).status).toBe(WorkflowExecutionStatus.CANCELED);
    expect(types(await parent.fetchHistory())).not.toContain(EventType.RequestCancelExternalWorkflowExecutionInitiated);
    expect((await child.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
  });

  it('cancels a child through its handle: the parent gets ChildWorkflowError (cancelled) once the child closed', async () => {
    const parent = await env.client.startWorkflow(Orders, { args: ['cancel', 'hold', 'to-cancel'], id: 'orders-5', taskQueue: 'q' });
    const outcome = await worker().runUntil(parent.result());
    const childRun = (await env.client.getWorkflowHandle('to-cancel').describe()).runId;
    expect(outcome).toEqual({
      ok: false,
      error: 'ChildWorkflowError',
      message: 'Child Workflow execution cancelled',
      fields: { workflowId: 'to-cancel', runId: childRun, workflowType: 'Shipping', retryState: RetryState.NON_RETRYABLE_FAILURE },
      cause: { error: 'CancelledError', message: 'Cancelled' },
    });
    void CancelledError;
  });

  it('describes a parent pending children, and none once they closed', async () => {
    const childId = idBesides('held', 'parent-d');
    const parent = await env.client.startWorkflow(Parent, { args: [childId, {}, 'await'], id: 'parent-d', taskQueue: 'q' });
    const child = env.client.getWorkflowHandle(childId);
    const [pending, after] = await worker().runUntil(async () => {
      const children = await eventually(async () => {
        const found = (await parent.describe()).pendingChildren;
        return found[0]?.runId ? found : undefined;
      }, 'the child to start');
      await child.signal(Shipping.prototype.release);
      await parent.result();
      return [children, (await parent.describe()).pendingChildren];
    });
    expect(pending).toEqual([
      { workflowId: childId, runId: (await child.describe()).runId, workflowType: 'Shipping', initiatedId: 5, parentClosePolicy: 'TERMINATE' },
    ]);
    expect(after).toEqual([]);
  });

  it('hears from a child that continues as new only when its chain ends (its last run)', async () => {
    const parent = await env.client.startWorkflow(Runner, { args: ['Rounds', [1], { id: 'rounds' }], id: 'runner-can', taskQueue: 'q' });
    const outcome = (await worker().runUntil(parent.result())) as Extract<Outcome, { ok: true }>;
    const last = (await env.client.getWorkflowHandle('rounds').describe()).runId;
    expect(outcome.value).toBe('done on attempt 1');
    expect(outcome.firstExecutionRunId).not.toBe(last);
    const history = await parent.fetchHistory();
    const closes = history.filter((e) => e.eventType.startsWith('ChildWorkflowExecution') && e.eventType !== EventType.ChildWorkflowExecutionStarted);
    expect(closes.map((e) => [e.eventType, e.attributes['workflowExecution']])).toEqual([
      [EventType.ChildWorkflowExecutionCompleted, { workflowId: 'rounds', runId: last }],
    ]);
    const first = env.client.getWorkflowHandle('rounds', outcome.firstExecutionRunId);
    expect((await first.fetchHistory()).at(-1)!.eventType).toBe(EventType.WorkflowExecutionContinuedAsNew);
  });

  it('tells the child its parent (workflow.info().parent), on every run of its chain', async () => {
    const parent = await env.client.startWorkflow(Runner, { args: ['Orphan', [1], {}], id: 'runner-info', taskQueue: 'q' });
    const top = await env.client.startWorkflow(Orphan, { args: [0], id: 'no-parent', taskQueue: 'q' });
    const [outcome, none] = await worker().runUntil(Promise.all([parent.result(), top.result()]));
    expect(outcome).toMatchObject({ ok: true, value: { workflowId: 'runner-info', runId: parent.runId, namespace: env.namespace } });
    expect(none).toBeNull();
  });

  it('records the options in the Initiated event; a child retried by its retry policy reports its last attempt', async () => {
    const options = {
      id: 'flaky',
      memo: { team: 'shipping' },
      retryPolicy: { initialInterval: '50ms', maximumAttempts: 3 },
      executionTimeout: '1m',
      runTimeout: '30s',
      taskTimeout: '5s',
      idReusePolicy: 'REJECT_DUPLICATE',
      parentClosePolicy: ParentClosePolicy.ABANDON,
    };
    const parent = await env.client.startWorkflow(Runner, { args: ['Flaky', [], options], id: 'runner-retry', taskQueue: 'q' });
    expect(await worker().runUntil(parent.result())).toMatchObject({ ok: true, value: 'ok on attempt 2' });
    const history = await parent.fetchHistory();
    expect(history[4]!.attributes).toEqual({
      workflowId: 'flaky',
      workflowType: 'Flaky',
      taskQueue: 'q',
      input: [],
      workflowExecutionTimeout: 60_000,
      workflowRunTimeout: 30_000,
      workflowTaskTimeout: 5_000,
      parentClosePolicy: 'ABANDON',
      workflowTaskCompletedEventId: 4,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      retryPolicy: expect.objectContaining({ initialInterval: 50, maximumAttempts: 3 }),
      memo: { fields: { team: env.client.payloads.toPayload('shipping') } },
    });
    expect(types(history).filter((t) => t.startsWith('ChildWorkflowExecution'))).toEqual([
      EventType.ChildWorkflowExecutionStarted,
      EventType.ChildWorkflowExecutionCompleted,
    ]);
    expect((await env.client.getWorkflowHandle('flaky').describe()).memo).toEqual({ team: 'shipping' });
  });

  it('gives the parent a ChildWorkflowError when the child times out or is terminated', async () => {
    const timedOut = await env.client.startWorkflow(Runner, { args: ['Shipping', ['hold'], { id: 'slow', runTimeout: '300ms' }], id: 'runner-slow', taskQueue: 'q' });
    const terminated = await env.client.startWorkflow(Runner, { args: ['Shipping', ['hold'], { id: 'stopped' }], id: 'runner-stopped', taskQueue: 'q' });
    const [slow, stopped] = await worker().runUntil(async () => {
      const child = env.client.getWorkflowHandle('stopped');
      await eventually(async () => ((await terminated.describe()).pendingChildren[0]?.runId ? true : undefined), 'the child to start');
      await child.terminate('enough');
      return Promise.all([timedOut.result(), terminated.result()]);
    });
    expect(slow).toMatchObject({
      ok: false,
      error: 'ChildWorkflowError',
      message: 'Child Workflow execution timed out',
      fields: { workflowId: 'slow', workflowType: 'Shipping', retryState: RetryState.RETRY_POLICY_NOT_SET },
      cause: { error: 'TimeoutError', message: 'Timed out' },
    });
    expect(stopped).toMatchObject({
      ok: false,
      error: 'ChildWorkflowError',
      message: 'Child Workflow execution terminated',
      fields: { workflowId: 'stopped', workflowType: 'Shipping', retryState: RetryState.NON_RETRYABLE_FAILURE },
      cause: { error: 'TerminatedError', message: 'Terminated' },
    });
  });

  it('applies the parent close policy when the parent continues as new', async () => {
    const parent = await env.client.startWorkflow(Relay, { args: ['relayed', 0], id: 'relay', taskQueue: 'q' });
    const child = env.client.getWorkflowHandle('relayed');
    const [result, close] = await worker().runUntil(async () => [await parent.result(), await closeOf(child)] as const);
    expect(result).toBe('second run');
    expect(close).toMatchObject({ eventType: EventType.WorkflowExecutionTerminated, attributes: { reason: 'by parent close policy' } });
  });

  it('throws a TypeError naming a bad option (uncaught, it fails the workflow task)', async () => {
    const parent = await env.client.startWorkflow(Runner, { args: ['Shipping', ['x'], { parentClosePolicy: 'NOPE' }], id: 'runner-bad', taskQueue: 'q' });
    expect(await worker().runUntil(parent.result())).toEqual({
      ok: false,
      error: 'TypeError',
      message: 'Invalid parentClosePolicy: "NOPE" (one of TERMINATE, ABANDON, REQUEST_CANCEL)',
    });
    expect(types(await parent.fetchHistory())).not.toContain(EventType.StartChildWorkflowExecutionInitiated);
  });

  it('deleting a running child terminates it for its parent (ChildWorkflowExecutionTerminated); deleting a running parent applies its close policy', async () => {
    const deletedChild = await env.client.startWorkflow(Runner, { args: ['Shipping', ['hold'], { id: 'doomed' }], id: 'runner-doomed', taskQueue: 'q' });
    const childId = idBesides('orphan', 'parent-deleted');
    const deletedParent = await env.client.startWorkflow(Parent, { args: [childId, {}, 'await'], id: 'parent-deleted', taskQueue: 'q' });
    const orphan = env.client.getWorkflowHandle(childId);
    const [outcome, close] = await worker().runUntil(async () => {
      const started = async (h: WorkflowHandle) =>
        eventually(async () => ((await h.describe()).pendingChildren[0]?.runId ? true : undefined), 'the child to start');
      await Promise.all([started(deletedChild), started(deletedParent)]);
      await env.client.getWorkflowHandle('doomed').delete();
      await deletedParent.delete();
      return [await deletedChild.result(), await closeOf(orphan)] as const;
    });
    expect(outcome).toMatchObject({ ok: false, error: 'ChildWorkflowError', message: 'Child Workflow execution terminated' });
    expect(close).toMatchObject({ eventType: EventType.WorkflowExecutionTerminated, attributes: { reason: 'by parent close policy' } });
    // What the deleted runs kept for their messages went with the last of them.
    const shard = (id: string, runId: string) => env.client.engine.keys.run(id, runId).state;
    const orphanParent = (await orphan.fetchHistory())[0]!.attributes['parentWorkflowExecution'] as { workflowId: string; runId: string };
    expect(await env.client.redis.exists(shard('parent-deleted', orphanParent.runId))).toBe(0);
  });

  it('replays the recorded histories of parent and child', async () => {
    const parent = await env.client.startWorkflow(Orders, { args: ['execute', 'book', 'replayed-child'], id: 'replayed', taskQueue: 'q' });
    const failing = await env.client.startWorkflow(Orders, { args: ['execute', 'broken', 'replayed-broken'], id: 'replayed-2', taskQueue: 'q' });
    await worker().runUntil(Promise.all([parent.result(), failing.result()]));
    const handles = [parent, failing, env.client.getWorkflowHandle('replayed-child'), env.client.getWorkflowHandle('replayed-broken')];
    const replayer = new Replayer({ workflows: [Shipping, Orders] });
    const results = await replayer.replayWorkflows(
      await Promise.all(handles.map(async (h) => ({ workflowId: h.workflowId, events: await h.fetchHistory() }))),
    );
    expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined]);

    // Code that starts another child id than history says is caught.
    const changed = (await parent.fetchHistory()).map((e) =>
      e.eventId === 5 ? { ...e, attributes: { ...e.attributes, workflowId: 'elsewhere' } } : e,
    );
    const error = await replayer.replayWorkflow({ events: changed }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "Nondeterminism error: Child workflow id of scheduled event 'elsewhere' does not match child workflow id of command 'replayed-child' (event 5 StartChildWorkflowExecutionInitiated)",
    );
  });
});
