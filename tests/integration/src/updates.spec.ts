import {
  Activity,
  ApplicationError,
  EventType,
  WorkflowDefn,
  WorkflowNotFoundError,
  WorkflowRun,
  WorkflowSignal,
  WorkflowUpdate,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, Worker, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Stock {
  @Activity({ name: 'reserve' })
  async reserve(item: string): Promise<string> {
    return `reserved ${item}`;
  }
}

/** A cart that runs until checked out; `removeItem` is validated, `reserveItem` calls an activity. */
@WorkflowDefn()
class Cart {
  items: string[] = ['apple', 'pear'];
  checkedOut = false;

  @WorkflowRun()
  async run(): Promise<string[]> {
    workflow.setUpdateHandler('rename', (from: string, to: string) => {
      this.items = this.items.map((i) => (i === from ? to : i));
      return this.items;
    }, {
      validator: (from: string) => {
        if (!this.items.includes(from)) throw new ApplicationError(`cannot rename ${from}`);
      },
    });
    await workflow.waitCondition(() => this.checkedOut);
    return this.items;
  }

  @WorkflowSignal()
  checkout(): void {
    this.checkedOut = true;
  }

  @WorkflowUpdate({ validator: 'validateRemove' })
  async removeItem(item: string): Promise<number> {
    this.items = this.items.filter((i) => i !== item);
    return this.items.length;
  }

  validateRemove(item: string): void {
    if (!this.items.includes(item)) throw new ApplicationError(`no item ${item}`, { type: 'NoSuchItem' });
  }

  @WorkflowUpdate()
  async reserveItem(item: string): Promise<string> {
    const reserved = await workflow.executeActivity(Stock.prototype.reserve, item, { startToCloseTimeout: '5s' });
    this.items.push(item);
    return reserved;
  }

  @WorkflowUpdate()
  async failing(message: string): Promise<void> {
    throw new ApplicationError(message, { type: 'Refused' });
  }

  /** Never finishes: the run may close under it. */
  @WorkflowUpdate()
  async forever(): Promise<void> {
    await workflow.waitCondition(() => false);
  }

  @WorkflowUpdate()
  async finish(): Promise<string> {
    this.checkedOut = true;
    return 'bye';
  }

  @WorkflowUpdate()
  async buggy(): Promise<void> {
    throw new TypeError('a bug');
  }
}

const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);

describe('updates', () => {
  let env: TestEnvironment;
  let worker: Worker;
  let running: Promise<void> | undefined;
  let stop: () => void;

  beforeEach(async () => {
    env = await TestEnvironment.create();
    worker = env.newWorker({ taskQueue: 'shop', workflows: [Cart], activities: [new Stock()] });
    let release!: () => void;
    const until = new Promise<void>((resolve) => (release = resolve));
    stop = release;
    running = worker.runUntil(until);
  });
  afterEach(async () => {
    stop?.();
    await running;
    await env.teardown();
  });

  /** A started cart whose first workflow task completed. */
  async function startCart(id = 'cart-1'): Promise<WorkflowHandle<string[]>> {
    const handle = await env.client.startWorkflow(Cart, { id, taskQueue: 'shop', args: [] });
    await waitForHistory(handle, (h) => h.some((e) => e.eventType === EventType.WorkflowTaskCompleted));
    return handle;
  }

  async function waitForHistory(handle: WorkflowHandle<unknown>, done: (h: HistoryEvent[]) => boolean): Promise<HistoryEvent[]> {
    for (let waited = 0; ; waited += 10) {
      const history = await handle.fetchHistory();
      if (done(history)) return history;
      if (waited > 5_000) throw new Error(`history never got there: ${types(history).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('executeUpdate runs the handler and records Accepted then Completed after the accepting task', async () => {
    const handle = await startCart();
    await expect(handle.executeUpdate(Cart.prototype.removeItem, { args: ['apple'], id: 'rm-1' })).resolves.toBe(1);
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionUpdateAccepted,
      EventType.WorkflowExecutionUpdateCompleted,
    ]);
    const [accepted, completed] = history.slice(7);
    expect(accepted!.attributes).toEqual({
      protocolInstanceId: 'rm-1',
      acceptedRequestMessageId: 'rm-1',
      acceptedRequestSequencingEventId: 4,
      acceptedRequest: {
        meta: { updateId: 'rm-1', identity: env.client.identity },
        input: { name: 'removeItem', args: [{ metadata: { encoding: 'json/plain' }, data: 'apple' }] },
      },
    });
    expect(completed!.attributes).toEqual({
      meta: { updateId: 'rm-1', identity: env.client.identity },
      acceptedEventId: 8,
      outcome: { success: [{ metadata: { encoding: 'json/plain' }, data: 1 }] },
    });
    await handle.signal(Cart.prototype.checkout);
    await expect(handle.result()).resolves.toEqual(['pear']);
  });

  it('a rejected update writes nothing, not even its workflow task, and fails with the validator error', async () => {
    const handle = await startCart();
    const before = await handle.fetchHistory();
    const error = await handle.executeUpdate(Cart.prototype.removeItem, { args: ['fig'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((error as Error).message).toBe('Workflow update failed');
    const cause = (error as Error).cause as ApplicationError;
    expect(cause).toBeInstanceOf(ApplicationError);
    expect(cause.message).toBe('no item fig');
    expect(cause.type).toBe('NoSuchItem');
    expect(await handle.fetchHistory()).toEqual(before);
    // The run goes on and takes the next update.
    await expect(handle.executeUpdate('removeItem', { args: ['pear'] })).resolves.toBe(1);
  });

  it('setUpdateHandler with a validator; an update without a handler is rejected naming the known updates', async () => {
    const handle = await startCart();
    await expect(handle.executeUpdate<string[]>('rename', { args: ['apple', 'kiwi'] })).resolves.toEqual(['kiwi', 'pear']);
    const rejected = await handle.executeUpdate('rename', { args: ['plum', 'x'] }).catch((e: unknown) => e);
    expect(((rejected as Error).cause as Error).message).toBe('cannot rename plum');
    const unknown = await handle.executeUpdate('nope').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((unknown as Error).cause as Error).message).toBe(
      "Update handler for 'nope' expected but not found, and there is no dynamic handler. known updates: [buggy failing finish forever removeItem rename reserveItem]",
    );
  });

  it('a handler that throws an ApplicationError fails the update only', async () => {
    const handle = await startCart();
    const error = await handle.executeUpdate(Cart.prototype.failing, { args: ['not today'], id: 'f-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((error as Error).cause as ApplicationError).message).toBe('not today');
    expect(((error as Error).cause as ApplicationError).type).toBe('Refused');
    const history = await handle.fetchHistory();
    const completed = history.at(-1)!;
    expect(completed.eventType).toBe(EventType.WorkflowExecutionUpdateCompleted);
    expect((completed.attributes as { outcome: { failure: { message: string } } }).outcome.failure.message).toBe('not today');
    expect((await handle.describe()).status).toBe('RUNNING');
  });

  it('a handler that throws another error fails the workflow task, and the update stays in flight', async () => {
    const handle = await startCart();
    // Accepted in a task that then failed: never recorded, so the caller waits on while the task is retried.
    let settled = false;
    const update = handle.startUpdate(Cart.prototype.buggy, { waitForStage: WorkflowUpdateStage.ACCEPTED, id: 'bug-1' }).finally(() => (settled = true));
    update.catch(() => undefined);
    const history = await waitForHistory(handle, (h) => h.some((e) => e.eventType === EventType.WorkflowTaskFailed));
    const failed = history.find((e) => e.eventType === EventType.WorkflowTaskFailed)!;
    expect((failed.attributes as { failure: { message: string } }).failure.message).toBe('a bug');
    expect(history.some((e) => e.eventType === EventType.WorkflowExecutionUpdateAccepted)).toBe(false);
    expect(settled).toBe(false);
  });

  it('update handlers may call activities; startUpdate returns once ACCEPTED and result() waits for COMPLETED', async () => {
    const handle = await startCart();
    const update = await handle.startUpdate(Cart.prototype.reserveItem, { args: ['fig'], waitForStage: WorkflowUpdateStage.ACCEPTED, id: 'r-1' });
    expect(update.updateId).toBe('r-1');
    expect(update.workflowId).toBe('cart-1');
    await expect(update.result()).resolves.toBe('reserved fig');
    const history = await handle.fetchHistory();
    expect(types(history).slice(4)).toEqual([
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionUpdateAccepted,
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionUpdateCompleted,
    ]);
    await handle.signal(Cart.prototype.checkout);
    await expect(handle.result()).resolves.toEqual(['apple', 'pear', 'fig']);
  });

  it('update ids are idempotency keys: a known id gets the first outcome and never runs the handler again', async () => {
    const handle = await startCart();
    await expect(handle.executeUpdate(Cart.prototype.removeItem, { args: ['apple'], id: 'same' })).resolves.toBe(1);
    // The same id with other arguments: the first outcome, no new events.
    const before = await handle.fetchHistory();
    await expect(handle.executeUpdate(Cart.prototype.removeItem, { args: ['pear'], id: 'same' })).resolves.toBe(1);
    expect(await handle.fetchHistory()).toEqual(before);
    const again = await handle.startUpdate(Cart.prototype.removeItem, { args: ['pear'], id: 'same', waitForStage: 'ACCEPTED' });
    await expect(again.result()).resolves.toBe(1);
  });

  it('the update that completes the run returns its result; a closed run answers a known id, else WorkflowNotFoundError', async () => {
    const handle = await startCart();
    await expect(handle.executeUpdate(Cart.prototype.finish, { id: 'fin' })).resolves.toBe('bye');
    await expect(handle.result()).resolves.toEqual(['apple', 'pear']);
    const history = await handle.fetchHistory();
    expect(types(history).slice(-3)).toEqual([
      EventType.WorkflowExecutionUpdateAccepted,
      EventType.WorkflowExecutionUpdateCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    await expect(handle.executeUpdate(Cart.prototype.finish, { id: 'fin' })).resolves.toBe('bye');
    const error = await handle.executeUpdate(Cart.prototype.finish, { id: 'other' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowNotFoundError);
    expect((error as Error).message).toBe(`Workflow execution already completed: workflowId="cart-1" runId="${history[0]!.attributes['firstExecutionRunId']}"`);
  });

  it('an update accepted and unfinished when the run closes fails with AcceptedUpdateCompletedWorkflow', async () => {
    const handle = await startCart();
    const update = await handle.startUpdate(Cart.prototype.forever, { waitForStage: WorkflowUpdateStage.ACCEPTED, id: 'ever' });
    await handle.signal(Cart.prototype.checkout);
    await handle.result();
    const error = await update.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (error as Error).cause as ApplicationError;
    expect(cause).toBeInstanceOf(ApplicationError);
    expect(cause.message).toBe('Workflow Update failed because the Workflow completed before the Update completed.');
    expect(cause.type).toBe('AcceptedUpdateCompletedWorkflow');
    expect(cause.nonRetryable).toBe(true);
  });

  it('refuses ADMITTED and unknown stages, and an unknown workflow', async () => {
    const handle = await startCart();
    await expect(handle.startUpdate('removeItem', { args: ['apple'], waitForStage: WorkflowUpdateStage.ADMITTED as never })).rejects.toThrow(
      new TypeError('ADMITTED wait stage not supported'),
    );
    await expect(handle.startUpdate('removeItem', { waitForStage: 'DONE' as never })).rejects.toThrow(
      new TypeError('Invalid waitForStage: "DONE" (ACCEPTED or COMPLETED)'),
    );
    await expect(env.client.getWorkflowHandle('nobody').executeUpdate('removeItem')).rejects.toThrow(WorkflowNotFoundError);
  });

  it('updates sent while the run is busy are each delivered once, in order', async () => {
    const handle = await startCart();
    const results = await Promise.all(['apple', 'pear', 'fig', 'apple'].map((item, i) => handle.executeUpdate('reserveItem', { args: [item], id: `u${i}` })));
    expect(results).toEqual(['reserved apple', 'reserved pear', 'reserved fig', 'reserved apple']);
    const accepted = (await handle.fetchHistory()).filter((e) => e.eventType === EventType.WorkflowExecutionUpdateAccepted);
    expect(accepted.map((e) => e.attributes['protocolInstanceId']).sort()).toEqual(['u0', 'u1', 'u2', 'u3']);
  });
});
