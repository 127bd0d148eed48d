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
export { WorkflowDefn, WorkflowRun, registerWorkflow } from './definitions/workflow';
export type { WorkflowDefinition, WorkflowDefnOptions, WorkflowRunOptions } from './definitions/workflow';

export type { ActivityHandle } from './workflow/api';
export type { ActivityOptions, ActivityOptionsWithArgs } from './workflow/activity-options';
export type { WorkflowInfo } from './workflow/runtime';
export type { ActivityInfo, CancellationReason } from './activity/context';

export { Client, WorkflowHandle } from './client/client';
export type {
  ClientOptions,
  DataConverter,
  StartWorkflowOptions,
  StartWorkflowOptionsWithArgs,
  WorkflowExecutionDescription,
  WorkflowListFilter,
} from './client/client';
export { Worker } from './worker/worker';
export type { WorkerOptions } from './worker/worker';
export { Replayer } from './worker/replayer';
export type { ReplayResult, ReplayerOptions, WorkflowHistory } from './worker/replayer';
export { ConsoleLogger } from './logger';
export type { LogLevel, Logger } from './logger';
export { Counter, DEFAULT_LATENCY_BUCKETS, Gauge, Histogram, MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './observability/metrics';
export type { AnyMetric, HistogramSnapshot, Labels } from './observability/metrics';
export { WorkerMetricNames } from './observability/worker-metrics';
export type { WorkerMetricsOptions } from './worker/worker';
export type {
  ActivityExecuteInput,
  ActivityInterceptor,
  ActivityScheduleInput,
  ClientInterceptor,
  Headers,
  WorkerInterceptors,
  WorkflowInterceptor,
  WorkflowStartInput,
} from './interceptors';

export {
  ACTIVITY_CLOSE_EVENT_TYPES,
  ActivityCancellationType,
  ActivityError,
  AesGcmEncryptionCodec,
  ApplicationError,
  CancelledError,
  DurabullError,
  EventType,
  IllegalStateError,
  NondeterminismError,
  PayloadConverter,
  PayloadSizeError,
  RedisConnectionError,
  RetryState,
  ServerError,
  TerminatedError,
  TimeoutError,
  TimeoutType,
  WORKFLOW_CLOSE_EVENT_TYPES,
  WorkflowAlreadyStartedError,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowNotFoundError,
  formatHistoryTable,
  isCancellation,
} from '@durabull/common';
export type {
  ActivityErrorOptions,
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
export type { RedisConnectionOption } from '@durabull/engine';
