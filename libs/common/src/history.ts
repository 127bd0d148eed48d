// History events as stored in a run's Redis stream: Temporal's event names and attribute names
// (temporal.api.history.v1, camelCase), with types, ids and task queues flattened to strings.
// Durations are milliseconds, 0 meaning unset/unlimited; values are Payload[], errors Failure.
// Attributes are type aliases (not interfaces) so every typed event is also a HistoryEvent.

import type {
  ActivityCancellationType,
  ContinueAsNewInitiator,
  EventType,
  ExternalWorkflowExecutionFailedCause,
  ParentClosePolicy,
  StartChildWorkflowExecutionFailedCause,
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

/** Named payloads that travel with a workflow start or an activity (`header.fields`), written as given (no payload codec). */
export type EventHeader = {
  fields: Record<string, Payload>;
};

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
  /** Headers given by client interceptors; absent when there are none. */
  header?: EventHeader;
  /** The start's `memo`, one payload per key (codecs applied); absent when none was given. */
  memo?: Memo;
  /** A child workflow's parent run; absent for a run without a parent. */
  parentWorkflowExecution?: WorkflowExecution;
  /** The parent's StartChildWorkflowExecutionInitiated event id; absent without a parent. */
  parentInitiatedEventId?: number;
  /** The run this one continues (continue-as-new, retry, cron); absent for a chain's first run. */
  continuedExecutionRunId?: string;
  /** Why this run follows another; absent for a chain's first run. */
  initiator?: ContinueAsNewInitiator;
  /** This run's own id (Temporal's original_execution_run_id); set on runs of a chain after the first. */
  originalExecutionRunId?: string;
  /** A retry's: the failure of the run it retries. */
  continuedFailure?: Failure;
  /** A cron run's: the result of the chain's last completed run. */
  lastCompletionResult?: Payload[];
  /** The workflow's own retry policy (the start option `retryPolicy`); absent when none. */
  retryPolicy?: CompiledRetryPolicy;
  /** The workflow's cron schedule; absent when none. */
  cronSchedule?: string;
  /** ms the first workflow task waited (start delay, retry backoff, time to the cron time, continue-as-new spacing); absent when none. */
  firstWorkflowTaskBackoff?: number;
};

/** A memo as history stores it (Temporal's `Memo`): one payload per key, not searchable. */
export type Memo = { fields: Record<string, Payload> };

/** The workflow returned; `result` holds its return value. */
export type WorkflowExecutionCompletedEventAttributes = {
  result: Payload[];
  workflowTaskCompletedEventId: number;
  /** The next cron run, when one follows. */
  newExecutionRunId?: string;
};

/** A `DurabullError` escaped the workflow; `retryState` is `RETRY_POLICY_NOT_SET` unless the workflow has a retry policy. */
export type WorkflowExecutionFailedEventAttributes = {
  failure: Failure;
  workflowTaskCompletedEventId: number;
  retryState: RetryState;
  /** The next run (a retry: retryState IN_PROGRESS, or the next cron run), when one follows. */
  newExecutionRunId?: string;
};

/** The workflow run or execution timeout expired. */
export type WorkflowExecutionTimedOutEventAttributes = {
  retryState: RetryState;
  /** The next run (a retry, or the next cron run), when one follows. */
  newExecutionRunId?: string;
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

/** A signal reached the run (`handle.signal`, or signal-with-start just after WorkflowExecutionStarted). */
export type WorkflowExecutionSignaledEventAttributes = {
  signalName: string;
  input: Payload[];
  /** Who sent it (client identity). */
  identity: string;
  /** Headers given by client interceptors; absent when there are none. */
  header?: EventHeader;
  /** The sender's id of this request: a run records a signal once per request id. */
  requestId?: string;
  /** The run that sent it from workflow code (`getExternalWorkflowHandle(...).signal`), if any. */
  externalWorkflowExecution?: WorkflowExecution;
};

/** Who sent an update, and its id (Temporal's `update.v1.Meta`). */
export type UpdateMeta = {
  updateId: string;
  identity: string;
};

/** An update request as the workflow accepted it (Temporal's `update.v1.Request`). */
export type UpdateRequestAttributes = {
  meta: UpdateMeta;
  input: {
    name: string;
    args: Payload[];
    /** Headers given by client interceptors; absent when there are none. */
    header?: EventHeader;
  };
};

/** The workflow's validator accepted an update; its handler runs. */
export type WorkflowExecutionUpdateAcceptedEventAttributes = {
  /** The update id. */
  protocolInstanceId: string;
  /** The id of the request message (Durabull: the update id). */
  acceptedRequestMessageId: string;
  /** The last event before the workflow task that accepted it. */
  acceptedRequestSequencingEventId: number;
  acceptedRequest: UpdateRequestAttributes;
};

/** Never written: a rejected update leaves no event (the type exists for the rejection command). */
export type WorkflowExecutionUpdateRejectedEventAttributes = {
  protocolInstanceId: string;
  failure: Failure;
};

/** An accepted update's handler finished: its result (`success`) or its failure. */
export type WorkflowExecutionUpdateCompletedEventAttributes = {
  meta: UpdateMeta;
  /** The update's WorkflowExecutionUpdateAccepted event id. */
  acceptedEventId: number;
  outcome: { success: Payload[] } | { failure: Failure };
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
  /** Not recorded by Durabull today: the worker keeps it with the activity's handle. */
  cancellationType?: ActivityCancellationType;
  /** Headers for the activity (by default the workflow's start headers); absent when there are none. */
  header?: EventHeader;
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

/** A run, as events name it (Temporal's `WorkflowExecution`). `runId` may be '' where any run of the id is meant. */
export type WorkflowExecution = {
  workflowId: string;
  runId: string;
};

/**
 * Something the workflow recorded in its history for replay (`workflow.patched`, local
 * activities): `markerName` (`core_patch`, `core_local_activity`) and its named payloads.
 */
export type MarkerRecordedEventAttributes = {
  markerName: string;
  details: Record<string, Payload[]>;
  workflowTaskCompletedEventId: number;
  header?: EventHeader;
  /** A local activity's failure. */
  failure?: Failure;
};

/** The run ended by starting a new run of the same workflow id (`newExecutionRunId`). */
export type WorkflowExecutionContinuedAsNewEventAttributes = {
  newExecutionRunId: string;
  workflowType: string;
  taskQueue: string;
  input: Payload[];
  /** ms; 0 = unlimited. */
  workflowRunTimeout: number;
  /** ms. */
  workflowTaskTimeout: number;
  workflowTaskCompletedEventId: number;
  /** ms before the new run's first workflow task (a workflow retry's backoff, or the next cron time). */
  backoffStartInterval: number;
  initiator: ContinueAsNewInitiator;
  /** The failure a retry follows. */
  failure?: Failure;
  /** The result a cron run follows. */
  lastCompletionResult?: Payload[];
  header?: EventHeader;
  memo?: Memo;
};

/** The workflow asked to start a child workflow. */
export type StartChildWorkflowExecutionInitiatedEventAttributes = {
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input: Payload[];
  /** ms; 0 = unlimited. */
  workflowExecutionTimeout: number;
  /** ms; 0 = unlimited. */
  workflowRunTimeout: number;
  /** ms. */
  workflowTaskTimeout: number;
  parentClosePolicy: ParentClosePolicy;
  workflowTaskCompletedEventId: number;
  workflowIdReusePolicy: string;
  retryPolicy?: CompiledRetryPolicy;
  cronSchedule?: string;
  header?: EventHeader;
  memo?: Memo;
};

/** The child could not be started (its id is taken). */
export type StartChildWorkflowExecutionFailedEventAttributes = {
  workflowId: string;
  workflowType: string;
  cause: StartChildWorkflowExecutionFailedCause;
  initiatedEventId: number;
  workflowTaskCompletedEventId: number;
};

/** The child's run started. */
export type ChildWorkflowExecutionStartedEventAttributes = {
  initiatedEventId: number;
  workflowExecution: WorkflowExecution;
  workflowType: string;
  header?: EventHeader;
};

/** What every child close event names. */
type ChildWorkflowExecutionClosedAttributes = {
  workflowExecution: WorkflowExecution;
  workflowType: string;
  initiatedEventId: number;
  startedEventId: number;
};

export type ChildWorkflowExecutionCompletedEventAttributes = ChildWorkflowExecutionClosedAttributes & { result: Payload[] };
export type ChildWorkflowExecutionFailedEventAttributes = ChildWorkflowExecutionClosedAttributes & { failure: Failure; retryState: RetryState };
export type ChildWorkflowExecutionCanceledEventAttributes = ChildWorkflowExecutionClosedAttributes & { details: Payload[] };
export type ChildWorkflowExecutionTimedOutEventAttributes = ChildWorkflowExecutionClosedAttributes & { retryState: RetryState };
export type ChildWorkflowExecutionTerminatedEventAttributes = ChildWorkflowExecutionClosedAttributes;

/** The workflow asked to signal another run. */
export type SignalExternalWorkflowExecutionInitiatedEventAttributes = {
  workflowTaskCompletedEventId: number;
  workflowExecution: WorkflowExecution;
  signalName: string;
  input: Payload[];
  childWorkflowOnly: boolean;
  header?: EventHeader;
};

/** The workflow asked another run to cancel. */
export type RequestCancelExternalWorkflowExecutionInitiatedEventAttributes = {
  workflowTaskCompletedEventId: number;
  workflowExecution: WorkflowExecution;
  childWorkflowOnly: boolean;
  reason: string;
};

/** A signal or cancel request to another run could not be delivered. */
type ExternalWorkflowExecutionFailedAttributes = {
  cause: ExternalWorkflowExecutionFailedCause;
  workflowExecution: WorkflowExecution;
  initiatedEventId: number;
};
export type SignalExternalWorkflowExecutionFailedEventAttributes = ExternalWorkflowExecutionFailedAttributes;
export type RequestCancelExternalWorkflowExecutionFailedEventAttributes = ExternalWorkflowExecutionFailedAttributes;

/** The other run recorded the signal, or the cancel request. */
type ExternalWorkflowExecutionDeliveredAttributes = {
  initiatedEventId: number;
  workflowExecution: WorkflowExecution;
};
export type ExternalWorkflowExecutionSignaledEventAttributes = ExternalWorkflowExecutionDeliveredAttributes;
export type ExternalWorkflowExecutionCancelRequestedEventAttributes = ExternalWorkflowExecutionDeliveredAttributes;

/** The attributes type of each event type. */
export interface EventAttributesMap {
  [EventType.WorkflowExecutionStarted]: WorkflowExecutionStartedEventAttributes;
  [EventType.WorkflowExecutionCompleted]: WorkflowExecutionCompletedEventAttributes;
  [EventType.WorkflowExecutionFailed]: WorkflowExecutionFailedEventAttributes;
  [EventType.WorkflowExecutionTimedOut]: WorkflowExecutionTimedOutEventAttributes;
  [EventType.WorkflowExecutionCanceled]: WorkflowExecutionCanceledEventAttributes;
  [EventType.WorkflowExecutionTerminated]: WorkflowExecutionTerminatedEventAttributes;
  [EventType.WorkflowExecutionCancelRequested]: WorkflowExecutionCancelRequestedEventAttributes;
  [EventType.WorkflowExecutionSignaled]: WorkflowExecutionSignaledEventAttributes;
  [EventType.WorkflowExecutionUpdateAccepted]: WorkflowExecutionUpdateAcceptedEventAttributes;
  [EventType.WorkflowExecutionUpdateRejected]: WorkflowExecutionUpdateRejectedEventAttributes;
  [EventType.WorkflowExecutionUpdateCompleted]: WorkflowExecutionUpdateCompletedEventAttributes;
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
  [EventType.MarkerRecorded]: MarkerRecordedEventAttributes;
  [EventType.WorkflowExecutionContinuedAsNew]: WorkflowExecutionContinuedAsNewEventAttributes;
  [EventType.StartChildWorkflowExecutionInitiated]: StartChildWorkflowExecutionInitiatedEventAttributes;
  [EventType.StartChildWorkflowExecutionFailed]: StartChildWorkflowExecutionFailedEventAttributes;
  [EventType.ChildWorkflowExecutionStarted]: ChildWorkflowExecutionStartedEventAttributes;
  [EventType.ChildWorkflowExecutionCompleted]: ChildWorkflowExecutionCompletedEventAttributes;
  [EventType.ChildWorkflowExecutionFailed]: ChildWorkflowExecutionFailedEventAttributes;
  [EventType.ChildWorkflowExecutionCanceled]: ChildWorkflowExecutionCanceledEventAttributes;
  [EventType.ChildWorkflowExecutionTimedOut]: ChildWorkflowExecutionTimedOutEventAttributes;
  [EventType.ChildWorkflowExecutionTerminated]: ChildWorkflowExecutionTerminatedEventAttributes;
  [EventType.SignalExternalWorkflowExecutionInitiated]: SignalExternalWorkflowExecutionInitiatedEventAttributes;
  [EventType.SignalExternalWorkflowExecutionFailed]: SignalExternalWorkflowExecutionFailedEventAttributes;
  [EventType.ExternalWorkflowExecutionSignaled]: ExternalWorkflowExecutionSignaledEventAttributes;
  [EventType.RequestCancelExternalWorkflowExecutionInitiated]: RequestCancelExternalWorkflowExecutionInitiatedEventAttributes;
  [EventType.RequestCancelExternalWorkflowExecutionFailed]: RequestCancelExternalWorkflowExecutionFailedEventAttributes;
  [EventType.ExternalWorkflowExecutionCancelRequested]: ExternalWorkflowExecutionCancelRequestedEventAttributes;
}

/** The event of one type, with its attributes typed. */
export type HistoryEventOf<K extends EventType> = HistoryEvent<EventAttributesMap[K], K>;

/**
 * Any event, as a union discriminated by `eventType`: `switch (event.eventType)` narrows
 * `event.attributes`.
 */
export type TypedHistoryEvent = { [K in EventType]: HistoryEventOf<K> }[EventType];
