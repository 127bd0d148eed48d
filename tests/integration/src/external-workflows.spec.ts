import {
  ApplicationError,
  CancelledError,
  EventType,
  ExternalWorkflowExecutionFailedCause,
  Replayer,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowRun,
  WorkflowSignal,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

// External workflow handles (API.md "Child workflows and other workflows"; TEMPORAL-SEMANTICS
// §14): a workflow signals or cancels another run, usually on another shard, through the
// engine's cross-shard messages; the exact histories of both runs, unknown ids, a named run,
// and replay of what was recorded.

@WorkflowDefn()
class Inbox {
  items: string[] = [];

  @WorkflowRun()
  async run(count: number): Promise<string[]> {
    await workflow.waitCondition(() => this.items.length >= count);
    return this.items;
  }

  @WorkflowSignal()
  addItem(item: string): void {
    this.items.push(item);
  }
}

type Outcome = { ok: true } | { ok: false; error: string; message: string; type?: string };

/** Sends one message to another run, as `how` says, and reports how it went. */
@WorkflowDefn()
class Messenger {
  @WorkflowRun()
  async run(how: 'method' | 'name' | 'cancel', workflowId: string, runId?: string): Promise<Outcome> {
    const other = workflow.getExternalWorkflowHandle(workflowId, runId);
    try {
      if (how === 'method') await other.signal(Inbox.prototype.addItem, 'pear');
      else if (how === 'name') await other.signal('addItem', 'apple');
      else await other.cancel();
      return { ok: true };
    } catch (error) {
      const e = error as ApplicationError;
      return { ok: false, error: e.constructor.name, message: e.message, type: e.type };
    }
  }
}

/** Signals a run, and reports how the signal ended. */
@WorkflowDefn()
class CancelledSender {
  @WorkflowRun()
  async run(workflowId: string): Promise<string> {
    try {
      await workflow.getExternalWorkflowHandle(workflowId).signal('addItem', 'late');
      return 'sent';
    } catch (error) {
      return `${error instanceof CancelledError ? 'CancelledError' : String(error)}: ${(error as Error).message}`;
    }
  }
}

const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);

async function eventually(handle: WorkflowHandle, type: EventType): Promise<HistoryEvent[]> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    const history = await handle.fetchHistory();
    if (history.some((e) => e.eventType === type)) return history;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${type} in the history of ${handle.workflowId}`);
}

describe('external workflow handles', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
  });
  afterEach(() => env.teardown());

  const worker = () => env.newWorker({ taskQueue: 'q', workflows: [Inbox, Messenger, CancelledSender] });
  const shardOf = (id: string) => env.client.engine.keys.shardOf(id);
  /** A workflow id on another shard than `other`'s. */
  const idBesides = (prefix: string, other: string) => {
    for (let i = 0; ; i++) if (shardOf(`${prefix}-${i}`) !== shardOf(other)) return `${prefix}-${i}`;
  };
  const started = (history: HistoryEvent[], type: EventType) => history.find((e) => e.eventType === type)!;

  it('signals a run on another shard, by method reference and by name, with the exact history of both runs', async () => {
    const targetId = idBesides('inbox', 'messenger-1');
    expect(shardOf(targetId)).not.toBe(shardOf('messenger-1'));
    const target = await env.client.startWorkflow(Inbox, 2, { id: targetId, taskQueue: 'q' });
    const byMethod = await env.client.startWorkflow(Messenger, { args: ['method', targetId], id: 'messenger-1', taskQueue: 'q' });
    const results = await worker().runUntil(async () => {
      const first = await byMethod.result();
      // The second after the first, so the target's signal order is known.
      const byName = await env.client.startWorkflow(Messenger, { args: ['name', targetId], id: 'messenger-2', taskQueue: 'q' });
      return [first, await byName.result(), await target.result()];
    });
    expect(results).toEqual([{ ok: true }, { ok: true }, ['pear', 'apple']]);

    const sender = await byMethod.fetchHistory();
    expect(types(sender)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.SignalExternalWorkflowExecutionInitiated,
      EventType.ExternalWorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect(sender[4]!.attributes).toEqual({
      workflowTaskCompletedEventId: 4,
      workflowExecution: { workflowId: targetId, runId: '' },
      signalName: 'addItem',
      input: [env.client.payloads.toPayload('pear')],
      childWorkflowOnly: false,
    });
    expect(sender[5]!.attributes).toEqual({ initiatedEventId: 5, workflowExecution: { workflowId: targetId, runId: target.runId } });

    const received = (await target.fetchHistory()).filter((e) => e.eventType === EventType.WorkflowExecutionSignaled);
    expect(received.map((e) => e.attributes)).toEqual([
      {
        signalName: 'addItem',
        input: [env.client.payloads.toPayload('pear')],
        identity: 'workflow messenger-1',
        externalWorkflowExecution: { workflowId: 'messenger-1', runId: byMethod.runId },
        requestId: `${byMethod.runId}:5`,
      },
      {
        signalName: 'addItem',
        input: [env.client.payloads.toPayload('apple')],
        identity: 'workflow messenger-2',
        externalWorkflowExecution: { workflowId: 'messenger-2', runId: expect.any(String) },
        requestId: expect.stringMatching(/:5$/),
      },
    ]);
  });

  it('cancels a run on another shard: RequestCancelExternalWorkflowExecutionInitiated, ExternalWorkflowExecutionCancelRequested', async () => {
    const targetId = idBesides('inbox', 'canceller');
    const target = await env.client.startWorkflow(Inbox, 1, { id: targetId, taskQueue: 'q' });
    const sender = await env.client.startWorkflow(Messenger, { args: ['cancel', targetId], id: 'canceller', taskQueue: 'q' });
    const [outcome, targetEnd] = await worker().runUntil(
      Promise.all([sender.result(), target.result().catch((e: unknown) => e)]),
    );
    expect(outcome).toEqual({ ok: true });
    expect((targetEnd as Error).constructor.name).toBe('WorkflowFailureError');
    expect(((targetEnd as Error).cause as Error).constructor.name).toBe('CancelledError');
    expect((await target.describe()).status).toBe(WorkflowExecutionStatus.CANCELED);

    const history = await sender.fetchHistory();
    expect(types(history).slice(3, 6)).toEqual([
      EventType.WorkflowTaskCompleted,
      EventType.RequestCancelExternalWorkflowExecutionInitiated,
      EventType.ExternalWorkflowExecutionCancelRequested,
    ]);
    expect(history[4]!.attributes).toEqual({
      workflowTaskCompletedEventId: 4,
      workflowExecution: { workflowId: targetId, runId: '' },
      childWorkflowOnly: false,
      reason: `Cancel requested by workflow with run id ${sender.runId} with reason: `,
    });
    expect(history[5]!.attributes).toEqual({ initiatedEventId: 5, workflowExecution: { workflowId: targetId, runId: target.runId } });
    expect(started(await target.fetchHistory(), EventType.WorkflowExecutionCancelRequested).attributes).toEqual({
      cause: `Cancel requested by workflow with run id ${sender.runId} with reason: `,
      identity: 'workflow canceller',
    });
  });

  it('cancelling a run that has closed is a success, as in Temporal, and leaves that run alone', async () => {
    const targetId = idBesides('inbox', 'late-canceller');
    const target = await env.client.startWorkflow(Inbox, 0, { id: targetId, taskQueue: 'q' });
    const [outcome, sender] = await worker().runUntil(async () => {
      await target.result();
      const handle = await env.client.startWorkflow(Messenger, { args: ['cancel', targetId], id: 'late-canceller', taskQueue: 'q' });
      return [await handle.result(), handle] as const;
    });
    expect(outcome).toEqual({ ok: true });
    expect(started(await sender.fetchHistory(), EventType.ExternalWorkflowExecutionCancelRequested).attributes).toEqual({
      initiatedEventId: 5,
      workflowExecution: { workflowId: targetId, runId: target.runId },
    });
    expect(types(await target.fetchHistory())).not.toContain(EventType.WorkflowExecutionCancelRequested);
    expect((await target.describe()).status).toBe(WorkflowExecutionStatus.COMPLETED);
  });

  it('signals or cancels an unknown workflow id: ...Failed with EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, an ApplicationError in the sender', async () => {
    const signal = await env.client.startWorkflow(Messenger, { args: ['name', 'nobody'], id: 'lost-signal', taskQueue: 'q' });
    const cancel = await env.client.startWorkflow(Messenger, { args: ['cancel', 'nobody'], id: 'lost-cancel', taskQueue: 'q' });
    const results = await worker().runUntil(Promise.all([signal.result(), cancel.result()]));
    expect(results).toEqual([
      {
        ok: false,
        error: 'ApplicationError',
        message: 'Unable to signal external workflow because it was not found',
        type: ExternalWorkflowExecutionFailedCause.EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
      },
      {
        ok: false,
        error: 'ApplicationError',
        message: 'Unable to cancel external workflow because not found',
        type: ExternalWorkflowExecutionFailedCause.EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
      },
    ]);
    for (const [handle, initiated, failed] of [
      [signal, EventType.SignalExternalWorkflowExecutionInitiated, EventType.SignalExternalWorkflowExecutionFailed],
      [cancel, EventType.RequestCancelExternalWorkflowExecutionInitiated, EventType.RequestCancelExternalWorkflowExecutionFailed],
    ] as const) {
      const history = await handle.fetchHistory();
      expect(types(history)).toEqual([
        EventType.WorkflowExecutionStarted,
        EventType.WorkflowTaskScheduled,
        EventType.WorkflowTaskStarted,
        EventType.WorkflowTaskCompleted,
        initiated,
        failed,
        EventType.WorkflowTaskScheduled,
        EventType.WorkflowTaskStarted,
        EventType.WorkflowTaskCompleted,
        EventType.WorkflowExecutionCompleted,
      ]);
      expect(history[5]!.attributes).toEqual({
        cause: 'EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
        initiatedEventId: 5,
        workflowExecution: { workflowId: 'nobody', runId: '' },
      });
    }
  });

  it('signals the run a runId names, and fails for a run of that id that has closed', async () => {
    const targetId = idBesides('inbox', 'named');
    const first = await env.client.startWorkflow(Inbox, 0, { id: targetId, taskQueue: 'q' });
    const w = worker();
    const [closed, outcome, second, nextRunId] = await w.runUntil(async () => {
      await first.result();
      const next = await env.client.startWorkflow(Inbox, 1, { id: targetId, taskQueue: 'q' });
      // The closed first run, by its run id: not found, although the id has a running run.
      const toClosed = await env.client.startWorkflow(Messenger, { args: ['method', targetId, first.runId], id: 'named-old', taskQueue: 'q' });
      const toNext = await env.client.startWorkflow(Messenger, { args: ['method', targetId, next.runId], id: 'named', taskQueue: 'q' });
      return [await toClosed.result(), await toNext.result(), await next.result(), next.runId] as const;
    });
    expect(closed).toMatchObject({ ok: false, message: 'Unable to signal external workflow because it was not found' });
    expect(outcome).toEqual({ ok: true });
    expect(second).toEqual(['pear']);
    const history = await env.client.getWorkflowHandle('named').fetchHistory();
    expect(started(history, EventType.SignalExternalWorkflowExecutionInitiated).attributes['workflowExecution']).toEqual({
      workflowId: targetId,
      runId: nextRunId,
    });
  });

  it('rejects a signal not sent yet with CancelledError when the sender is cancelled in the same workflow task', async () => {
    const sender = await env.client.startWorkflow(CancelledSender, { args: ['anyone'], id: 'cancelled-sender', taskQueue: 'q' });
    // The cancellation is in the first workflow task, with the start: the signal is dropped.
    await sender.cancel();
    expect(await worker().runUntil(sender.result())).toBe('CancelledError: Signal was cancelled before being sent');
    expect(types(await sender.fetchHistory())).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowExecutionCancelRequested,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
  });

  it('replays the recorded histories of sender and target', async () => {
    const targetId = idBesides('inbox', 'replayed');
    const target = await env.client.startWorkflow(Inbox, 1, { id: targetId, taskQueue: 'q' });
    const sender = await env.client.startWorkflow(Messenger, { args: ['method', targetId], id: 'replayed', taskQueue: 'q' });
    const lost = await env.client.startWorkflow(Messenger, { args: ['cancel', 'nobody'], id: 'replayed-lost', taskQueue: 'q' });
    await worker().runUntil(Promise.all([sender.result(), target.result(), lost.result()]));
    await eventually(target, EventType.WorkflowExecutionCompleted);
    const replayer = new Replayer({ workflows: [Inbox, Messenger] });
    const results = await replayer.replayWorkflows(
      await Promise.all([sender, target, lost].map(async (h) => ({ workflowId: h.workflowId, runId: h.runId, events: await h.fetchHistory() }))),
    );
    expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined]);

    // Code that signals another id than history says is caught.
    const history = await sender.fetchHistory();
    const changed = history.map((e) =>
      e.eventId === 5 ? { ...e, attributes: { ...e.attributes, workflowExecution: { workflowId: 'elsewhere', runId: '' } } } : e,
    );
    const error = await replayer.replayWorkflow({ events: changed }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `Nondeterminism error: Workflow id of signal initiated event 'elsewhere' does not match workflow id of signal command '${targetId}' (event 5 SignalExternalWorkflowExecutionInitiated)`,
    );
  });
});
