import { join } from 'node:path';
import { EventType, WorkflowExecutionStatus } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import { FAST_RECOVERY } from './fixtures/pipeline';
import { historyViolations } from './invariants';
import { Mailbox } from './fixtures/mailbox';

const SIGNALLER = join(__dirname, 'fixtures', 'signaller.ts');

// A client killed (SIGKILL) right after its signal-with-start or signal committed, before it
// dispatched the workflow task the transition scheduled: the run, its signals and their order
// stand, and the sweep dispatches the task, so every signal is delivered exactly once.
describe('a client killed with SIGKILL after signal-with-start or a signal committed', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  async function killedSignaller(mode: 'start' | 'signal', value: string, crashPoint: string): Promise<void> {
    const process = spawnWorkerProcess(
      { DURABULL_NAMESPACE: env.namespace, WORKFLOW_ID: 'mailbox', MODE: mode, VALUE: value, EXPECTED: '3', DURABULL_CRASH_POINT: crashPoint },
      SIGNALLER,
    );
    expect(await process.exited).toBeNull(); // killed by the crash point, not exited
  }

  it('a new run keeps its start signal; a running run keeps the signals it was sent; the sweep delivers them all', async () => {
    // A new run: WorkflowExecutionStarted, WorkflowExecutionSignaled, WorkflowTaskScheduled in one script.
    await killedSignaller('start', 'first', 'afterCommit:startWorkflow');
    const handle = env.client.getWorkflowHandle<string[]>('mailbox');
    expect((await handle.fetchHistory()).map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
    ]);
    const { runId } = await handle.describe();
    // The id is running: signal-with-start signals that run (no second run), then a plain signal.
    await killedSignaller('start', 'second', 'afterCommit:startWorkflow');
    await killedSignaller('signal', 'third', 'afterCommit:signalWorkflow');

    const worker = env.newWorker({ taskQueue: 'mailbox', workflows: [Mailbox], ...FAST_RECOVERY });
    expect(await worker.runUntil(handle.result())).toEqual(['first', 'second', 'third']);
    const history = await handle.fetchHistory();
    expect(historyViolations(history)).toEqual([]);
    expect(history.filter((e) => e.eventType === EventType.WorkflowExecutionSignaled).map((e) => e.attributes['input'])).toEqual(
      ['first', 'second', 'third'].map((v) => [env.client.payloads.toPayload(v)]),
    );
    expect((await handle.describe()).runId).toBe(runId);
    expect(await env.client.countWorkflows()).toBe(1);
    expect(await env.client.countWorkflows({ status: WorkflowExecutionStatus.COMPLETED })).toBe(1);
  });

  it('a signal to a run that waits for it, killed before its workflow task was dispatched: the sweep dispatches it', async () => {
    const handle = await env.client.startWorkflow(Mailbox, { id: 'mailbox', taskQueue: 'mailbox', args: [1], taskTimeout: '1s' });
    const worker = env.newWorker({ taskQueue: 'mailbox', workflows: [Mailbox], ...FAST_RECOVERY });
    const result = worker.runUntil(handle.result());
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      if ((await handle.fetchHistory()).some((e) => e.eventType === EventType.WorkflowTaskCompleted)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await killedSignaller('signal', 'only', 'afterCommit:signalWorkflow');
    expect(await result).toEqual(['only']);
    expect(historyViolations(await handle.fetchHistory())).toEqual([]);
  });
});
