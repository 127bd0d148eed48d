import type { MeterCounter, MeterGauge, MeterHistogram, MetricMeter } from './meter';

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

/** The metrics a worker records, created through its meter, with its namespace and task queue. */
export class WorkerMetrics {
  readonly workflowTaskScheduleToStart: MeterHistogram;
  readonly workflowTaskExecution: MeterHistogram;
  readonly workflowTaskFailures: MeterCounter;
  readonly activityScheduleToStart: MeterHistogram;
  readonly activityExecution: MeterHistogram;
  readonly activityFailures: MeterCounter;
  readonly activityRetries: MeterCounter;
  readonly cacheHits: MeterCounter;
  readonly cacheMisses: MeterCounter;
  readonly cacheSize: MeterGauge;

  /** The worker's labels, frozen: a meter finds a frozen label set's series without building its key. */
  private readonly base: Readonly<{ namespace: string; task_queue: string }>;

  constructor(
    readonly meter: MetricMeter,
    base: { namespace: string; task_queue: string },
  ) {
    this.base = Object.freeze({ namespace: base.namespace, task_queue: base.task_queue });
    const n = WorkerMetricNames;
    this.workflowTaskScheduleToStart = meter.histogram(
      n.workflowTaskScheduleToStartLatency,
      'Time from a workflow task becoming due to a worker starting it, in seconds (0 for a task taken eagerly).',
      WORKFLOW,
    );
    this.workflowTaskExecution = meter.histogram(
      n.workflowTaskExecutionLatency,
      'Time a worker spent on a workflow task, from starting it to committing or failing it, in seconds.',
      WORKFLOW,
    );
    this.workflowTaskFailures = meter.counter(n.workflowTaskFailures, 'Workflow tasks that failed, by WorkflowTaskFailed cause.', [
      ...WORKFLOW,
      'cause',
    ]);
    this.activityScheduleToStart = meter.histogram(
      n.activityScheduleToStartLatency,
      'Time from an activity attempt being scheduled (its retry backoff included) to its start, in seconds.',
      ACTIVITY,
    );
    this.activityExecution = meter.histogram(
      n.activityExecutionLatency,
      'Time an activity attempt ran on a worker, in seconds.',
      ACTIVITY,
    );
    this.activityFailures = meter.counter(
      n.activityFailures,
      'Activity attempts that did not complete, by kind (application, timeout, canceled, server, terminated).',
      [...ACTIVITY, 'kind'],
    );
    this.activityRetries = meter.counter(n.activityRetries, 'Activity attempts started after the first (retries).', ACTIVITY);
    this.cacheHits = meter.counter(n.workflowCacheHits, "Workflow tasks whose run was in the worker's cache.", WORKFLOW);
    this.cacheMisses = meter.counter(
      n.workflowCacheMisses,
      "Workflow tasks whose run was not in the worker's cache and was rebuilt by replaying its history (a run's first activation counts as neither).",
      WORKFLOW,
    );
    this.cacheSize = meter.gauge(n.workflowCacheSize, "Runs held in the worker's workflow cache.", ['namespace', 'task_queue']);
  }

  // One frozen label set per type, made once: every task asks for its type's labels, and a
  // frozen set lets the built-in meter find its series without checking the labels again.
  private readonly workflowLabels = new Map<string, Readonly<{ namespace: string; task_queue: string; workflow_type: string }>>();
  private readonly activityLabels = new Map<string, Readonly<{ namespace: string; task_queue: string; activity_type: string }>>();

  workflow(workflowType: string): { namespace: string; task_queue: string; workflow_type: string } {
    let labels = this.workflowLabels.get(workflowType);
    if (!labels) {
      labels = Object.freeze({ namespace: this.base.namespace, task_queue: this.base.task_queue, workflow_type: workflowType });
      this.workflowLabels.set(workflowType, labels);
    }
    return labels;
  }

  activity(activityType: string): { namespace: string; task_queue: string; activity_type: string } {
    let labels = this.activityLabels.get(activityType);
    if (!labels) {
      labels = Object.freeze({ namespace: this.base.namespace, task_queue: this.base.task_queue, activity_type: activityType });
      this.activityLabels.set(activityType, labels);
    }
    return labels;
  }

  setCacheSize(size: number): void {
    this.cacheSize.set(this.base, size);
  }
}
