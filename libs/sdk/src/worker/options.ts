// A worker's options: their types and defaults, and the checks that name a bad value.

import { optionalMilliseconds } from '@durabull/common';
import type { Duration } from '@durabull/common';
import { assertName } from '@durabull/engine';
import { collectActivities } from '../definitions/activity';
import { missingMetadataError } from '../definitions/decorator-metadata';
import { requireWorkflowDefinition } from '../definitions/workflow';
import type { WorkflowDefinition } from '../definitions/workflow';
import { WORKFLOW_INTERCEPTOR_HOOKS, checkInterceptors } from '../interceptors';
import type { WorkerInterceptors } from '../interceptors';
import { ConsoleLogger } from '../logger';
import type { Logger } from '../logger';
import { isMetricMeter } from '../observability/meter';
import type { MetricMeter } from '../observability/meter';
import { MetricsRegistry } from '../observability/metrics';

/** Options of a {@link Worker}. */
export interface WorkerOptions {
  /** Task queue whose workflow and activity tasks this worker runs. */
  taskQueue: string;
  /** Workflow classes (decorated with `@WorkflowDefn`) this worker runs. */
  workflows?: Array<new () => object>;
  /**
   * Activities this worker runs: instances of classes with `@Activity` methods (one instance
   * serves all concurrent invocations), classes with static `@Activity` methods, and functions
   * from `defineActivity`.
   */
  activities?: unknown[];
  /** Activity attempts run at once. @default 100 */
  maxConcurrentActivityTaskExecutions?: number;
  /** Workflow tasks run at once. @default 100 */
  maxConcurrentWorkflowTaskExecutions?: number;
  /**
   * Running workflows kept in memory (LRU), so their next task applies only new events; their
   * next task is routed to this worker first. 0 disables the cache and sticky routing. @default 1000
   */
  maxCachedWorkflows?: number;
  /**
   * How long a task routed to this worker (sticky) waits for it before any worker of the task
   * queue may take it. @default 5 s
   */
  stickyQueueScheduleToStartTimeout?: Duration;
  /**
   * On shutdown, how long running activities may finish before their cancellation signal fires;
   * they are then reported as failed (type `WorkerShutdown`) and retried elsewhere. @default 10 s
   */
  shutdownGraceTime?: Duration;
  /**
   * How often the worker looks for work that crashed processes left behind (an outbox sweep): a
   * committed task that was never dispatched, a job fetched by a worker that died before starting
   * it, an overdue deadline. The worker also sweeps once when it starts; each sweep comes 0.8-1.2
   * times the interval after the previous one, so workers started together do not sweep together.
   * 0 turns sweeping off (the worker still refreshes its liveness every second). @default 1 s
   */
  sweepInterval?: Duration;
  /**
   * Run work this worker creates for itself without a queue round trip, as Temporal's eager
   * execution does: an activity scheduled by a workflow task starts here at once when its task
   * queue is this worker's and an activity slot is free; the next workflow task of a run cached
   * here starts at once when an activity of it completes here and a workflow task slot is free
   * (or comes free within 20 ms: such a task goes ahead of those waiting in the queues).
   * History is the same either way. @default true
   */
  eagerExecution?: boolean;
  /** Identity recorded in history. @default the client's identity */
  identity?: string;
  /**
   * Where the worker logs: any object with `debug`, `info`, `warn` and `error(message,
   * attributes)` (pino, winston and the like fit with a small adapter). Entries about a task
   * carry its ids (`workflowId`, `runId`, `workflowType`; `activityId`, `activityType`, `attempt`
   * for activities); `workflow.logger` and `activity.logger` write here with the same ids.
   * @default a ConsoleLogger at level `DURABULL_LOG_LEVEL` (warn)
   */
  logger?: Logger;
  /**
   * Metrics: the worker records task latencies, failures, retries and workflow cache use into
   * `registry` (`worker.metrics`), and with `prometheus` serves them over HTTP; or, with `meter`,
   * into the application's own metrics stack (prom-client, OpenTelemetry).
   * @default a new registry per worker, no HTTP endpoint
   */
  metrics?: WorkerMetricsOptions;
  /**
   * Hooks around scheduling activities (inside workflow code) and running them, such as
   * `@durabull/opentelemetry`'s. @default none
   */
  interceptors?: WorkerInterceptors;
}

/** The worker option `metrics`. */
export interface WorkerMetricsOptions {
  /**
   * Where the worker records its metrics; share one between workers (of different task queues)
   * to serve them together, or register your own metrics in it. @default a new MetricsRegistry
   */
  registry?: MetricsRegistry;
  /**
   * Record the worker's metrics through this meter instead of a registry: a
   * `PromClientMeter` (prom-client), `@durabull/opentelemetry`'s `OpenTelemetryMeter`, or any
   * {@link MetricMeter}. The application serves or exports them; cannot be combined with
   * `registry` or `prometheus` (`worker.metrics` then stays empty). @default the registry
   */
  meter?: MetricMeter;
  /**
   * Serve the registry at `GET /metrics` in the Prometheus text format (0.0.4) while the worker
   * runs; the server listens when the worker starts and closes when it shuts down.
   * @default no endpoint
   */
  prometheus?: {
    /** TCP port, 0 for any free port (see `worker.prometheusAddress`). */
    port: number;
    /** Address to listen on. @default all interfaces (Node's default) */
    host?: string;
  };
}

const WORKER_OPTIONS = new Set([
  'taskQueue',
  'workflows',
  'activities',
  'maxConcurrentActivityTaskExecutions',
  'maxConcurrentWorkflowTaskExecutions',
  'maxCachedWorkflows',
  'stickyQueueScheduleToStartTimeout',
  'shutdownGraceTime',
  'sweepInterval',
  'eagerExecution',
  'identity',
  'logger',
  'metrics',
  'interceptors',
]);

/** Checks the `metrics` option. */
function checkMetricsOptions(value: unknown): WorkerMetricsOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new TypeError(`Invalid metrics: ${JSON.stringify(value)} (an object)`);
  const unknown = Object.keys(value).filter((key) => key !== 'registry' && key !== 'prometheus' && key !== 'meter');
  if (unknown.length > 0) throw new TypeError(`Unknown metrics option(s): ${unknown.join(', ')}`);
  const { registry, prometheus, meter } = value as WorkerMetricsOptions;
  if (registry !== undefined && !(registry instanceof MetricsRegistry)) {
    throw new TypeError('Invalid metrics.registry: not a MetricsRegistry');
  }
  if (meter !== undefined) {
    if (!isMetricMeter(meter)) throw new TypeError('Invalid metrics.meter: not a MetricMeter (an object with counter, histogram and gauge methods)');
    if (registry !== undefined || prometheus !== undefined) {
      throw new TypeError('metrics.meter cannot be combined with metrics.registry or metrics.prometheus: the meter\'s own stack serves its metrics');
    }
  }
  if (prometheus !== undefined) {
    if (typeof prometheus !== 'object' || prometheus === null) {
      throw new TypeError(`Invalid metrics.prometheus: ${JSON.stringify(prometheus)} (an object with port and host)`);
    }
    const extra = Object.keys(prometheus).filter((key) => key !== 'port' && key !== 'host');
    if (extra.length > 0) throw new TypeError(`Unknown metrics.prometheus option(s): ${extra.join(', ')}`);
    const { port, host } = prometheus;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError(`Invalid metrics.prometheus.port: ${JSON.stringify(port)} (an integer from 0 to 65535)`);
    }
    if (host !== undefined && (typeof host !== 'string' || host.length === 0)) {
      throw new TypeError(`Invalid metrics.prometheus.host: ${JSON.stringify(host)} (a non-empty string)`);
    }
  }
  return { registry, prometheus, meter };
}

/** Checks the `interceptors` option. */
function checkWorkerInterceptors(value: unknown): WorkerInterceptors {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Invalid interceptors: ${JSON.stringify(value)} (an object with workflow and activity lists)`);
  }
  const unknown = Object.keys(value).filter((key) => key !== 'workflow' && key !== 'activity');
  if (unknown.length > 0) throw new TypeError(`Unknown interceptors option(s): ${unknown.join(', ')} (workflow, activity)`);
  const { workflow, activity } = value as WorkerInterceptors;
  checkInterceptors('interceptors.workflow', workflow, WORKFLOW_INTERCEPTOR_HOOKS);
  checkInterceptors('interceptors.activity', activity, ['execute']);
  return { workflow, activity };
}

function positiveInteger(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TypeError(`Invalid ${name}: ${JSON.stringify(value)} (an integer ${allowZero ? '>= 0' : '>= 1'})`);
  }
  return value;
}

/** Worker options with defaults applied and durations in ms. */
export interface ResolvedWorkerOptions {
  readonly taskQueue: string;
  readonly maxConcurrentActivityTaskExecutions: number;
  readonly maxConcurrentWorkflowTaskExecutions: number;
  readonly maxCachedWorkflows: number;
  readonly stickyQueueScheduleToStartTimeout: number;
  readonly shutdownGraceTime: number;
  readonly sweepInterval: number;
  readonly eagerExecution: boolean;
  readonly identity: string;
}

/** A worker's options, checked, with what they name looked up. */
export interface CheckedWorkerOptions {
  options: ResolvedWorkerOptions;
  /** The workflows, by name. */
  workflows: Map<string, WorkflowDefinition>;
  /** The activities, by name. */
  activities: ReturnType<typeof collectActivities>;
  logger: Logger;
  metrics: WorkerMetricsOptions;
  interceptors: WorkerInterceptors;
}

/**
 * Checks a worker's options, throwing a TypeError that names the first bad one, and applies their
 * defaults; `defaultIdentity` is the identity without the `identity` option.
 */
export function checkWorkerOptions(options: WorkerOptions, defaultIdentity: string): CheckedWorkerOptions {
  const unknown = Object.keys(options ?? {}).filter((key) => !WORKER_OPTIONS.has(key));
  if (unknown.length > 0) throw new TypeError(`Unknown worker option(s): ${unknown.join(', ')}`);
  assertName('taskQueue', options.taskQueue);
  const workflows = new Map<string, WorkflowDefinition>();
  for (const cls of options.workflows ?? []) {
    const definition = requireWorkflowDefinition(cls);
    if (workflows.has(definition.name)) throw new TypeError(`More than one workflow is named ${JSON.stringify(definition.name)}`);
    workflows.set(definition.name, definition);
  }
  const activities = collectActivities(options.activities ?? []);
  if (workflows.size === 0 && activities.size === 0) {
    throw new TypeError('A worker needs at least one workflow or activity');
  }
  // Without decorator metadata, class-typed arguments would silently be neither restored nor validated.
  const missing = [
    ...[...workflows.values()].flatMap((definition) => definition.missingParamTypes),
    ...[...activities.values()].flatMap(({ definition }) => (definition.missingParamTypes ? [definition.missingParamTypes] : [])),
  ];
  if (missing.length > 0) throw missingMetadataError(missing);
  const resolved: ResolvedWorkerOptions = {
    taskQueue: options.taskQueue,
    maxConcurrentActivityTaskExecutions: positiveInteger('maxConcurrentActivityTaskExecutions', options.maxConcurrentActivityTaskExecutions, 100),
    maxConcurrentWorkflowTaskExecutions: positiveInteger('maxConcurrentWorkflowTaskExecutions', options.maxConcurrentWorkflowTaskExecutions, 100),
    maxCachedWorkflows: positiveInteger('maxCachedWorkflows', options.maxCachedWorkflows, 1000, true),
    stickyQueueScheduleToStartTimeout:
      optionalMilliseconds(options.stickyQueueScheduleToStartTimeout, 'stickyQueueScheduleToStartTimeout') ?? 5_000,
    shutdownGraceTime: optionalMilliseconds(options.shutdownGraceTime, 'shutdownGraceTime') ?? 10_000,
    sweepInterval: optionalMilliseconds(options.sweepInterval, 'sweepInterval') ?? 1_000,
    eagerExecution: options.eagerExecution ?? true,
    identity: options.identity ?? defaultIdentity,
  };
  const logger = options.logger ?? new ConsoleLogger();
  const metrics = checkMetricsOptions(options.metrics);
  const interceptors = checkWorkerInterceptors(options.interceptors);
  return { options: resolved, workflows, activities, logger, metrics, interceptors };
}
