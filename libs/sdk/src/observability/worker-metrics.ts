import type { Counter, Gauge, Histogram, MetricsRegistry } from './metrics';

/** The names of the metrics a worker records. */
export const WorkerMetricNames = {
  workflowTaskScheduleToStartLatency: 'durabull_workflow_task_schedule_to_start_latency_seconds',
  workflowTaskExecutionLatency: 'durabull_workflow_task_execution_latency_seconds',
  workflowTaskFailures: 'durabull_workflow_task_failures_total',
  activityScheduleToStartLatency: 'durabull_activity_schedule_to_start_latency_seconds',
  activityExecutionLatency: 'durabull_activity_execution_latency_seconds',
  activityFailures: 'durabull_activity_failures_total',
  activityRetries: 'durabull_activity_retries_total',
  workflowCacheHits: 'durabull_workflow_cache_hits_total',
  workflowCacheMisses: 'durabull_workflow_cache_misses_total',
  workflowCacheSize: 'durabull_workflow_cache_size',
} as const;

const WORKFLOW = ['namespace', 'task_queue', 'workflow_type'] as const;
const ACTIVITY = ['namespace', 'task_queue', 'activity_type'] as const;

/** The metrics a worker records, registered in its registry, with its namespace and task queue. */
export class WorkerMetrics {
  readonly workflowTaskScheduleToStart: Histogram;
  readonly workflowTaskExecution: Histogram;
  readonly workflowTaskFailures: Counter;
  readonly activityScheduleToStart: Histogram;
  readonly activityExecution: Histogram;
  readonly activityFailures: Counter;
  readonly activityRetries: Counter;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly cacheSize: Gauge;

  constructor(
    readonly registry: MetricsRegistry,
    private readonly base: { namespace: string; task_queue: string },
  ) {
    const n = WorkerMetricNames;
    this.workflowTaskScheduleToStart = registry.histogram(
      n.workflowTaskScheduleToStartLatency,
      'Time from a workflow task becoming due to a worker starting it, in seconds (0 for a task taken eagerly).',
      WORKFLOW,
    );
    this.workflowTaskExecution = registry.histogram(
      n.workflowTaskExecutionLatency,
      'Time a worker spent on a workflow task, from starting it to committing or failing it, in seconds.',
      WORKFLOW,
    );
    this.workflowTaskFailures = registry.counter(n.workflowTaskFailures, 'Workflow tasks that failed, by WorkflowTaskFailed cause.', [
      ...WORKFLOW,
      'cause',
    ]);
    this.activityScheduleToStart = registry.histogram(
      n.activityScheduleToStartLatency,
      'Time from an activity attempt being scheduled (its retry backoff included) to its start, in seconds.',
      ACTIVITY,
    );
    this.activityExecution = registry.histogram(
      n.activityExecutionLatency,
      'Time an activity attempt ran on a worker, in seconds.',
      ACTIVITY,
    );
    this.activityFailures = registry.counter(
      n.activityFailures,
      'Activity attempts that did not complete, by kind (application, timeout, canceled, server, terminated).',
      [...ACTIVITY, 'kind'],
    );
    this.activityRetries = registry.counter(n.activityRetries, 'Activity attempts started after the first (retries).', ACTIVITY);
    this.cacheHits = registry.counter(n.workflowCacheHits, "Workflow tasks whose run was in the worker's cache.", WORKFLOW);
    this.cacheMisses = registry.counter(
      n.workflowCacheMisses,
      "Workflow tasks whose run was not in the worker's cache and was rebuilt by replaying its history (a run's first activation counts as neither).",
      WORKFLOW,
    );
    this.cacheSize = registry.gauge(n.workflowCacheSize, "Runs held in the worker's workflow cache.", ['namespace', 'task_queue']);
  }

  workflow(workflowType: string): { namespace: string; task_queue: string; workflow_type: string } {
    return { ...this.base, workflow_type: workflowType };
  }

  activity(activityType: string): { namespace: string; task_queue: string; activity_type: string } {
    return { ...this.base, activity_type: activityType };
  }

  setCacheSize(size: number): void {
    this.cacheSize.set(this.base, size);
  }
}
