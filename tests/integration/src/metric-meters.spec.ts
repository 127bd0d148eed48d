import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { HistogramMetricData, MetricData, SumMetricData } from '@opentelemetry/sdk-metrics';
import * as promClient from 'prom-client';
import { Activity, ApplicationError, PromClientMeter, Worker, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';
import type { MetricMeter } from '@durabull/sdk';
import { OpenTelemetryMeter } from '@durabull/opentelemetry';
import { TestEnvironment } from '@durabull/testing';

class Steps {
  /** Fails its first attempt. */
  @Activity({ name: 'double' })
  async double(n: number): Promise<number> {
    if (activity.info().attempt === 1) throw new ApplicationError('first attempt fails');
    return n * 2;
  }
}

@WorkflowDefn({ name: 'Doubling' })
class Doubling {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    return workflow.executeActivity(Steps.prototype.double, n, { startToCloseTimeout: '5s', retryPolicy: { initialInterval: '10ms' } });
  }
}

/** A reader collected on demand. */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/**
 * The worker's metrics through a MetricMeter, into the application's own stack: prom-client's
 * registry, or an OpenTelemetry MeterProvider. Two workers share one meter.
 */
describe('worker metrics through a meter', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  /** Runs two workflows on two workers of different task queues that record through `meter`. */
  async function runWith(meter: MetricMeter): Promise<void> {
    const workers = ['a', 'b'].map((taskQueue) =>
      env.newWorker({ taskQueue, workflows: [Doubling], activities: [new Steps()], metrics: { meter } }),
    );
    const results = await Promise.all(
      workers.map((worker, i) => worker.runUntil(env.client.executeWorkflow(Doubling, 21, { id: `doubling-${i}`, taskQueue: worker.options.taskQueue }))),
    );
    expect(results).toEqual([42, 42]);
    // The built-in registry is not used.
    for (const worker of workers) expect(worker.metrics.list()).toEqual([]);
  }

  it('records into a prom-client registry', async () => {
    const registry = new promClient.Registry();
    await runWith(new PromClientMeter(promClient, { registry }));
    const labels = (taskQueue: string, type: 'workflow_type' | 'activity_type', value: string) =>
      `namespace="${env.namespace}",task_queue="${taskQueue}",${type}="${value}"`;
    const text = await registry.metrics();
    for (const taskQueue of ['a', 'b']) {
      expect(text).toContain(`durabull_activity_execution_latency_seconds_count{${labels(taskQueue, 'activity_type', 'double')}} 2`);
      expect(text).toContain(`durabull_activity_retries_total{${labels(taskQueue, 'activity_type', 'double')}} 1`);
      expect(text).toContain(`durabull_activity_failures_total{${labels(taskQueue, 'activity_type', 'double')},kind="application"} 1`);
      expect(text).toMatch(new RegExp(`durabull_workflow_task_execution_latency_seconds_count\\{${labels(taskQueue, 'workflow_type', 'Doubling')}\\} [1-9]`));
    }
    expect(text).toContain('# HELP durabull_activity_retries_total Activity attempts started after the first (retries).');
  });

  it('records into an OpenTelemetry MeterProvider', async () => {
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    await runWith(new OpenTelemetryMeter(provider.getMeter('durabull-test')));
    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const metric = <T extends MetricData>(name: string) => all.find((m) => m.descriptor.name === name) as T;
    const attributes = (taskQueue: string) => ({ namespace: env.namespace, task_queue: taskQueue, activity_type: 'double' });

    const retries = metric<SumMetricData>('durabull_activity_retries_total');
    expect(retries.descriptor.description).toBe('Activity attempts started after the first (retries).');
    const byTaskQueue = <P extends { attributes: Record<string, unknown> }>(points: P[]) =>
      [...points].sort((x, y) => String(x.attributes['task_queue']).localeCompare(String(y.attributes['task_queue'])));
    expect(byTaskQueue(retries.dataPoints).map((p) => [p.attributes, p.value])).toEqual([
      [attributes('a'), 1],
      [attributes('b'), 1],
    ]);
    const execution = metric<HistogramMetricData>('durabull_activity_execution_latency_seconds');
    expect(execution.descriptor.unit).toBe('s');
    expect(byTaskQueue(execution.dataPoints).map((p) => [p.attributes, p.value.count])).toEqual([
      [attributes('a'), 2],
      [attributes('b'), 2],
    ]);
    expect(execution.dataPoints[0]!.value.buckets.boundaries).toEqual([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    await provider.shutdown();
  });

  it('refuses a meter beside a registry or a Prometheus endpoint, and what is not a meter', () => {
    const meter = new OpenTelemetryMeter();
    const base = { taskQueue: 'q', workflows: [Doubling] };
    expect(() => new Worker(env.client, { ...base, metrics: { meter, prometheus: { port: 0 } } })).toThrow(
      new TypeError("metrics.meter cannot be combined with metrics.registry or metrics.prometheus: the meter's own stack serves its metrics"),
    );
    expect(() => new Worker(env.client, { ...base, metrics: { meter: {} as MetricMeter } })).toThrow(
      new TypeError('Invalid metrics.meter: not a MetricMeter (an object with counter, histogram and gauge methods)'),
    );
  });
});
