import { join } from 'node:path';
import { EventType } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { Lingering, Slow } from './fixtures/lingering';
import { FAST_RECOVERY } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'lingering-worker.ts');

// A local activity leaves no trace until its marker: a worker killed (SIGKILL) while it runs, here
// right after it heartbeated the workflow task (and took the next task itself), loses it. The task
// it held times out, and the worker that takes over replays the history (no marker) and runs the
// activity again: at least once, one marker.
describe('local activities when the worker is killed with SIGKILL', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  const of = (history: HistoryEvent[], type: EventType) => history.filter((e) => e.eventType === type);

  it('killed after a workflow task heartbeat: another worker runs the activity again and records one marker', async () => {
    const handle = await env.client.startWorkflow(Lingering, { args: [1_500], id: 'lingering', taskQueue: 'lingering', taskTimeout: '1s' });
    const victim = spawnWorkerProcess(
      { DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: 'afterCommit:completeWorkflowTask@1' },
      WORKER,
    );
    processes.push(victim);
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited
    // The heartbeat committed: a completed task without a marker, and the next one started by the victim.
    const before = await handle.fetchHistory();
    expect(before.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
    ]);
    const victimIdentity = (before[5]!.attributes as { identity: string }).identity;

    const slow = new Slow();
    const worker = env.newWorker({ taskQueue: 'lingering', workflows: [Lingering], activities: [slow], ...FAST_RECOVERY });
    expect(await worker.runUntil(handle.result())).toBe('lingered on attempt 1');
    expect(slow.runs).toBe(1);

    const history = await handle.fetchHistory();
    expect(historyViolations(history)).toEqual([]);
    expect(of(history, EventType.MarkerRecorded)).toHaveLength(1);
    // The task the victim held timed out; the one after it ran on the new worker.
    expect(of(history, EventType.WorkflowTaskTimedOut).map((e) => e.attributes['timeoutType'])).toEqual(['START_TO_CLOSE']);
    const identities = of(history, EventType.WorkflowTaskStarted).map((e) => (e.attributes as { identity: string }).identity);
    expect(identities.at(-1)).not.toBe(victimIdentity);
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionCompleted);
  });
});
