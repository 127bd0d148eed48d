// String enums, so values read the same in Redis, in history JSON and in code. Except for
// EventType (Temporal's PascalCase event names), each value equals its member name, which is
// the Temporal API enum name without its prefix (TIMEOUT_TYPE_START_TO_CLOSE -> START_TO_CLOSE).

/**
 * Which timeout expired. Carried by {@link TimeoutError.type} and recorded in
 * `timeoutFailureInfo.timeoutType`.
 */
export enum TimeoutType {
  /** One attempt ran longer than `startToCloseTimeout`. Retried under the retry policy. */
  START_TO_CLOSE = 'START_TO_CLOSE',
  /** One attempt waited in its queue longer than `scheduleToStartTimeout`. Never retried. */
  SCHEDULE_TO_START = 'SCHEDULE_TO_START',
  /** The activity as a whole (every attempt and backoff) exceeded `scheduleToCloseTimeout`. Never retried. */
  SCHEDULE_TO_CLOSE = 'SCHEDULE_TO_CLOSE',
  /** A running attempt went longer than `heartbeatTimeout` without heartbeating. Retried. */
  HEARTBEAT = 'HEARTBEAT',
}

/** Why an activity (or workflow) stopped being retried, as Temporal's `RetryState`. */
export enum RetryState {
  /** Still retrying; never recorded on a closed activity. */
  IN_PROGRESS = 'IN_PROGRESS',
  /** The failure was non-retryable (flag, listed type, or a timeout kind that is never retried). */
  NON_RETRYABLE_FAILURE = 'NON_RETRYABLE_FAILURE',
  /** A timeout ended it, or the next retry would start after the schedule-to-close deadline. */
  TIMEOUT = 'TIMEOUT',
  /** `maximumAttempts` attempts were made. */
  MAXIMUM_ATTEMPTS_REACHED = 'MAXIMUM_ATTEMPTS_REACHED',
  /** There was no retry policy (the case for workflows, which have none by default). */
  RETRY_POLICY_NOT_SET = 'RETRY_POLICY_NOT_SET',
  /** The activity failed after its cancellation was requested, so it is not retried. */
  CANCEL_REQUESTED = 'CANCEL_REQUESTED',
}

/** What a workflow waits for when it cancels one of its activities. */
export enum ActivityCancellationType {
  /** Request cancellation and resolve the handle as cancelled at once. */
  TRY_CANCEL = 'TRY_CANCEL',
  /** Request cancellation and wait until the activity reports how it ended. */
  WAIT_CANCELLATION_COMPLETED = 'WAIT_CANCELLATION_COMPLETED',
  /** Resolve the handle as cancelled without telling the activity. */
  ABANDON = 'ABANDON',
}

/** Lifecycle state of one workflow run, as reported by `describe().status`. */
export enum WorkflowExecutionStatus {
  /** Not closed yet. */
  RUNNING = 'RUNNING',
  /** The workflow returned a result. */
  COMPLETED = 'COMPLETED',
  /** A `DurabullError` escaped the workflow. */
  FAILED = 'FAILED',
  /** The workflow accepted a cancellation request. */
  CANCELED = 'CANCELED',
  /** Ended from outside by `terminate()`. */
  TERMINATED = 'TERMINATED',
  /** A workflow timeout expired. */
  TIMED_OUT = 'TIMED_OUT',
}

/** History event types, named exactly as Temporal's (`ActivityTaskScheduled`, ...). */
export enum EventType {
  WorkflowExecutionStarted = 'WorkflowExecutionStarted',
  WorkflowExecutionCompleted = 'WorkflowExecutionCompleted',
  WorkflowExecutionFailed = 'WorkflowExecutionFailed',
  WorkflowExecutionTimedOut = 'WorkflowExecutionTimedOut',
  WorkflowExecutionCanceled = 'WorkflowExecutionCanceled',
  WorkflowExecutionTerminated = 'WorkflowExecutionTerminated',
  WorkflowExecutionCancelRequested = 'WorkflowExecutionCancelRequested',
  WorkflowTaskScheduled = 'WorkflowTaskScheduled',
  WorkflowTaskStarted = 'WorkflowTaskStarted',
  WorkflowTaskCompleted = 'WorkflowTaskCompleted',
  WorkflowTaskTimedOut = 'WorkflowTaskTimedOut',
  WorkflowTaskFailed = 'WorkflowTaskFailed',
  ActivityTaskScheduled = 'ActivityTaskScheduled',
  ActivityTaskStarted = 'ActivityTaskStarted',
  ActivityTaskCompleted = 'ActivityTaskCompleted',
  ActivityTaskFailed = 'ActivityTaskFailed',
  ActivityTaskTimedOut = 'ActivityTaskTimedOut',
  ActivityTaskCancelRequested = 'ActivityTaskCancelRequested',
  ActivityTaskCanceled = 'ActivityTaskCanceled',
  TimerStarted = 'TimerStarted',
  TimerFired = 'TimerFired',
  TimerCanceled = 'TimerCanceled',
}

/**
 * Why a workflow task failed (`WorkflowTaskFailed.cause`): the subset of Temporal's
 * `WorkflowTaskFailedCause` that applies to the commands Durabull supports.
 */
export enum WorkflowTaskFailedCause {
  /** New events arrived while the task ran, so its workflow-closing command was rejected. */
  UNHANDLED_COMMAND = 'UNHANDLED_COMMAND',
  BAD_SCHEDULE_ACTIVITY_ATTRIBUTES = 'BAD_SCHEDULE_ACTIVITY_ATTRIBUTES',
  BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES = 'BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES',
  BAD_START_TIMER_ATTRIBUTES = 'BAD_START_TIMER_ATTRIBUTES',
  BAD_CANCEL_TIMER_ATTRIBUTES = 'BAD_CANCEL_TIMER_ATTRIBUTES',
  BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES = 'BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES',
  BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES = 'BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES',
  BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES = 'BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES',
  START_TIMER_DUPLICATE_ID = 'START_TIMER_DUPLICATE_ID',
  /** Another pending activity of the run already uses this `activityId`. */
  SCHEDULE_ACTIVITY_DUPLICATE_ID = 'SCHEDULE_ACTIVITY_DUPLICATE_ID',
  /** The run would have more than 2,000 pending activities. */
  PENDING_ACTIVITIES_LIMIT_EXCEEDED = 'PENDING_ACTIVITIES_LIMIT_EXCEEDED',
  /** Workflow code threw something that is not a `DurabullError` (a bug); retried until fixed. */
  WORKFLOW_WORKER_UNHANDLED_FAILURE = 'WORKFLOW_WORKER_UNHANDLED_FAILURE',
  /** Replayed commands disagree with recorded history. */
  NON_DETERMINISTIC_ERROR = 'NON_DETERMINISTIC_ERROR',
  /** A payload the task produced is over the size limit (2 MiB). */
  PAYLOADS_TOO_LARGE = 'PAYLOADS_TOO_LARGE',
}

/** The events that close a run: nothing follows one of them in a history. */
export const WORKFLOW_CLOSE_EVENT_TYPES: ReadonlySet<string> = new Set<string>([
  EventType.WorkflowExecutionCompleted,
  EventType.WorkflowExecutionFailed,
  EventType.WorkflowExecutionCanceled,
  EventType.WorkflowExecutionTerminated,
  EventType.WorkflowExecutionTimedOut,
]);

/** The events that close an activity. */
export const ACTIVITY_CLOSE_EVENT_TYPES: ReadonlySet<string> = new Set<string>([
  EventType.ActivityTaskCompleted,
  EventType.ActivityTaskFailed,
  EventType.ActivityTaskTimedOut,
  EventType.ActivityTaskCanceled,
]);
