/**
 * @durabull/engine: the Redis side of Durabull. Runs are state machines whose transitions are
 * fenced Lua scripts (see ./lua); BullMQ carries their tasks. Used by `@durabull/sdk`'s Client and
 * Worker; application code does not import it.
 */
export { RedisConnection, asRedisConnectionError, defaultRedisUrl } from './connection';
export type { RedisConnectionOption } from './connection';
export { DEFAULT_NAMESPACE_LIMITS, Engine, assertName, historyEventFromStreamEntry, parseClosedRunMessage } from './engine';
export type {
  ActivityOutcome,
  ActivityState,
  ActivityTaskStart,
  CommandRecord,
  FailureFacts,
  NamespaceLimits,
  NamespaceOptions,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  StreamEntry,
  SweepOptions,
  WorkflowTaskStart,
} from './engine';
export { Dispatcher, TASK_JOB_OPTIONS } from './dispatcher';
export { NamespaceKeys, QueueNames } from './keys';
export type { RunKeys, ShardKeys } from './keys';
export { ReplyCode } from './scripts';
export type { ScriptMode } from './scripts';
export type { ActivityTaskJobData, WakeJobData, WorkflowTaskJobData } from './tasks';
export { Visibility } from './visibility';
export type { RunFilter, RunPage, RunSummary } from './visibility';
