import { join } from 'node:path';
import { EventType } from '@durabull/sdk';
import type { HistoryEvent, Worker, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { Ledger, LedgerActivities } from './fixtures/ledger';
import { FAST_RECOVERY } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'ledger-worker.ts');
const REQUESTER = join(__dirname, 'fixtures', 'update-requester.ts');

type LedgerResult = { total: number; entries: string[] };

/** Each update of a run, by id: how many Accepted and Completed events name it. */
function updateEvents(history: HistoryEvent[]): Record<string, { accepted: number; completed: number }> {
  const counts: Record<string, { accepted: number; completed: number }> = {};
  for (const event of history) {
    const attrs = event.attributes as { protocolInstanceId?: string; meta?: { updateId: string } };
    if (event.eventType === EventType.WorkflowExecutionUpdateAccepted) (counts[attrs.protocolInstanceId!] ??= { accepted: 0, completed: 0 }).accepted++;
    if (event.eventType === EventType.WorkflowExecutionUpdateCompleted) (counts[attrs.meta!.updateId] ??= { accepted: 0, completed: 0 }).completed++;
  }
  return counts;
}

describe('updates when a process is killed with SIGKILL', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  function spawn(script: string, env_: Record<string, string>): WorkerProcess {
    const child = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, ...env_ }, script);
    processes.push(child);
    return child;
  }

  function inProcessWorker(): Worker {
    return env.newWorker({ taskQueue: 'ledger', workflows: [Ledger], activities: [new LedgerActivities()], ...FAST_RECOVERY });
  }

  async function startLedger(target: number): Promise<WorkflowHandle<LedgerResult>> {
    return env.client.startWorkflow(Ledger, { args: [target], id: 'ledger', taskQueue: 'ledger', taskTimeout: '1s' });
  }

  /** The run completed with every update applied once, and each recorded accepted and completed once. */
  async function expectOnce(handle: WorkflowHandle<LedgerResult>, ids: string[], total: number): Promise<void> {
    const result = await handle.result();
    expect(result.total).toBe(total);
    expect(result.entries.map((e) => e.split(':')[0]).sort()).toEqual([...ids].sort());
    const history = await handle.fetchHistory();
    expect(historyViolations(history)).toEqual([]);
    expect(updateEvents(history)).toEqual(Object.fromEntries(ids.map((id) => [id, { accepted: 1, completed: 1 }])));
  }

  // The first workflow task starts the run; the second carries the updates.
  it.each([
    ['holding the workflow task that carries the updates', 'afterCommit:startWorkflowTask@2'],
    ['between accepting the updates and dispatching their activities', 'afterCommit:completeWorkflowTask@2'],
    ['between recording an update activity result and the next workflow task', 'afterCommit:completeActivityTask@1'],
    ['between completing the updates and dispatching what follows', 'afterCommit:completeWorkflowTask@3'],
  ])('a worker killed %s (%s): each update completes exactly once', async (_label, point) => {
    const victim = spawn(WORKER, { DURABULL_CRASH_POINT: point });
    await victim.waitFor('ready');
    const handle = await startLedger(10);
    const add = (n: number) => handle.executeUpdate(Ledger.prototype.add, { args: [`u${n}`, n], id: `u${n}` });
    const updates = Promise.all([add(1), add(2), add(3)]);
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited
    // The last update closes the run, on the worker that takes over.
    const totals = await inProcessWorker().runUntil(updates.then(async (first) => [...first, await add(4)]));
    // Each caller got the total after its own update (the order they were applied in decides which).
    expect(totals[3]).toBe(10);
    expect([...totals.slice(0, 3)].sort((a, b) => a - b).at(-1)).toBe(6);
    await expectOnce(handle, ['u1', 'u2', 'u3', 'u4'], 10);
  });

  it('a client killed after its update was admitted: a retry with the same id attaches to it', async () => {
    const handle = await startLedger(5);
    const requester = spawn(REQUESTER, { WORKFLOW_ID: 'ledger', UPDATE_ID: 'once', AMOUNT: '5', DURABULL_CRASH_POINT: 'afterCommit:requestUpdate' });
    expect(await requester.exited).toBeNull();
    const worker = inProcessWorker();
    const [retried, again] = await worker.runUntil(
      Promise.all([
        handle.executeUpdate(Ledger.prototype.add, { args: ['once', 5], id: 'once' }),
        handle.executeUpdate(Ledger.prototype.add, { args: ['once', 5], id: 'once' }),
      ]),
    );
    expect([retried, again]).toEqual([5, 5]);
    await expectOnce(handle, ['once'], 5);
  });
});
