import { join } from 'node:path';
import { EventType } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { Courier } from './fixtures/courier';
import { Mailbox } from './fixtures/mailbox';
import { FAST_RECOVERY } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'courier-worker.ts');

// A signal from one run to another on another shard takes three steps (libs/engine/src/lua/
// includes/messages.lua): the sender's workflow task commits it, a worker delivers it to the
// target, the same worker resolves it on the sender. A worker killed (SIGKILL) after any step
// leaves the rest to the sweep of the worker that takes over, and the signal is still delivered
// and resolved exactly once.
describe('signals between runs when the worker is killed with SIGKILL', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  const of = (history: HistoryEvent[], type: EventType) => history.filter((e) => e.eventType === type);

  it.each([
    ['after the sender committed the signal, before it was dispatched', 'afterCommit:completeWorkflowTask@1'],
    ['after the target recorded the signal, before the sender learnt it', 'afterCommit:signalWorkflow@1'],
    ['after the sender recorded the outcome, before its workflow task was dispatched', 'afterCommit:resolveExternal@1'],
  ])('killed %s (%s): each signal is recorded once by both runs', async (_label, point) => {
    const shardOf = (id: string) => env.client.engine.keys.shardOf(id);
    let mailboxId = 'mailbox-0';
    for (let i = 1; shardOf(mailboxId) === shardOf('courier'); i++) mailboxId = `mailbox-${i}`;
    const mailbox = await env.client.startWorkflow(Mailbox, { args: [2], id: mailboxId, taskQueue: 'mailbox' });
    const courier = await env.client.startWorkflow(Courier, { args: [mailboxId, ['a', 'b']], id: 'courier', taskQueue: 'courier', taskTimeout: '1s' });

    const victim = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: point }, WORKER);
    processes.push(victim);
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited
    // The first signal's command stands, whatever step the worker died after.
    expect(of(await courier.fetchHistory(), EventType.SignalExternalWorkflowExecutionInitiated)).toHaveLength(1);

    const mailboxes = env.newWorker({ taskQueue: 'mailbox', workflows: [Mailbox], ...FAST_RECOVERY });
    const couriers = env.newWorker({ taskQueue: 'courier', workflows: [Courier], ...FAST_RECOVERY });
    const results = await couriers.runUntil(() => mailboxes.runUntil(Promise.all([mailbox.result(), courier.result()])));
    expect(results).toEqual([['a', 'b'], 'delivered']);

    const sent = await courier.fetchHistory();
    const received = await mailbox.fetchHistory();
    expect(historyViolations(sent)).toEqual([]);
    expect(historyViolations(received)).toEqual([]);
    const initiated = of(sent, EventType.SignalExternalWorkflowExecutionInitiated);
    expect(initiated.map((e) => e.attributes['input'])).toEqual([['a'], ['b']].map((input) => env.client.payloads.toPayloads(input)));
    expect(of(sent, EventType.ExternalWorkflowExecutionSignaled).map((e) => e.attributes['initiatedEventId'])).toEqual(initiated.map((e) => e.eventId));
    expect(of(received, EventType.WorkflowExecutionSignaled).map((e) => e.attributes['requestId'])).toEqual(
      initiated.map((e) => `${courier.runId}:${e.eventId}`),
    );
  });
});
