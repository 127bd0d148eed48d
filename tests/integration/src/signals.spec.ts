import {
  Activity,
  ApplicationError,
  EventType,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  WorkflowRun,
  WorkflowSignal,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

// Signals (API.md Part 2 "Signals, queries, updates"; TEMPORAL-SEMANTICS §9, §12): delivery
// order, buffering, handlers that call activities and timers, the failure rule, closed and
// unknown runs, waitCondition, signal-with-start, and a signal that arrives while a workflow
// task closes the run.

@WorkflowDefn()
class Cart {
  items: string[] = [];
  checkedOut = false;

  @WorkflowRun()
  async run(): Promise<{ atStart: string[]; items: string[] }> {
    const atStart = [...this.items];
    await workflow.waitCondition(() => this.checkedOut);
    return { atStart, items: this.items };
  }

  @WorkflowSignal()
  addItem(item: string): void {
    this.items.push(item);
  }

  @WorkflowSignal({ name: 'checkout' })
  finish(): void {
    this.checkedOut = true;
  }
}

@WorkflowDefn()
class LateHandler {
  log: string[] = [];

  @WorkflowRun()
  async run(): Promise<string[]> {
    await workflow.sleep(50);
    this.log.push('handler set');
    workflow.setSignalHandler('late', (n: number) => void this.log.push(`late ${n}`));
    return this.log;
  }
}

@WorkflowDefn()
class Dynamic {
  log: string[] = [];

  @WorkflowRun()
  async run(): Promise<string[]> {
    await workflow.waitCondition(() => this.log.length === 2);
    return this.log;
  }

  @WorkflowSignal()
  known(value: string): void {
    this.log.push(`known ${value}`);
  }

  @WorkflowSignal({ dynamic: true })
  other(name: string, ...args: unknown[]): void {
    this.log.push(`dynamic ${name} ${JSON.stringify(args)}`);
  }
}

class Shop {
  @Activity({ name: 'charge' })
  async charge(amount: number): Promise<string> {
    return `charged ${amount}`;
  }
}

@WorkflowDefn()
class Payments {
  received = false;
  receipts: string[] = [];

  @WorkflowRun()
  async run(): Promise<string[]> {
    await workflow.waitCondition(() => this.received);
    await workflow.waitCondition(workflow.allHandlersFinished);
    return this.receipts;
  }

  @WorkflowSignal()
  async pay(amount: number): Promise<void> {
    this.received = true;
    await workflow.sleep(20);
    this.receipts.push(await workflow.executeActivity(Shop.prototype.charge, amount, { startToCloseTimeout: '5s' }));
  }
}

@WorkflowDefn()
class Strict {
  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.waitCondition(() => false);
  }

  @WorkflowSignal()
  reject(kind: string): void {
    if (kind === 'application') throw new ApplicationError('order refused', { type: 'Refusal', nonRetryable: true });
    throw new TypeError('handler bug');
  }
}

@WorkflowDefn()
class Waits {
  go = false;

  @WorkflowRun()
  async run(): Promise<boolean[]> {
    const first = await workflow.waitCondition(() => this.go, { timeout: 100 });
    const second = await workflow.waitCondition(() => this.go, { timeout: '1h' });
    return [first, second];
  }

  @WorkflowSignal()
  start(): void {
    this.go = true;
  }
}

@WorkflowDefn()
class Quick {
  got: string[] = [];

  @WorkflowRun()
  async run(): Promise<string[]> {
    return this.got;
  }

  @WorkflowSignal()
  note(value: string): void {
    this.got.push(value);
  }
}

@WorkflowDefn()
class Leaves {
  @WorkflowRun()
  async run(): Promise<string> {
    return 'done';
  }

  @WorkflowSignal()
  async slow(): Promise<void> {
    await workflow.sleep('1h');
  }
}

const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);

async function eventually(handle: WorkflowHandle, type: EventType, count = 1): Promise<HistoryEvent[]> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    const history = await handle.fetchHistory();
    if (history.filter((e) => e.eventType === type).length >= count) return history;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${count} × ${type} in the history of ${handle.workflowId}`);
}

describe('signals', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
  });
  afterEach(() => env.teardown());

  const worker = () =>
    env.newWorker({
      taskQueue: 'q',
      workflows: [Cart, LateHandler, Dynamic, Payments, Strict, Waits, Quick],
      activities: [new Shop()],
    });

  it('delivers signals in history order, before the run method begins, and records WorkflowExecutionSignaled', async () => {
    const handle = await env.client.startWorkflow(Cart, { id: 'cart-1', taskQueue: 'q' });
    await handle.signal(Cart.prototype.addItem, 'apple');
    await handle.signal('addItem', 'pear');
    const w = worker();
    const result = w.runUntil(handle.result());
    await eventually(handle, EventType.WorkflowTaskCompleted);
    await handle.signal(Cart.prototype.finish);
    expect(await result).toEqual({ atStart: ['apple', 'pear'], items: ['apple', 'pear'] });

    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    const signals = history.filter((e) => e.eventType === EventType.WorkflowExecutionSignaled);
    expect(new Set(signals.map((e) => e.attributes['requestId'])).size).toBe(3);
    expect(signals.map((e) => e.attributes)).toEqual([
      { signalName: 'addItem', input: [env.client.payloads.toPayload('apple')], identity: env.client.identity, requestId: expect.any(String) },
      { signalName: 'addItem', input: [env.client.payloads.toPayload('pear')], identity: env.client.identity, requestId: expect.any(String) },
      { signalName: 'checkout', input: [], identity: env.client.identity, requestId: expect.any(String) },
    ]);
  });

  it('keeps a signal without a handler until setSignalHandler sets one, and hands unknown names to the dynamic handler', async () => {
    const late = await env.client.startWorkflow(LateHandler, { id: 'late-1', taskQueue: 'q' });
    await late.signal('late', 1);
    await late.signal('late', 2);
    const dynamic = await env.client.startWorkflow(Dynamic, { id: 'dynamic-1', taskQueue: 'q' });
    await dynamic.signal('surprise', 'x', 2);
    await dynamic.signal(Dynamic.prototype.known, 'k');
    expect(await worker().runUntil(Promise.all([late.result(), dynamic.result()]))).toEqual([
      ['handler set', 'late 1', 'late 2'],
      ['dynamic surprise ["x",2]', 'known k'],
    ]);
  });

  it('runs async handlers that call timers and activities; the run waits for allHandlersFinished', async () => {
    const handle = await env.client.startWorkflow(Payments, { id: 'pay-1', taskQueue: 'q' });
    await handle.signal(Payments.prototype.pay, 5);
    expect(await worker().runUntil(handle.result())).toEqual(['charged 5']);
    expect(types(await handle.fetchHistory())).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.TimerStarted,
      EventType.TimerFired,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
  });

  it('a handler that throws an ApplicationError fails the workflow; a TypeError fails the workflow task only', async () => {
    const failing = await env.client.startWorkflow(Strict, { id: 'strict-1', taskQueue: 'q' });
    await failing.signal(Strict.prototype.reject, 'application');
    const w = worker();
    const scenario = async () => {
      const error = await failing.result().catch((e: unknown) => e);
      const buggy = await env.client.startWorkflow(Strict, { id: 'strict-2', taskQueue: 'q' });
      await buggy.signal(Strict.prototype.reject, 'bug');
      return { error, buggy, history: await eventually(buggy, EventType.WorkflowTaskFailed) };
    };
    const { error, buggy, history } = await w.runUntil(scenario());
    expect(error).toBeInstanceOf(WorkflowFailureError);
    expect((error as WorkflowFailureError).cause).toBeInstanceOf(ApplicationError);
    expect((error as WorkflowFailureError).cause).toMatchObject({ message: 'order refused', type: 'Refusal', nonRetryable: true });

    const failed = history.find((e) => e.eventType === EventType.WorkflowTaskFailed)!;
    expect(failed.attributes).toMatchObject({ cause: 'WORKFLOW_WORKER_UNHANDLED_FAILURE', failure: { message: 'handler bug' } });
    expect((await buggy.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
    await buggy.terminate('done');
  });

  it('records a signal once per request id: the same request sent again (a reply lost to a broken connection) is a no-op', async () => {
    const handle = await env.client.startWorkflow(Quick, { id: 'dedup-1', taskQueue: 'q' });
    const ref = { workflowId: 'dedup-1', runId: handle.runId! };
    const once = await env.client.signalAttributes('note', ['once']);
    await env.client.engine.signalWorkflow(ref, once);
    await env.client.engine.signalWorkflow(ref, once);
    await handle.signal(Quick.prototype.note, 'twice');
    await handle.signal(Quick.prototype.note, 'twice');
    expect(await worker().runUntil(handle.result())).toEqual(['once', 'twice', 'twice']);
  });

  it('signalling a closed or unknown run throws WorkflowNotFoundError', async () => {
    const handle = await env.client.startWorkflow(Quick, { id: 'quick-1', taskQueue: 'q' });
    await worker().runUntil(handle.result());
    await expect(handle.signal(Quick.prototype.note, 'late')).rejects.toThrow(
      new WorkflowNotFoundError('quick-1', handle.runId, 'Workflow execution already completed'),
    );
    // Without a run id: the id's current run, closed as well.
    await expect(env.client.getWorkflowHandle('quick-1').signal('note', 'late')).rejects.toThrow(
      `Workflow execution already completed: workflowId="quick-1" runId="${handle.runId!}"`,
    );
    await expect(env.client.getWorkflowHandle('nobody').signal('note')).rejects.toThrow(
      new WorkflowNotFoundError('nobody', undefined),
    );
    await expect(env.client.getWorkflowHandle('nobody', 'no-run').signal('note')).rejects.toThrow(
      'Workflow execution not found: workflowId="nobody" runId="no-run"',
    );
    expect(types(await handle.fetchHistory())).not.toContain(EventType.WorkflowExecutionSignaled);
  });

  it('rejects a signal reference that is not a signal, and a name that is empty', async () => {
    const handle = env.client.getWorkflowHandle('any');
    await expect(handle.signal(Cart.prototype.run as never)).rejects.toThrow(
      'Invalid signal: method run is not a @WorkflowSignal method (pass the decorated method or the signal name)',
    );
    await expect(handle.signal('')).rejects.toThrow('Invalid signal name: "" (a non-empty string or a decorated method)');
  });

  it('records the headers client interceptors add, on signals and on the start signal of signal-with-start', async () => {
    const tag = (value: string) => env.client.payloads.toPayload(value);
    const client = await env.newClient({
      interceptors: [
        {
          startWorkflow: (input, next) => {
            input.headers['origin'] = tag('start');
            return next(input);
          },
          signalWorkflow: (input, next) => {
            input.headers['origin'] = tag(`signal ${input.signalName} to ${input.workflowId}`);
            return next(input);
          },
        },
      ],
    });
    const handle = await client.startWorkflow(Cart, { id: 'headers-1', taskQueue: 'q', startSignal: 'addItem', startSignalArgs: ['a'] });
    await handle.signal('checkout');
    await client.getWorkflowHandle('headers-1').signal('addItem', 'b');
    const signals = (await handle.fetchHistory()).filter((e) => e.eventType === EventType.WorkflowExecutionSignaled);
    expect(signals.map((e) => e.attributes['header'])).toEqual([
      { fields: { origin: tag('start') } },
      { fields: { origin: tag('signal checkout to headers-1') } },
      { fields: { origin: tag('signal addItem to headers-1') } },
    ]);
    await handle.terminate();
  });

  it('logs, once the run closed, the signal handlers still running and the signals no handler received', async () => {
    const logs: Array<{ message: string; attributes?: Record<string, unknown> }> = [];
    const record = (message: string, attributes?: Record<string, unknown>) => void logs.push({ message, attributes });
    const handle = await env.client.startWorkflow(Leaves, { id: 'leaves-1', taskQueue: 'q' });
    await handle.signal(Leaves.prototype.slow);
    await handle.signal('nobody', 1);
    await handle.signal('nobody', 2);
    const w = env.newWorker({ taskQueue: 'q', workflows: [Leaves], logger: { debug: () => undefined, info: () => undefined, warn: record, error: record } });
    expect(await w.runUntil(handle.result())).toBe('done');
    const ids = { workflowId: 'leaves-1', runId: handle.runId, workflowType: 'Leaves' };
    expect(logs).toEqual([
      {
        message:
          '[TMPRL1102] Workflow finished while signal handlers are still running. This may have interrupted work that the signal ' +
          'handler was doing. You can wait for all update and signal handlers to complete by using ' +
          '`await workflow.waitCondition(workflow.allHandlersFinished)`. The following signals were unfinished: [{"name":"slow","count":1}]',
        attributes: { ...ids, signals: [{ name: 'slow', count: 1 }] },
      },
      {
        message: 'Workflow closed with signals that no handler received (dropped): [{"name":"nobody","count":2}]',
        attributes: { ...ids, signals: [{ name: 'nobody', count: 2 }] },
      },
    ]);
  });

  it('waitCondition: false when its durable timer fires first; true when a signal makes it hold, the timer cancelled', async () => {
    const handle = await env.client.startWorkflow(Waits, { id: 'waits-1', taskQueue: 'q' });
    const w = worker();
    const result = w.runUntil(handle.result());
    await eventually(handle, EventType.TimerStarted, 2);
    await handle.signal(Waits.prototype.start);
    expect(await result).toEqual([false, true]);
    const history = await handle.fetchHistory();
    const timers = history.filter((e) => e.eventType.startsWith('Timer'));
    expect(timers.map((e) => [e.eventType, e.attributes['timerId']])).toEqual([
      [EventType.TimerStarted, '1'],
      [EventType.TimerFired, '1'],
      [EventType.TimerStarted, '2'],
      [EventType.TimerCanceled, '2'],
    ]);
    expect(timers[0]!.attributes['startToFireTimeout']).toBe(100);
    expect(timers[2]!.attributes['startToFireTimeout']).toBe(3_600_000);
  });

  describe('signal-with-start', () => {
    it('starts a run whose history is WorkflowExecutionStarted, WorkflowExecutionSignaled, WorkflowTaskScheduled', async () => {
      const handle = await env.client.startWorkflow(Cart, {
        id: 'sws-1',
        taskQueue: 'q',
        startSignal: Cart.prototype.addItem,
        startSignalArgs: ['fig'],
      });
      const history = await handle.fetchHistory();
      expect(types(history)).toEqual([
        EventType.WorkflowExecutionStarted,
        EventType.WorkflowExecutionSignaled,
        EventType.WorkflowTaskScheduled,
      ]);
      expect(history[1]!.attributes).toEqual({ signalName: 'addItem', input: [env.client.payloads.toPayload('fig')], identity: env.client.identity, requestId: expect.any(String) });

      // The id is running: the same call signals that run (never failed, never terminated).
      const again = await env.client.startWorkflow(Cart, { id: 'sws-1', taskQueue: 'q', startSignal: 'addItem', startSignalArgs: ['kiwi'] });
      expect(again.runId).toBe(handle.runId);
      const scenario = async () => {
        await eventually(handle, EventType.WorkflowTaskCompleted);
        await handle.signal('checkout');
        const result = await handle.result();
        // Closed: a new run starts (reuse policy ALLOW_DUPLICATE), with its own start signal.
        const next = await env.client.startWorkflow(Cart, { id: 'sws-1', taskQueue: 'q', startSignal: 'checkout' });
        return { result, next, nextResult: await next.result() };
      };
      const { result, next, nextResult } = await worker().runUntil(scenario());
      expect(result).toEqual({ atStart: ['fig', 'kiwi'], items: ['fig', 'kiwi'] });
      expect(next.runId).not.toBe(handle.runId);
      expect(nextResult).toEqual({ atStart: [], items: [] });
    });

    it('executeWorkflow with a start signal follows the running run it signalled', async () => {
      const first = await env.client.startWorkflow(Cart, { id: 'sws-2', taskQueue: 'q', startSignal: 'addItem', startSignalArgs: ['a'] });
      const w = worker();
      const result = w.runUntil(env.client.executeWorkflow(Cart, { id: 'sws-2', taskQueue: 'q', startSignal: 'checkout' }));
      expect(await result).toEqual({ atStart: ['a'], items: ['a'] });
      expect((await first.describe()).status).toBe(WorkflowExecutionStatus.COMPLETED);
    });

    it('refuses bad start signal options before anything is sent', async () => {
      await expect(
        env.client.startWorkflow(Cart, { id: 'sws-3', taskQueue: 'q', startSignal: 'addItem', idConflictPolicy: WorkflowIdConflictPolicy.FAIL }),
      ).rejects.toThrow(new TypeError('Invalid WorkflowIDConflictPolicy: WORKFLOW_ID_CONFLICT_POLICY_FAIL is not supported for this operation.'));
      await expect(env.client.startWorkflow(Cart, { id: 'sws-3', taskQueue: 'q', startSignalArgs: ['x'] })).rejects.toThrow(
        new TypeError('startSignalArgs needs startSignal (the signal to send with the start)'),
      );
      await expect(
        env.client.startWorkflow(Cart, { id: 'sws-3', taskQueue: 'q', startSignal: 'addItem', startSignalArgs: 'x' as never }),
      ).rejects.toThrow(new TypeError('startSignalArgs must be an array, got "x"'));
      await expect(env.client.startWorkflow(Cart, { id: 'sws-3', taskQueue: 'q', startSignal: Cart.prototype.run as never })).rejects.toThrow(
        'Invalid signal: method run is not a @WorkflowSignal method (pass the decorated method or the signal name)',
      );
      await expect(env.client.getWorkflowHandle('sws-3').describe()).rejects.toThrow(WorkflowNotFoundError);
    });
  });

  it('a signal that arrives while a workflow task closes the run is not lost: UNHANDLED_COMMAND, then a new task delivers it', async () => {
    const { engine } = env.client;
    const handle = await env.client.startWorkflow(Quick, { id: 'quick-2', taskQueue: 'q' });
    const ref = { workflowId: 'quick-2', runId: handle.runId! };
    // A worker of our own takes the first task and is about to complete the run...
    const task = await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'slow-worker', 0);
    expect(task?.events.map((e) => e.eventType)).toEqual([EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted]);
    // ...when a signal arrives: it waits in the run's buffer.
    await handle.signal(Quick.prototype.note, 'just in time');
    expect(types(await handle.fetchHistory())).toHaveLength(3);
    const reply = await engine.completeWorkflowTask(
      { ...ref, token: '1' },
      {
        identity: 'slow-worker',
        workerId: 'slow-worker',
        stickyTimeout: 0,
        fence: 3,
        commands: [{ eventType: EventType.WorkflowExecutionCompleted, attributes: { result: [], workflowTaskCompletedEventId: 4 }, meta: {} }],
      },
    );
    expect(reply.code).toBe(-5);
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskFailed,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
    ]);
    expect(history[3]!.attributes).toMatchObject({ cause: 'UNHANDLED_COMMAND' });
    // The next task delivers it before the run method runs.
    expect(await worker().runUntil(handle.result())).toEqual(['just in time']);
  });
});
