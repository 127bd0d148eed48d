/**
 * `@durabull/sdk`: durable execution for TypeScript on Redis. Workflows are classes whose
 * `@WorkflowRun` method calls activities; their history lives in Redis, BullMQ carries their
 * tasks, and workers replay them, so a run survives any worker.
 *
 * ```ts
 * import { Activity, Client, Worker, WorkflowDefn, WorkflowRun, workflow } from '@durabull/sdk';
 *
 * class Greetings {
 *   @Activity({ name: 'greet' })
 *   async greet(name: string): Promise<string> { return `Hello, ${name}!`; }
 * }
 *
 * @WorkflowDefn()
 * class GreetingWorkflow {
 *   @WorkflowRun()
 *   async run(name: string): Promise<string> {
 *     return workflow.executeActivity(Greetings.prototype.greet, name, { startToCloseTimeout: '10s' });
 *   }
 * }
 *
 * const client = await Client.connect({ namespace: 'default' });
 * const worker = new Worker(client, { taskQueue: 'hello', workflows: [GreetingWorkflow], activities: [new Greetings()] });
 * const result = await worker.runUntil(client.executeWorkflow(GreetingWorkflow, 'World', { id: 'greet-1', taskQueue: 'hello' }));
 * ```
 *
 * @packageDocumentation
 */
import * as activity from './activity/api';
import * as workflow from './workflow/api';

export { activity, workflow };

export { Activity, defineActivity } from './definitions/activity';
export type { ActivityDecoratorOptions, ActivityDefinition } from './definitions/activity';
export { WorkflowDefn, WorkflowQuery, WorkflowRun, WorkflowSignal, WorkflowUpdate, registerWorkflow } from './definitions/workflow';
export type {
  MessageHandlerDefinition,
  MessageKind,
  WorkflowArgs,
  WorkflowClass,
  WorkflowDefinition,
  WorkflowDefnOptions,
  WorkflowMessageOptions,
  WorkflowResult,
  WorkflowRunOptions,
  WorkflowUpdateOptions,
} from './definitions/workflow';

export type { ActivityHandle, ExternalWorkflowHandle } from './workflow/api';
export type { ChildWorkflowHandle, ChildWorkflowOptions, ChildWorkflowOptionsWithArgs } from './workflow/children';
export type { ActivityOptions, ActivityOptionsWithArgs } from './workflow/activity-options';
export type { LocalActivityOptions, LocalActivityOptionsWithArgs } from './workflow/local-activities';
export type { WorkflowInfo } from './workflow/runtime';
export { ContinueAsNewError } from './workflow/continue-as-new';
export type { ContinueAsNewOptions } from './workflow/continue-as-new';
export { CompleteAsyncError } from './activity/context';
export type { ActivityInfo, CancellationReason } from './activity/context';

export { Client } from './client/client';
export { WorkflowHandle } from './client/handle';
export type { PendingActivityInfo, PendingChildWorkflowInfo, PendingWorkflowTaskInfo, WorkflowExecutionDetails } from './client/describe';
export { AsyncActivityHandle } from './client/async-activity-handle';
export { WorkflowUpdateHandle } from './client/update-handle';
export {
  ScheduleAlreadyRunning,
  ScheduleAlreadyRunning as ScheduleAlreadyRunningError,
  ScheduleHandle,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from './client/schedules';
export type {
  ScheduleActionOptions,
  ScheduleActionResult,
  ScheduleBackfill,
  ScheduleDescription,
  ScheduleOptions,
  SchedulePolicies,
  ScheduleSpec,
  ScheduleStateOptions,
  ScheduleSummary,
} from './client/schedules';
export type { ExecuteUpdateOptions, StartUpdateOptions } from './client/update-handle';
export type { AsyncActivityId } from './client/async-activity-handle';
export type {
  ClientOptions,
  DataConverter,
  StartWorkflowOptions,
  StartWorkflowOptionsWithArgs,
  WorkflowExecutionDescription,
  WorkflowListFilter,
} from './client/options';
export { Worker } from './worker/worker';
export type { WorkerOptions } from './worker/options';
export { Replayer } from './worker/replayer';
export type { ReplayResult, ReplayerOptions, WorkflowHistory } from './worker/replayer';
export { ConsoleLogger } from './logger';
export type { LogLevel, Logger } from './logger';
export { Counter, DEFAULT_LATENCY_BUCKETS, Gauge, Histogram, MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './observability/metrics';
export type { AnyMetric, HistogramSnapshot, Labels } from './observability/metrics';
export { WorkerMetricNames } from './observability/worker-metrics';
export { PromClientMeter } from './observability/prom-client-meter';
export type { PromClientModule, PromClientRegistry } from './observability/prom-client-meter';
export type { MeterCounter, MeterGauge, MeterHistogram, MetricMeter } from './observability/meter';
export { PrometheusServer } from './observability/prometheus-server';
export type { WorkerMetricsOptions } from './worker/options';
export type {
  ActivityExecuteInput,
  ActivityInterceptor,
  ActivityScheduleInput,
  ChildWorkflowStartInput,
  ClientInterceptor,
  ContinueAsNewInput,
  ExternalWorkflowSignalInput,
  Headers,
  WorkerInterceptors,
  WorkflowInterceptor,
  WorkflowSignalInput,
  WorkflowStartInput,
} from './interceptors';

export {
  ACTIVITY_CLOSE_EVENT_TYPES,
  ActivityCancellationType,
  ActivityError,
  ActivityNotFoundError,
  AesGcmEncryptionCodec,
  ApplicationError,
  AsyncActivityCancelledError,
  CancelledError,
  ChildWorkflowCancellationType,
  ChildWorkflowError,
  ContinueAsNewInitiator,
  DurabullError,
  EventType,
  ExternalWorkflowExecutionFailedCause,
  FailureError,
  PendingActivityState,
  ParentClosePolicy,
  IllegalStateError,
  NondeterminismError,
  PayloadConverter,
  PayloadSizeError,
  RedisConnectionError,
  ReplicationTimeoutError,
  RetryState,
  ServerError,
  TerminatedError,
  TimeoutError,
  TimeoutType,
  WORKFLOW_CLOSE_EVENT_TYPES,
  WorkflowAlreadyStartedError,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowQueryFailedError,
  WorkflowQueryFailedReason,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  formatHistoryTable,
  isCancellation,
} from '@durabull/common';
export type {
  ActivityErrorOptions,
  ChildWorkflowErrorOptions,
  AesGcmEncryptionCodecOptions,
  ApplicationErrorOptions,
  Duration,
  DurationObject,
  Failure,
  HistoryEvent,
  Payload,
  PayloadCodec,
  RetryPolicy,
  TimeoutErrorOptions,
} from '@durabull/common';
export type { DurabilityOption, RedisConnectionOption, TaskQueuePoller } from '@durabull/engine';
export { NamespaceNotFoundError } from '@durabull/engine';
