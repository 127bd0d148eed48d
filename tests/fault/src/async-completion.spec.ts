import { join } from 'node:path';
import { ActivityNotFoundError, EventType } from '@durabull/sdk';
import type { HistoryEvent, Worker, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { Approval, ApprovalActivities } from './fixtures/approval';
import { FAST_RECOVERY } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'approval-worker.ts');
const APPROVER = join(__dirname, 'fixtures', 'approver.ts');

describe('async completion with SIGKILLed processes', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  function spawn(script: string, extra: Record<string, string> = {}): WorkerProcess {
    const child = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, ...extra }, script);
    processes.push(child);
    return child;
  }

  async function spawnWorker(): Promise<WorkerProcess> {
    const worker = spawn(WORKER);
    await worker.waitFor('ready');
    return worker;
  }

  function inProcessWorker(): Worker {
    return env.newWorker({ taskQueue: 'approvals', workflows: [Approval], activities: [new ApprovalActivities()], ...FAST_RECOVERY });
  }

  /** The task token the worker printed for `attempt` of the run's approval. */
  async function tokenOf(worker: WorkerProcess, attempt: number): Promise<string> {
    for (let waited = 0; waited < 20_000; waited += 10) {
      const line = worker.lines.find((l) => l.startsWith(`token approval ${attempt} `));
      if (line) return line.split(' ')[3]!;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`attempt ${attempt} never started`);
  }

  async function lineOf(process: WorkerProcess): Promise<string> {
    const code = await process.exited;
    expect(code).toBe(0);
    return process.lines.at(-1)!;
  }

  /** A sound history whose activity completed exactly once, from attempt `attempt`. */
  async function expectCompletedOnce(handle: WorkflowHandle<string>, attempt: number): Promise<HistoryEvent[]> {
    const history = await handle.fetchHistory();
    expect(historyViolations(history)).toEqual([]);
    const activityEvents = history.filter((e) => e.eventType.startsWith('ActivityTask')).map((e) => e.eventType);
    expect(activityEvents).toEqual([EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskCompleted]);
    expect(history.find((e) => e.eventType === EventType.ActivityTaskStarted)!.attributes).toMatchObject({ attempt });
    return history;
  }

  const start = (startToCloseMs: number) =>
    env.client.startWorkflow(Approval, { args: ['order 7', startToCloseMs], id: 'approval', taskQueue: 'approvals' });

  it('the worker that ran the attempt dies after raiseCompleteAsync(): its token still completes the activity, once', async () => {
    const victim = await spawnWorker();
    const handle = await start(20_000);
    const token = await tokenOf(victim, 1);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await env.client.getAsyncActivityHandle(token).complete('approved');
    expect(await inProcessWorker().runUntil(handle.result())).toBe('order 7: approved');
    const history = await expectCompletedOnce(handle, 1);
    expect((history.find((e) => e.eventType === EventType.ActivityTaskStarted)!.attributes as { identity: string }).identity).toMatch(
      new RegExp(`^${victim.child.pid}@`),
    );
    expect(history.find((e) => e.eventType === EventType.ActivityTaskCompleted)!.attributes).toMatchObject({ identity: env.client.identity });
    const again = await env.client.getAsyncActivityHandle(token).complete('twice').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ActivityNotFoundError);
  });

  it('the process holding the token dies before completing: the attempt times out and retries, and only the new token completes it', async () => {
    const worker = await spawnWorker();
    const handle = await start(2_000);
    const first = await tokenOf(worker, 1);
    const holder = spawn(APPROVER, { TASK_TOKEN: first, ANSWER: 'never sent', HOLD_MS: '60000' });
    await holder.waitFor('holding');
    holder.child.kill('SIGKILL');
    expect(await holder.exited).toBeNull();

    const second = await tokenOf(worker, 2);
    await env.client.getAsyncActivityHandle(second).complete('approved on retry');
    expect(await handle.result()).toBe('order 7: approved on retry');
    const history = await expectCompletedOnce(handle, 2);
    expect(history.find((e) => e.eventType === EventType.ActivityTaskStarted)!.attributes).toMatchObject({
      lastFailure: { message: 'activity StartToClose timeout', timeoutFailureInfo: { timeoutType: 'START_TO_CLOSE' } },
    });
    // The first token, used now, is refused: the run has closed.
    const late = spawn(APPROVER, { TASK_TOKEN: first, ANSWER: 'late' });
    expect(await lineOf(late)).toBe('not found: workflow execution already completed');
  });

  it('the process holding the token dies right after its completion committed: the run still completes, and completing again is refused', async () => {
    const worker = await spawnWorker();
    const handle = await start(20_000);
    const token = await tokenOf(worker, 1);
    const approver = spawn(APPROVER, { TASK_TOKEN: token, ANSWER: 'approved', DURABULL_CRASH_POINT: 'afterCommit:respondActivityAsync' });
    expect(await approver.exited).toBeNull(); // killed by the crash point, after the commit
    expect(approver.lines).toEqual(['holding']);
    // The workflow task it committed but never dispatched is dispatched by the worker's sweep.
    expect(await handle.result()).toBe('order 7: approved');
    await expectCompletedOnce(handle, 1);
    const again = spawn(APPROVER, { TASK_TOKEN: token, ANSWER: 'again' });
    expect(await lineOf(again)).toBe('not found: workflow execution already completed');
    expect(worker.lines.filter((l) => l.startsWith('token '))).toHaveLength(1);
  });
});
