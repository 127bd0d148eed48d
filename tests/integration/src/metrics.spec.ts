import { createServer } from 'node:net';
import {
  Activity,
  ApplicationError,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  Worker,
  WorkflowDefn,
  WorkflowFailureError,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { Counter, Gauge, Histogram } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Ops {
  /** Fails its first two attempts. */
  @Activity({ name: 'flaky' })
  async flaky(n: number): Promise<number> {
    if (activity.info().attempt < 3) throw new ApplicationError(`attempt ${activity.info().attempt} failed`);
    return n * 2;
  }

  @Activity({ name: 'broken' })
  async broken(): Promise<void> {
    throw ApplicationError.nonRetryable('broken for good', 'Broken');
  }
}

@WorkflowDefn({ name: 'Flaky' })
class FlakyWorkflow {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    return workflow.executeActivity(Ops.prototype.flaky, n, { startToCloseTimeout: '5s', retryPolicy: { initialInterval: '10ms' } });
  }
}

@WorkflowDefn({ name: 'Broken' })
class BrokenWorkflow {
  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.executeActivity(Ops.prototype.broken, { startToCloseTimeout: '5s' });
  }
}

/** Its first workflow task fails (a bug, fixed by the time the task is retried). */
let buggy = true;
@WorkflowDefn({ name: 'Buggy' })
class BuggyWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    if (buggy) {
      buggy = false;
      throw new TypeError('a bug in workflow code');
    }
    return 'fixed';
  }
}

/** Stays open (and cached) for the whole test. */
@WorkflowDefn({ name: 'Parked' })
class ParkedWorkflow {
  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.sleep('1h');
  }
}

async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('worker metrics', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    buggy = true;
  });
  afterEach(() => env.teardown());

  it('counts retries, failures and cache use exactly, times every task, and serves them to Prometheus', async () => {
    const registry = new MetricsRegistry();
    const q1 = env.newWorker({
      taskQueue: 'q1',
      workflows: [FlakyWorkflow, BrokenWorkflow, BuggyWorkflow, ParkedWorkflow],
      activities: [new Ops()],
      metrics: { registry, prometheus: { port: 0, host: '127.0.0.1' } },
    });
    // No cache: every workflow task after a run's first replays its history (a cache miss).
    const q2 = env.newWorker({ taskQueue: 'q2', workflows: [FlakyWorkflow], activities: [new Ops()], maxCachedWorkflows: 0, metrics: { registry } });
    expect(q1.metrics).toBe(registry);
    expect(q2.metrics).toBe(registry);
    expect(q1.prometheusAddress).toBeUndefined();
    const { client, namespace } = env;

    let text = '';
    let response: Response | undefined;
    await q1.runUntil(
      q2.runUntil(async () => {
        expect(await client.executeWorkflow(FlakyWorkflow, 21, { id: 'flaky-1', taskQueue: 'q1' })).toBe(42);
        await expect(client.executeWorkflow(BrokenWorkflow, { id: 'broken-1', taskQueue: 'q1' })).rejects.toThrow(WorkflowFailureError);
        expect(await client.executeWorkflow(BuggyWorkflow, { id: 'buggy-1', taskQueue: 'q1' })).toBe('fixed');
        expect(await client.executeWorkflow(FlakyWorkflow, 5, { id: 'flaky-2', taskQueue: 'q2' })).toBe(10);
        await client.startWorkflow(ParkedWorkflow, { id: 'parked-1', taskQueue: 'q1' });
        const size = registry.get('durabull_workflow_cache_size') as Gauge;
        await until(() => size.value({ namespace, task_queue: 'q1' }) === 1, 'the parked run to be cached');

        const { address, port } = q1.prometheusAddress!;
        expect(address).toBe('127.0.0.1');
        response = await fetch(`http://127.0.0.1:${port}/metrics`);
        text = await response.text();
        expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
        expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
      }),
    );
    expect(q1.prometheusAddress).toBeUndefined();

    const counter = (name: string) => registry.get(name) as Counter;
    const histogram = (name: string) => registry.get(name) as Histogram;
    const wf = (taskQueue: string, workflowType: string) => ({ namespace, task_queue: taskQueue, workflow_type: workflowType });
    const act = (taskQueue: string, activityType: string) => ({ namespace, task_queue: taskQueue, activity_type: activityType });

    // Activities: flaky fails twice then completes (two retries), broken fails once for good.
    expect(counter('durabull_activity_retries_total').value(act('q1', 'flaky'))).toBe(2);
    expect(counter('durabull_activity_retries_total').value(act('q2', 'flaky'))).toBe(2);
    expect(counter('durabull_activity_retries_total').value(act('q1', 'broken'))).toBe(0);
    expect(counter('durabull_activity_failures_total').value({ ...act('q1', 'flaky'), kind: 'application' })).toBe(2);
    expect(counter('durabull_activity_failures_total').value({ ...act('q2', 'flaky'), kind: 'application' })).toBe(2);
    expect(counter('durabull_activity_failures_total').value({ ...act('q1', 'broken'), kind: 'application' })).toBe(1);
    expect(counter('durabull_activity_failures_total').value()).toBe(5);
    for (const [labels, attempts] of [
      [act('q1', 'flaky'), 3],
      [act('q2', 'flaky'), 3],
      [act('q1', 'broken'), 1],
    ] as const) {
      expect(histogram('durabull_activity_schedule_to_start_latency_seconds').snapshot(labels).count).toBe(attempts);
      expect(histogram('durabull_activity_execution_latency_seconds').snapshot(labels).count).toBe(attempts);
    }

    // Workflow tasks: two per run, but one for the parked run; Buggy's first one failed.
    for (const [labels, tasks] of [
      [wf('q1', 'Flaky'), 2],
      [wf('q1', 'Broken'), 2],
      [wf('q1', 'Buggy'), 2],
      [wf('q1', 'Parked'), 1],
      [wf('q2', 'Flaky'), 2],
    ] as const) {
      expect(histogram('durabull_workflow_task_schedule_to_start_latency_seconds').snapshot(labels).count).toBe(tasks);
      expect(histogram('durabull_workflow_task_execution_latency_seconds').snapshot(labels).count).toBe(tasks);
    }
    // The retried task became due after its 1 s backoff: the backoff is not time in the queue.
    expect(histogram('durabull_workflow_task_schedule_to_start_latency_seconds').snapshot(wf('q1', 'Buggy')).sum).toBeLessThan(0.5);
    expect(counter('durabull_workflow_task_failures_total').value({ ...wf('q1', 'Buggy'), cause: 'WORKFLOW_WORKER_UNHANDLED_FAILURE' })).toBe(1);
    expect(counter('durabull_workflow_task_failures_total').value()).toBe(1);

    // Cache: the second task of each run on q1 found it cached; on q2 it was replayed. A run's
    // first task, and a task after a failed first one, count as neither.
    expect(counter('durabull_workflow_cache_hits_total').value(wf('q1', 'Flaky'))).toBe(1);
    expect(counter('durabull_workflow_cache_hits_total').value(wf('q1', 'Broken'))).toBe(1);
    expect(counter('durabull_workflow_cache_hits_total').value()).toBe(2);
    expect(counter('durabull_workflow_cache_misses_total').value(wf('q2', 'Flaky'))).toBe(1);
    expect(counter('durabull_workflow_cache_misses_total').value()).toBe(1);
    // Shutdown handed the parked run back.
    expect((registry.get('durabull_workflow_cache_size') as Gauge).value({ namespace, task_queue: 'q1' })).toBe(0);

    // The endpoint, scraped while the parked run was cached.
    expect(response!.status).toBe(200);
    expect(response!.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const lines = text.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '# TYPE durabull_activity_retries_total counter',
        `durabull_activity_retries_total{namespace="${namespace}",task_queue="q1",activity_type="flaky"} 2`,
        `durabull_activity_retries_total{namespace="${namespace}",task_queue="q2",activity_type="flaky"} 2`,
        '# TYPE durabull_activity_failures_total counter',
        `durabull_activity_failures_total{namespace="${namespace}",task_queue="q1",activity_type="broken",kind="application"} 1`,
        '# TYPE durabull_workflow_task_failures_total counter',
        `durabull_workflow_task_failures_total{namespace="${namespace}",task_queue="q1",workflow_type="Buggy",cause="WORKFLOW_WORKER_UNHANDLED_FAILURE"} 1`,
        '# TYPE durabull_activity_execution_latency_seconds histogram',
        `durabull_activity_execution_latency_seconds_count{namespace="${namespace}",task_queue="q1",activity_type="flaky"} 3`,
        `durabull_activity_execution_latency_seconds_bucket{namespace="${namespace}",task_queue="q1",activity_type="flaky",le="+Inf"} 3`,
        '# TYPE durabull_workflow_task_schedule_to_start_latency_seconds histogram',
        '# TYPE durabull_workflow_task_execution_latency_seconds histogram',
        `durabull_workflow_task_execution_latency_seconds_count{namespace="${namespace}",task_queue="q1",workflow_type="Parked"} 1`,
        '# TYPE durabull_workflow_cache_hits_total counter',
        '# TYPE durabull_workflow_cache_misses_total counter',
        `durabull_workflow_cache_misses_total{namespace="${namespace}",task_queue="q2",workflow_type="Flaky"} 1`,
        '# TYPE durabull_workflow_cache_size gauge',
        `durabull_workflow_cache_size{namespace="${namespace}",task_queue="q1"} 1`,
      ]),
    );
  }, 15_000);

  it('refuses a bad metrics option, naming the value', () => {
    const options = { taskQueue: 'q', workflows: [ParkedWorkflow] };
    expect(() => new Worker(env.client, { ...options, metrics: { prometheus: { port: 70000 } } })).toThrow(
      new TypeError('Invalid metrics.prometheus.port: 70000 (an integer from 0 to 65535)'),
    );
    expect(() => new Worker(env.client, { ...options, metrics: { prometheus: { port: '9464' as never } } })).toThrow(
      new TypeError('Invalid metrics.prometheus.port: "9464" (an integer from 0 to 65535)'),
    );
    expect(() => new Worker(env.client, { ...options, metrics: { prometheus: { port: 1, host: '' } } })).toThrow(
      new TypeError('Invalid metrics.prometheus.host: "" (a non-empty string)'),
    );
    expect(() => new Worker(env.client, { ...options, metrics: { registry: {} as never } })).toThrow(
      new TypeError('Invalid metrics.registry: not a MetricsRegistry'),
    );
    expect(() => new Worker(env.client, { ...options, metrics: { prometheus: { port: 1 }, port: 2 } as never })).toThrow(
      new TypeError('Unknown metrics option(s): port'),
    );
  });

  it('fails run() when the Prometheus port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const worker = env.newWorker({ taskQueue: 'q', workflows: [ParkedWorkflow], metrics: { prometheus: { port, host: '127.0.0.1' } } });
      await expect(worker.run()).rejects.toThrow(`Worker cannot serve metrics on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
      await worker.shutdown();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
