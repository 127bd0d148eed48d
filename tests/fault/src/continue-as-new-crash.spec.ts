import { join } from 'node:path';
import { EventType, WorkflowExecutionStatus } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { FAST_RECOVERY } from './fixtures/pipeline';
import { Relay, Retried } from './fixtures/relay';

const WORKER = join(__dirname, 'fixtures', 'relay-worker.ts');

// A chain's hand-over (libs/engine/src/lua/includes/run-start.lua) is one script: the close of a
// run (continue-as-new, or a failure its retry policy retries) and the creation of the next run,
// whose first workflow task waits on a shard deadline. A worker killed (SIGKILL) right after that
// script, or after the deadline that schedules the next run's task, leaves the rest to the sweep
// of the worker that takes over: every step of the chain is one run, started once and closed once.
describe('chains of runs when the worker is killed with SIGKILL', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  const of = (history: HistoryEvent[], type: EventType) => history.filter((e) => e.eventType === type);

  /** The histories of the chain that starts with `runId`, in order. */
  async function chain(workflowId: string, runId: string): Promise<HistoryEvent[][]> {
    const runs: HistoryEvent[][] = [];
    for (let current: string | undefined = runId; current; ) {
      const history = await env.client.getWorkflowHandle(workflowId, current).fetchHistory();
      runs.push(history);
      current = (history.at(-1)!.attributes as { newExecutionRunId?: string }).newExecutionRunId;
    }
    return runs;
  }

  it.each([
    ['after the continue-as-new committed, before its tasks were dispatched', 'afterCommit:completeWorkflowTask@1'],
    ['after the next run\'s first workflow task was scheduled, before it was dispatched', 'afterCommit:fireDeadline@1'],
    ['at the second hand-over', 'afterCommit:completeWorkflowTask@2'],
  ])('continue-as-new, killed %s (%s): one run per step, each started and closed once', async (_label, point) => {
    const handle = await env.client.startWorkflow(Relay, { args: [1, 3, []], id: 'relay', taskQueue: 'relay', taskTimeout: '1s' });
    const victim = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: point }, WORKER);
    processes.push(victim);
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited

    const worker = env.newWorker({ taskQueue: 'relay', workflows: [Relay, Retried], ...FAST_RECOVERY });
    expect(await worker.runUntil(handle.result())).toEqual(['1@1', '2@1', '3@1']);

    const runs = await chain('relay', handle.runId!);
    expect(runs).toHaveLength(3);
    for (const history of runs) {
      expect(historyViolations(history)).toEqual([]);
      expect(of(history, EventType.WorkflowExecutionStarted)).toHaveLength(1);
    }
    expect(runs.map((history) => history.at(-1)!.eventType)).toEqual([
      EventType.WorkflowExecutionContinuedAsNew,
      EventType.WorkflowExecutionContinuedAsNew,
      EventType.WorkflowExecutionCompleted,
    ]);
    const all: string[] = [];
    for await (const run of env.client.listWorkflows({ workflowType: 'Relay' })) all.push(`${run.runId} ${run.status}`);
    expect(all.sort()).toEqual(
      runs
        .map((history, i) => `${history[0]!.attributes['originalExecutionRunId'] ?? handle.runId} ${i < 2 ? WorkflowExecutionStatus.CONTINUED_AS_NEW : WorkflowExecutionStatus.COMPLETED}`)
        .sort(),
    );
  });

  it.each([
    ['after the failed attempt committed, before its tasks were dispatched', 'afterCommit:completeWorkflowTask@1'],
    ['after the retry\'s first workflow task was scheduled, before it was dispatched', 'afterCommit:fireDeadline@1'],
  ])('workflow retry, killed %s (%s): one run per attempt', async (_label, point) => {
    const handle = await env.client.startWorkflow(Retried, {
      args: [3],
      id: 'retried',
      taskQueue: 'relay',
      taskTimeout: '1s',
      retryPolicy: { initialInterval: '100ms', maximumAttempts: 5 },
    });
    const victim = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: point }, WORKER);
    processes.push(victim);
    expect(await victim.exited).toBeNull();

    const worker = env.newWorker({ taskQueue: 'relay', workflows: [Relay, Retried], ...FAST_RECOVERY });
    expect(await worker.runUntil(handle.result())).toBe(3);
    const runs = await chain('retried', handle.runId!);
    expect(runs.map((history) => [history[0]!.attributes['attempt'], history.at(-1)!.eventType])).toEqual([
      [1, EventType.WorkflowExecutionFailed],
      [2, EventType.WorkflowExecutionFailed],
      [3, EventType.WorkflowExecutionCompleted],
    ]);
    for (const history of runs) expect(historyViolations(history)).toEqual([]);
    expect(await env.client.countWorkflows({ workflowType: 'Retried' })).toBe(3);
  });
});
