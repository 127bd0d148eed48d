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
  /** The run ended by starting the next run of its workflow id (`workflow.continueAsNew`). */
  CONTINUED_AS_NEW = 'CONTINUED_AS_NEW',
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
  WorkflowExecutionSignaled = 'WorkflowExecutionSignaled',
  WorkflowExecutionUpdateAccepted = 'WorkflowExecutionUpdateAccepted',
  /** Never written (Temporal has no such event either): the command a rejection travels as. */
  WorkflowExecutionUpdateRejected = 'WorkflowExecutionUpdateRejected',
  WorkflowExecutionUpdateCompleted = 'WorkflowExecutionUpdateCompleted',
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
  // Part 2: composition and long-running workflows.
  MarkerRecorded = 'MarkerRecorded',
  WorkflowExecutionContinuedAsNew = 'WorkflowExecutionContinuedAsNew',
  StartChildWorkflowExecutionInitiated = 'StartChildWorkflowExecutionInitiated',
  StartChildWorkflowExecutionFailed = 'StartChildWorkflowExecutionFailed',
  ChildWorkflowExecutionStarted = 'ChildWorkflowExecutionStarted',
  ChildWorkflowExecutionCompleted = 'ChildWorkflowExecutionCompleted',
  ChildWorkflowExecutionFailed = 'ChildWorkflowExecutionFailed',
  ChildWorkflowExecutionCanceled = 'ChildWorkflowExecutionCanceled',
  ChildWorkflowExecutionTimedOut = 'ChildWorkflowExecutionTimedOut',
  ChildWorkflowExecutionTerminated = 'ChildWorkflowExecutionTerminated',
  SignalExternalWorkflowExecutionInitiated = 'SignalExternalWorkflowExecutionInitiated',
  SignalExternalWorkflowExecutionFailed = 'SignalExternalWorkflowExecutionFailed',
  ExternalWorkflowExecutionSignaled = 'ExternalWorkflowExecutionSignaled',
  RequestCancelExternalWorkflowExecutionInitiated = 'RequestCancelExternalWorkflowExecutionInitiated',
  RequestCancelExternalWorkflowExecutionFailed = 'RequestCancelExternalWorkflowExecutionFailed',
  ExternalWorkflowExecutionCancelRequested = 'ExternalWorkflowExecutionCancelRequested',
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

/** Why a query failed (`WorkflowQueryFailedError.reason`). */
export enum WorkflowQueryFailedReason {
  /**
   * The query handler threw (its message is the error's message), or returned a Promise, or the
   * run's state could not be rebuilt to answer it (for example a nondeterministic replay).
   */
  HANDLER_FAILED = 'HANDLER_FAILED',
  /** The run has no handler for the query's name (and no dynamic query handler). */
  UNKNOWN_QUERY = 'UNKNOWN_QUERY',
  /** No worker answered within the client's `queryTimeout`. */
  TIMEOUT = 'TIMEOUT',
}

/** How a parent's close acts on a child that still runs (`ParentClosePolicy`). */
export enum ParentClosePolicy {
  /** The child is terminated (the default). */
  TERMINATE = 'TERMINATE',
  /** The child keeps running. */
  ABANDON = 'ABANDON',
  /** The child is asked to cancel. */
  REQUEST_CANCEL = 'REQUEST_CANCEL',
}

/** What cancelling a child from its parent waits for (`ChildWorkflowCancellationType`). */
export enum ChildWorkflowCancellationType {
  /** Wait until the child has closed (the default). */
  WAIT_CANCELLATION_COMPLETED = 'WAIT_CANCELLATION_COMPLETED',
  /** Request cancellation and reject at once. */
  TRY_CANCEL = 'TRY_CANCEL',
  /** Wait until the child has recorded the cancellation request. */
  WAIT_CANCELLATION_REQUESTED = 'WAIT_CANCELLATION_REQUESTED',
  /** Do not request cancellation of the child; reject at once. */
  ABANDON = 'ABANDON',
}

/** What started a run that continues a chain (`WorkflowExecutionContinuedAsNew.initiator`). */
export enum ContinueAsNewInitiator {
  WORKFLOW = 'WORKFLOW',
  RETRY = 'RETRY',
  CRON_SCHEDULE = 'CRON_SCHEDULE',
}

/** Why a child could not be started (`StartChildWorkflowExecutionFailed.cause`). */
export enum StartChildWorkflowExecutionFailedCause {
  WORKFLOW_ALREADY_EXISTS = 'WORKFLOW_ALREADY_EXISTS',
  NAMESPACE_NOT_FOUND = 'NAMESPACE_NOT_FOUND',
}

/** Why a signal or cancel request to another run failed (`...ExternalWorkflowExecutionFailed.cause`). */
export enum ExternalWorkflowExecutionFailedCause {
  EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND = 'EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
  NAMESPACE_NOT_FOUND = 'NAMESPACE_NOT_FOUND',
}

/** The events that close a run: nothing follows one of them in a history. */
export const WORKFLOW_CLOSE_EVENT_TYPES: ReadonlySet<string> = new Set<string>([
  EventType.WorkflowExecutionCompleted,
  EventType.WorkflowExecutionFailed,
  EventType.WorkflowExecutionCanceled,
  EventType.WorkflowExecutionTerminated,
  EventType.WorkflowExecutionTimedOut,
  EventType.WorkflowExecutionContinuedAsNew,
]);

/** The events that close an activity. */
export const ACTIVITY_CLOSE_EVENT_TYPES: ReadonlySet<string> = new Set<string>([
  EventType.ActivityTaskCompleted,
  EventType.ActivityTaskFailed,
  EventType.ActivityTaskTimedOut,
  EventType.ActivityTaskCanceled,
]);

/**
 * What a start does when its workflow id's latest run has *closed* (Temporal's
 * `WorkflowIdReusePolicy`). A running run is the {@link WorkflowIdConflictPolicy}'s business.
 */
export enum WorkflowIdReusePolicy {
  /** Start a new run whatever way the last one closed. The default. */
  ALLOW_DUPLICATE = 'ALLOW_DUPLICATE',
  /** Start a new run only if the last one failed, was cancelled, terminated or timed out. */
  ALLOW_DUPLICATE_FAILED_ONLY = 'ALLOW_DUPLICATE_FAILED_ONLY',
  /** Never start a new run with this id while the last one is kept (until it is deleted). */
  REJECT_DUPLICATE = 'REJECT_DUPLICATE',
}

/**
 * What a start does when a run with its workflow id is *running* (Temporal's
 * `WorkflowIdConflictPolicy`): two runs of one id never run at once.
 */
export enum WorkflowIdConflictPolicy {
  /** Refuse the start with `WorkflowAlreadyStartedError`. The default of `startWorkflow`. */
  FAIL = 'FAIL',
  /** Start nothing and return the running run's handle. The default of signal-with-start. */
  USE_EXISTING = 'USE_EXISTING',
  /**
   * Terminate the running run (reason `TerminateIfRunning WorkflowIdReusePolicy`, details
   * `terminated by new runID: <new run id>`) and start the new one, in the same atomic step.
   */
  TERMINATE_EXISTING = 'TERMINATE_EXISTING',
}

/**
 * How far an update has come (Temporal's `WorkflowUpdateStage`), for `startUpdate`'s
 * `waitForStage`: `ADMITTED` (recorded by the run, not yet seen by a workflow task; not a stage
 * a caller may wait for, as in Temporal's Python SDK), `ACCEPTED` (the validator passed and
 * `WorkflowExecutionUpdateAccepted` was written), `COMPLETED` (the handler finished:
 * `WorkflowExecutionUpdateCompleted`).
 */
export enum WorkflowUpdateStage {
  ADMITTED = 'ADMITTED',
  ACCEPTED = 'ACCEPTED',
  COMPLETED = 'COMPLETED',
}

/** Where a pending activity is (`describe().pendingActivities[i].state`), as Temporal's `PendingActivityState`. */
export enum PendingActivityState {
  /** Waiting for an attempt: queued, or in a retry's backoff (`attempt` is then the next attempt). */
  SCHEDULED = 'SCHEDULED',
  /** An attempt is running. */
  STARTED = 'STARTED',
  /** The workflow requested its cancellation (whatever the attempt is doing). */
  CANCEL_REQUESTED = 'CANCEL_REQUESTED',
}
