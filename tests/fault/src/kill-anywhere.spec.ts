import { join } from 'node:path';
import { EventType, Worker, WorkflowExecutionStatus } from '@durabull/sdk';
import type { WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { FAST_RECOVERY, Pipeline, PipelineActivities } from './fixtures/pipeline';
import type { StepResult } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'pipeline-worker.ts');
const STARTER = join(__dirname, 'fixtures', 'starter.ts');

describe('a worker killed with SIGKILL anywhere', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  async function spawnWorker(crashPoint?: string, eager = true): Promise<WorkerProcess> {
    const worker = spawnWorkerProcess(
      {
        DURABULL_NAMESPACE: env.namespace,
        TASK_QUEUE: 'pipeline',
        DURABULL_CRASH_POINT: crashPoint ?? '',
        EAGER_EXECUTION: String(eager),
      },
      WORKER,
    );
    processes.push(worker);
    await worker.waitFor('ready');
    return worker;
  }

  function inProcessWorker(): Worker {
    return env.newWorker({ taskQueue: 'pipeline', workflows: [Pipeline], activities: [new PipelineActivities()], ...FAST_RECOVERY });
  }

  async function startPipelines(count: number, steps: number, ms: number): Promise<Array<WorkflowHandle<StepResult[]>>> {
    return Promise.all(
      Array.from({ length: count }, (_, i) =>
        env.client.startWorkflow(Pipeline, { args: [steps, ms], id: `pipeline-${i}`, taskQueue: 'pipeline', taskTimeout: '1s' }),
      ),
    );
  }

  /** Every run finished with the right results, from the attempt history says completed it. */
  async function expectAllSound(handles: Array<WorkflowHandle<StepResult[]>>, steps: number): Promise<void> {
    for (const handle of handles) {
      const results = await handle.result();
      expect(results.map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
      const history = await handle.fetchHistory();
      expect(historyViolations(history)).toEqual([]);
      // A stale attempt never completes an activity: each result is the recorded final attempt's.
      const started = history.filter((e) => e.eventType === EventType.ActivityTaskStarted);
      expect(started.map((e) => (e.attributes as { attempt: number }).attempt)).toEqual(results.map((r) => r.attempt));
      expect(history.filter((e) => e.eventType === EventType.ActivityTaskCompleted)).toHaveLength(steps);
    }
    // The visibility indexes are written by the same scripts: they agree, whatever was killed.
    expect(await env.client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })).toBe(0);
    expect(await env.client.countWorkflows({ status: WorkflowExecutionStatus.COMPLETED })).toBe(handles.length);
  }

  it('in the middle of activities: every run completes once the attempts time out and retry elsewhere', async () => {
    const victim = await spawnWorker();
    const handles = await startPipelines(8, 2, 400);
    await firstStepLine(victim);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await inProcessWorker().runUntil(expectAllSound(handles, 2));
    const retried = (await Promise.all(handles.map((h) => h.fetchHistory())))
      .flat()
      .filter((e) => e.eventType === EventType.ActivityTaskStarted && (e.attributes as { attempt: number }).attempt > 1);
    expect(retried.length).toBeGreaterThan(0);
  });

  // Eager execution takes tasks inside transitions (an activity started by completeWorkflowTask,
  // a workflow task by completeActivityTask); without it every task goes through a queue.
  it.each([
    ['in the middle of a workflow task', 'afterCommit:startWorkflowTask@3', false],
    ['between completing a workflow task and dispatching its tasks', 'afterCommit:completeWorkflowTask@3', false],
    // A run's first task is taken by the transition that completes it (no startWorkflowTask).
    ["between taking and completing a run's first task in one step and dispatching its tasks", 'afterCommit:completeWorkflowTask@1', false],
    ['between completing a workflow task and running the activities it started', 'afterCommit:completeWorkflowTask@3', true],
    ['between starting an activity attempt and running it', 'afterCommit:startActivityTask@2', false],
    ['between recording an activity result and dispatching the next workflow task', 'afterCommit:completeActivityTask@2', false],
    ['between recording an activity result and running the workflow task it took', 'afterCommit:completeActivityTask@2', true],
    ['between firing a timer and dispatching the workflow task', 'afterCommit:fireDeadline@2', true],
  ])('%s (%s, eager: %s): the work is recovered and every history stays sound', async (_label, point, eager) => {
    const victim = await spawnWorker(point, eager);
    const handles = await startPipelines(6, 2, 30);
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited
    await inProcessWorker().runUntil(expectAllSound(handles, 2));
  });

  it('between a client committing a start and dispatching its first task: the sweep dispatches it', async () => {
    const starter = spawnWorkerProcess(
      { DURABULL_NAMESPACE: env.namespace, WORKFLOW_ID: 'orphan', DURABULL_CRASH_POINT: 'afterCommit:startWorkflow' },
      STARTER,
    );
    expect(await starter.exited).toBeNull();
    const handle = env.client.getWorkflowHandle<StepResult[]>('orphan');
    await inProcessWorker().runUntil(expectAllSound([handle], 2));
  });

  it('over and over, while three workers share the load: no work is lost or done twice', async () => {
    const workers = [await spawnWorker(), await spawnWorker(), await spawnWorker()];
    const handles = await startPipelines(30, 3, 60);
    let stop = false;
    const chaos = (async () => {
      for (let round = 0; round < 6 && !stop; round++) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        const index = round % workers.length;
        workers[index]!.child.kill('SIGKILL');
        await workers[index]!.exited;
        workers[index] = await spawnWorker();
      }
    })();
    await expectAllSound(handles, 3);
    stop = true;
    await chaos;
  });
});

async function firstStepLine(worker: WorkerProcess): Promise<string> {
  while (!worker.lines.some((l) => l.startsWith('step'))) await new Promise((resolve) => setTimeout(resolve, 10));
  return worker.lines.find((l) => l.startsWith('step'))!;
}
