/**
 * @durabull/engine: the Redis side of Durabull. Runs are state machines whose transitions are
 * fenced Lua scripts (see ./lua); BullMQ carries their tasks. Used by `@durabull/sdk`'s Client and
 * Worker; application code does not import it.
 */
export { RedisConnection, asRedisConnectionError, connectSettled, defaultRedisUrl } from './connection';
export { DEFAULT_DURABILITY_TIMEOUT_MS, resolveDurability } from './durability';
export type { Durability, DurabilityOption } from './durability';
export type { RedisConnectionOption } from './connection';
export { Engine } from './engine';
export { readRunDetails } from './describe';
export type { PendingActivityRecord, PendingWorkflowTaskRecord, RunDetails } from './describe';
export { TERMINATE_EXISTING_REASON, alreadyStartedError, resolveIdPolicies, terminateExistingDetails } from './id-policy';
export type { IdPolicies } from './id-policy';
export {
  DEFAULT_NAMESPACE_LIMITS,
  DEFAULT_RETENTION_MS,
  MAX_RETENTION_MS,
  MIN_RETENTION_MS,
  NamespaceNotFoundError,
  assertName,
  assertRetention,
} from './namespace';
export type { NamespaceLimits, NamespaceOptions } from './namespace';
export { POLLER_RETENTION_MS, describeTaskQueue, pollersKey, recordPoller } from './pollers';
export type { TaskQueuePoller } from './pollers';
export { historyEventFromStreamEntry, parseClosedRunMessage, replyError, throwOnReply } from './replies';
export type { ReplyError, ReplySource, StreamEntry } from './replies';
export type {
  ActivityOutcome,
  ActivityState,
  ActivityTaskStart,
  AsyncActivityReply,
  AsyncActivityReport,
  AsyncActivityTarget,
  CommandRecord,
  FailureFacts,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  SweepOptions,
  WorkflowTaskStart,
} from './types';
export { CHAIN_FIELDS, chainTemplate, luaRetryPolicy } from './types';
export { compileCron } from './cron';
export type { CompiledCron } from './cron';
export { Dispatcher, TASK_JOB_OPTIONS } from './dispatcher';
export { NamespaceKeys, QueueNames } from './keys';
export type { RunKeys, ShardKeys } from './keys';
export { handOverQueries, publishQueryAnswer, queryQueuePrefix, readQueryRunState, sendQuery, withdrawQuery } from './queries';
export type { QueryAnswer, QueryJobData, QueryRoute, QueryRunState } from './queries';
export { ReplyCode } from './scripts';
export type { ScriptMode } from './scripts';
export type { ActivityTaskJobData, MessageJobData, WakeJobData, WorkflowTaskJobData } from './tasks';
export { parseUpdateMessage } from './updates';
export type { UpdateRequest, UpdateStage, UpdateState } from './updates';
export { Visibility } from './visibility';
export type { RunFilter, RunPage, RunSummary } from './visibility';
export { advanceClock, clockOffset, namespaceTime, nextDueTime } from './test-clock';
export {
  DEFAULT_CATCHUP_WINDOW_MS,
  HANDOVER_GRACE_MS,
  POLL_MS,
  ScheduleOverlapPolicy,
  Schedules,
  initialScheduleState,
  normalizeCatchupWindow,
} from './schedules';
export type { ScheduleActionRecord, ScheduleActionRecordResult, ScheduleChange, ScheduleDefinition, ScheduleRecord, ScheduleState } from './schedules';
export {
  assertScheduleSpec,
  assertTimeZone,
  jitterOf,
  nextCronTime,
  nextIntervalTime,
  nextNominalTime,
  nominalTimesBetween,
  parseCron,
  scheduleTimeId,
  splitCron,
} from './schedule-spec';
export type { CompiledScheduleSpec, CronSchedule } from './schedule-spec';
