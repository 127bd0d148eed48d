import { join } from 'node:path';
import { EventType } from '@durabull/sdk';
import type { WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { Parked } from './fixtures/parked';
import { Pipeline } from './fixtures/pipeline';
import type { StepResult } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'pipeline-worker.ts');

describe('horizontal scaling', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  async function spawnWorker(): Promise<WorkerProcess> {
    const worker = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, TASK_QUEUE: 'pipeline' }, WORKER);
    processes.push(worker);
    await worker.waitFor('ready');
    return worker;
  }

  const start = (count: number, steps: number, ms: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        env.client.startWorkflow(Pipeline, { args: [steps, ms], id: `run-${i}`, taskQueue: 'pipeline' }),
      ),
    );

  async function expectAllCompleted(handles: Array<WorkflowHandle<StepResult[]>>, steps: number): Promise<StepResult[]> {
    const results = await Promise.all(handles.map((h) => h.result()));
    for (const run of results) expect(run.map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    return results.flat();
  }

  it('shares a few hundred workflows between three worker processes, every one taking part', async () => {
    const workers = [await spawnWorker(), await spawnWorker(), await spawnWorker()];
    const handles = await start(300, 2, 5);
    const steps = await expectAllCompleted(handles, 2);
    const pids = new Set(steps.map((s) => s.pid));
    expect([...pids].sort()).toEqual(workers.map((w) => w.child.pid).sort());
    for (const handle of handles.slice(0, 20)) expect(historyViolations(await handle.fetchHistory())).toEqual([]);
  });

  it('loses nothing when a worker is stopped with SIGTERM in the middle of the load', async () => {
    const [leaving] = [await spawnWorker(), await spawnWorker()];
    const handles = await start(100, 3, 20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    leaving!.child.kill('SIGTERM');
    expect(await leaving!.exited).toBe(0);
    await spawnWorker();
    await expectAllCompleted(handles, 3);
    for (const handle of handles) {
      const history = await handle.fetchHistory();
      expect(historyViolations(history)).toEqual([]);
      expect(history.filter((e) => e.eventType === EventType.ActivityTaskCompleted)).toHaveLength(3);
    }
  });
});

describe('many open workflows', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('keeps 10,000 parked workflows on one worker process within its cache limit and bounded memory, and finishes them all', async () => {
    const count = 10_000;
    const maxCachedWorkflows = 1_000;
    const worker = spawnWorkerProcess(
      { DURABULL_NAMESPACE: env.namespace, MAX_CACHED_WORKFLOWS: String(maxCachedWorkflows) },
      join(__dirname, 'fixtures', 'parked-worker.ts'),
    );
    try {
      await worker.waitFor('ready');
      const memory = () => {
        const [, heap, cached] = worker.lines.filter((l) => l.startsWith('memory ')).at(-1)!.split(' ');
        return { heap: Number(heap), cached: Number(cached) };
      };
      await waitUntil(() => worker.lines.some((l) => l.startsWith('memory ')));
      const before = memory().heap;

      const handles: Array<WorkflowHandle<string>> = [];
      for (let i = 0; i < count; i += 500) {
        const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) =>
          env.client.startWorkflow(Parked, 20_000, { id: `parked-${i + j}`, taskQueue: 'parked' }),
        );
        handles.push(...(await Promise.all(batch)));
      }
      // Parked: every run's first workflow task is done, so its timer is all that is left.
      await waitUntil(async () => (await env.client.redis.zcard(env.client.engine.keys.shard(0).deadlines)) > 0 && (await workflowTasksLeft()) === 0);
      const lines = worker.lines.length;
      await waitUntil(() => worker.lines.length > lines + 1);
      const parked = memory();
      expect(parked.cached).toBeLessThanOrEqual(maxCachedWorkflows);
      expect((parked.heap - before) / count).toBeLessThan(20 * 1024);

      const results = await Promise.all(handles.map((h) => h.result()));
      expect(results).toHaveLength(count);
      expect(new Set(results)).toEqual(new Set(['woke up']));
      expect(memory().cached).toBeLessThanOrEqual(maxCachedWorkflows);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }

    async function workflowTasksLeft(): Promise<number> {
      const queue = env.client.engine.dispatcher.queue(env.client.engine.keys.taskQueuePrefix('parked'), 'workflow');
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    }
  }, 300_000);
});

async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}
