// History events as stored in a run's Redis stream: Temporal's event names and attribute names
// (temporal.api.history.v1, camelCase), with types, ids and task queues flattened to strings.
// Durations are milliseconds, 0 meaning unset/unlimited; values are Payload[], errors Failure.
// Attributes are type aliases (not interfaces) so every typed event is also a HistoryEvent.

import type {
  ActivityCancellationType,
  EventType,
  RetryState,
  TimeoutType,
  WorkflowTaskFailedCause,
} from './enums';
import type { Failure } from './failure';
import type { Payload } from './payload';
import type { CompiledRetryPolicy } from './retry-policy';

/** One entry of a run's history. */
export interface HistoryEvent<T = Record<string, unknown>, K extends EventType = EventType> {
  /** 1, 2, 3, ... without gaps. */
  eventId: number;
  /** ISO-8601 time the event was recorded. */
  eventTime: string;
  eventType: K;
  attributes: T;
}

/** The run was created; always event 1. */
export type WorkflowExecutionStartedEventAttributes = {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  input: Payload[];
  /** ms across all runs; 0 = unlimited. */
  workflowExecutionTimeout: number;
  /** ms for this run; 0 = unlimited. */
  workflowRunTimeout: number;
  /** ms a workflow task may run. */
  workflowTaskTimeout: number;
  attempt: number;
  /** Who started it (client identity). */
  identity: string;
  firstExecutionRunId: string;
  /** Seed of `workflow.random()` / `workflow.uuid4()`, so replay draws the same numbers. */
  randomnessSeed: string;
};

/** The workflow returned; `result` holds its return value. */
export type WorkflowExecutionCompletedEventAttributes = {
  result: Payload[];
  workflowTaskCompletedEventId: number;
};

/** A `DurabullError` escaped the workflow; `retryState` is `RETRY_POLICY_NOT_SET` unless the workflow has a retry policy. */
export type WorkflowExecutionFailedEventAttributes = {
  failure: Failure;
  retryState: RetryState;
  workflowTaskCompletedEventId: number;
};

/** The workflow run or execution timeout expired. */
export type WorkflowExecutionTimedOutEventAttributes = {
  retryState: RetryState;
};

/** The workflow accepted a cancellation request and ended. */
export type WorkflowExecutionCanceledEventAttributes = {
  details: Payload[];
  workflowTaskCompletedEventId: number;
};

/** The workflow was ended from outside, without running workflow code. */
export type WorkflowExecutionTerminatedEventAttributes = {
  reason: string;
  details: Payload[];
  identity: string;
};

/** A client asked the workflow to cancel. */
export type WorkflowExecutionCancelRequestedEventAttributes = {
  /** The reason given by the client. */
  cause: string;
  identity: string;
};

/** A workflow task was queued (retried tasks are transient and write none). */
export type WorkflowTaskScheduledEventAttributes = {
  taskQueue: string;
  /** ms. */
  startToCloseTimeout: number;
  attempt: number;
};

/** A worker picked up the workflow task. */
export type WorkflowTaskStartedEventAttributes = {
  scheduledEventId: number;
  identity: string;
  requestId?: string;
};

/** The workflow task's commands were accepted; their events follow this one. */
export type WorkflowTaskCompletedEventAttributes = {
  scheduledEventId: number;
  startedEventId: number;
  identity: string;
};

/** The workflow task was not completed within its timeout. */
export type WorkflowTaskTimedOutEventAttributes = {
  scheduledEventId: number;
  startedEventId: number;
  timeoutType: TimeoutType;
};

/** The workflow task failed (nondeterminism, a bug in workflow code, ...); it is retried. */
export type WorkflowTaskFailedEventAttributes = {
  scheduledEventId: number;
  startedEventId: number;
  cause: WorkflowTaskFailedCause;
  failure: Failure;
  identity: string;
};

/**
 * The workflow scheduled an activity. Timeouts are the normalised values (TEMPORAL-SEMANTICS
 * §2.1), in ms, 0 = none; `retryPolicy` has every default filled in.
 */
export type ActivityTaskScheduledEventAttributes = {
  activityId: string;
  activityType: string;
  taskQueue: string;
  input: Payload[];
  scheduleToCloseTimeout: number;
  scheduleToStartTimeout: number;
  startToCloseTimeout: number;
  heartbeatTimeout: number;
  retryPolicy: CompiledRetryPolicy;
  cancellationType: ActivityCancellationType;
  workflowTaskCompletedEventId: number;
};

/** Written when the activity closes, just before its closing event, with the final attempt. */
export type ActivityTaskStartedEventAttributes = {
  scheduledEventId: number;
  identity: string;
  attempt: number;
  /** The previous attempt's failure, when this was a retry. */
  lastFailure?: Failure;
};

/** The activity returned; `result` holds its return value. */
export type ActivityTaskCompletedEventAttributes = {
  result: Payload[];
  scheduledEventId: number;
  startedEventId: number;
  identity: string;
};

/** The activity failed for good (non-retryable, out of attempts, or out of time). */
export type ActivityTaskFailedEventAttributes = {
  failure: Failure;
  scheduledEventId: number;
  startedEventId: number;
  identity: string;
  retryState: RetryState;
};

/** A timeout ended the activity. */
export type ActivityTaskTimedOutEventAttributes = {
  /** A timeout failure whose cause is the previous attempt's failure, if any. */
  failure: Failure;
  scheduledEventId: number;
  /** 0 when it timed out before starting. */
  startedEventId: number;
  retryState: RetryState;
};

/** The workflow asked to cancel the activity. */
export type ActivityTaskCancelRequestedEventAttributes = {
  scheduledEventId: number;
  workflowTaskCompletedEventId: number;
};

/** The activity ended as cancelled. */
export type ActivityTaskCanceledEventAttributes = {
  details: Payload[];
  latestCancelRequestedEventId: number;
  scheduledEventId: number;
  /** 0 when it was cancelled before starting. */
  startedEventId: number;
  identity: string;
};

/** A durable timer (`workflow.sleep`) started. */
export type TimerStartedEventAttributes = {
  timerId: string;
  /** ms. */
  startToFireTimeout: number;
  workflowTaskCompletedEventId: number;
};

/** A timer fired. */
export type TimerFiredEventAttributes = {
  timerId: string;
  startedEventId: number;
};

/** A timer was cancelled before it fired. */
export type TimerCanceledEventAttributes = {
  timerId: string;
  startedEventId: number;
  workflowTaskCompletedEventId: number;
  identity: string;
};

/** The attributes type of each event type. */
export interface EventAttributesMap {
  [EventType.WorkflowExecutionStarted]: WorkflowExecutionStartedEventAttributes;
  [EventType.WorkflowExecutionCompleted]: WorkflowExecutionCompletedEventAttributes;
  [EventType.WorkflowExecutionFailed]: WorkflowExecutionFailedEventAttributes;
  [EventType.WorkflowExecutionTimedOut]: WorkflowExecutionTimedOutEventAttributes;
  [EventType.WorkflowExecutionCanceled]: WorkflowExecutionCanceledEventAttributes;
  [EventType.WorkflowExecutionTerminated]: WorkflowExecutionTerminatedEventAttributes;
  [EventType.WorkflowExecutionCancelRequested]: WorkflowExecutionCancelRequestedEventAttributes;
  [EventType.WorkflowTaskScheduled]: WorkflowTaskScheduledEventAttributes;
  [EventType.WorkflowTaskStarted]: WorkflowTaskStartedEventAttributes;
  [EventType.WorkflowTaskCompleted]: WorkflowTaskCompletedEventAttributes;
  [EventType.WorkflowTaskTimedOut]: WorkflowTaskTimedOutEventAttributes;
  [EventType.WorkflowTaskFailed]: WorkflowTaskFailedEventAttributes;
  [EventType.ActivityTaskScheduled]: ActivityTaskScheduledEventAttributes;
  [EventType.ActivityTaskStarted]: ActivityTaskStartedEventAttributes;
  [EventType.ActivityTaskCompleted]: ActivityTaskCompletedEventAttributes;
  [EventType.ActivityTaskFailed]: ActivityTaskFailedEventAttributes;
  [EventType.ActivityTaskTimedOut]: ActivityTaskTimedOutEventAttributes;
  [EventType.ActivityTaskCancelRequested]: ActivityTaskCancelRequestedEventAttributes;
  [EventType.ActivityTaskCanceled]: ActivityTaskCanceledEventAttributes;
  [EventType.TimerStarted]: TimerStartedEventAttributes;
  [EventType.TimerFired]: TimerFiredEventAttributes;
  [EventType.TimerCanceled]: TimerCanceledEventAttributes;
}

/** The event of one type, with its attributes typed. */
export type HistoryEventOf<K extends EventType> = HistoryEvent<EventAttributesMap[K], K>;

/**
 * Any event, as a union discriminated by `eventType`: `switch (event.eventType)` narrows
 * `event.attributes`.
 */
export type TypedHistoryEvent = { [K in EventType]: HistoryEventOf<K> }[EventType];
