// The error hierarchy users catch and throw, after Temporal's (`packages/common/src/failure.ts`
// in the TS SDK, `temporalio/exceptions.py`). Structured fields, not message parsing, tell
// callers what happened; FailureConverter turns these into history's Failure and back.

import { type Duration, formatDuration, optionalMilliseconds } from './duration';
import type { RetryState, TimeoutType, WorkflowQueryFailedReason } from './enums';
import { SymbolBasedInstanceOfError, brandInstance } from './symbol-instanceof';

/** Options every Durabull error accepts. */
export interface DurabullErrorOptions {
  /** The error that led to this one; kept as the standard `Error.cause` property. */
  cause?: unknown;
}

/**
 * Base class of every Durabull error. Only the {@link FailureError} branch fails a workflow when
 * it escapes workflow code; the others (`IllegalStateError`, `PayloadSizeError`,
 * `WorkflowNotFoundError`, ...) fail the workflow task, like any other exception. `instanceof`
 * works across duplicate copies of this package.
 */
@SymbolBasedInstanceOfError('DurabullError')
export class DurabullError extends Error {
  constructor(message?: string, options?: DurabullErrorOptions) {
    super(message ?? '', options?.cause === undefined ? undefined : { cause: options.cause });
    brandInstance(this, new.target);
  }
}

/**
 * Base class of the failures that may fail a workflow (Temporal's `TemporalFailure`, Python's
 * `FailureError`): {@link ApplicationError}, {@link ActivityError}, {@link CancelledError},
 * {@link TimeoutError}, {@link TerminatedError}, {@link ServerError}. One of these escaping a
 * workflow's run method fails the workflow (`WorkflowExecutionFailed`); any other exception,
 * including a `DurabullError` outside this branch, fails only the workflow task, which is retried
 * until the code is fixed, so the run keeps running. Workflow code fails a run on purpose by
 * throwing an `ApplicationError`.
 */
@SymbolBasedInstanceOfError('FailureError')
export abstract class FailureError extends DurabullError {}

/** Options of {@link ApplicationError}. */
export interface ApplicationErrorOptions extends DurabullErrorOptions {
  /**
   * A name callers and retry policies match on (`nonRetryableErrorTypes` compares it exactly).
   * @default undefined
   */
  type?: string;
  /**
   * Never retry this failure, whatever the retry policy says.
   * @default false
   */
  nonRetryable?: boolean;
  /**
   * Extra values carried with the failure; they must be JSON-encodable.
   * @default []
   */
  details?: unknown[];
  /**
   * Wait this long before the next attempt instead of the retry policy's backoff. Still bounded by
   * `maximumAttempts` and the schedule-to-close timeout.
   * @default undefined (use the retry policy)
   */
  nextRetryDelay?: Duration;
}

/**
 * The error user code throws on purpose (an activity or a workflow). Any other `Error` thrown from
 * an activity reaches the workflow as an `ApplicationError` whose `type` is its class name.
 */
@SymbolBasedInstanceOfError('ApplicationError')
export class ApplicationError extends FailureError {
  /** See {@link ApplicationErrorOptions.type}. */
  readonly type: string | undefined;
  /** See {@link ApplicationErrorOptions.nonRetryable}. */
  readonly nonRetryable: boolean;
  /** See {@link ApplicationErrorOptions.details}. */
  readonly details: unknown[];
  /** {@link ApplicationErrorOptions.nextRetryDelay} in milliseconds. */
  readonly nextRetryDelay: number | undefined;

  /** @throws TypeError when `nextRetryDelay` is not a valid duration. */
  constructor(message?: string, options: ApplicationErrorOptions = {}) {
    super(message, options);
    this.type = options.type;
    this.nonRetryable = options.nonRetryable ?? false;
    this.details = options.details ?? [];
    this.nextRetryDelay = optionalMilliseconds(options.nextRetryDelay, 'nextRetryDelay');
  }

  /** Builds an ApplicationError from a single options object. */
  static create(options: ApplicationErrorOptions & { message?: string }): ApplicationError {
    return new ApplicationError(options.message, options);
  }

  /** A failure the retry policy may retry. */
  static retryable(message?: string, type?: string, ...details: unknown[]): ApplicationError {
    return new ApplicationError(message, { type, details, nonRetryable: false });
  }

  /** A failure that is never retried. */
  static nonRetryable(message?: string, type?: string, ...details: unknown[]): ApplicationError {
    return new ApplicationError(message, { type, details, nonRetryable: true });
  }
}

/** Options of {@link ActivityError}; the values come from the activity's history events. */
export interface ActivityErrorOptions extends DurabullErrorOptions {
  /** The activity's id within its workflow run (by default its schedule sequence number). */
  activityId: string;
  /** The activity's registered name. */
  activityType: string;
  /** Event id of the `ActivityTaskScheduled` event. */
  scheduledEventId: number;
  /** Event id of the `ActivityTaskStarted` event; 0 when the activity never started. */
  startedEventId: number;
  /** The worker that ran the last attempt, if any. */
  identity?: string;
  /** Why retrying stopped. */
  retryState: RetryState;
}

/**
 * What a workflow gets when an activity does not complete: its message is `Activity task failed`,
 * `Activity task timed out` or `Activity cancelled`, and `cause` holds the real reason
 * (`ApplicationError`, `TimeoutError`, `CancelledError`, `ServerError`).
 */
@SymbolBasedInstanceOfError('ActivityError')
export class ActivityError extends FailureError {
  /** See {@link ActivityErrorOptions}. */
  readonly activityId: string;
  /** See {@link ActivityErrorOptions}. */
  readonly activityType: string;
  /** See {@link ActivityErrorOptions.scheduledEventId}. */
  readonly scheduledEventId: number;
  /** See {@link ActivityErrorOptions.startedEventId}. */
  readonly startedEventId: number;
  /** See {@link ActivityErrorOptions.identity}. */
  readonly identity: string | undefined;
  /** Why retrying stopped. */
  readonly retryState: RetryState;

  constructor(message: string, options: ActivityErrorOptions) {
    super(message, options);
    this.activityId = options.activityId;
    this.activityType = options.activityType;
    this.scheduledEventId = options.scheduledEventId;
    this.startedEventId = options.startedEventId;
    this.identity = options.identity;
    this.retryState = options.retryState;
  }
}

/** Options of {@link ChildWorkflowError}; the values come from the child's history events. */
export interface ChildWorkflowErrorOptions extends DurabullErrorOptions {
  /** The child's workflow id. */
  workflowId: string;
  /** The child's run that closed ('' when unknown). */
  runId: string;
  /** The child's workflow type. */
  workflowType: string;
  /** Event id of the parent's `StartChildWorkflowExecutionInitiated`. */
  initiatedEventId: number;
  /** Event id of the parent's `ChildWorkflowExecutionStarted`; 0 when unknown. */
  startedEventId: number;
  /** Why retrying stopped (`RETRY_POLICY_NOT_SET` for a child without a retry policy). */
  retryState: RetryState;
}

/**
 * What a parent gets when a child workflow does not complete: its message is `Child Workflow
 * execution failed`, `... timed out`, `... cancelled` or `... terminated`, and `cause` holds the
 * real reason (the child's failure, `TimeoutError`, `CancelledError`, `TerminatedError`).
 */
@SymbolBasedInstanceOfError('ChildWorkflowError')
export class ChildWorkflowError extends FailureError {
  /** See {@link ChildWorkflowErrorOptions}. */
  readonly workflowId: string;
  /** See {@link ChildWorkflowErrorOptions}. */
  readonly runId: string;
  /** See {@link ChildWorkflowErrorOptions}. */
  readonly workflowType: string;
  /** See {@link ChildWorkflowErrorOptions}. */
  readonly initiatedEventId: number;
  /** See {@link ChildWorkflowErrorOptions}. */
  readonly startedEventId: number;
  /** Why retrying stopped. */
  readonly retryState: RetryState;

  constructor(message: string, options: ChildWorkflowErrorOptions) {
    super(message, options);
    this.workflowId = options.workflowId;
    this.runId = options.runId;
    this.workflowType = options.workflowType;
    this.initiatedEventId = options.initiatedEventId;
    this.startedEventId = options.startedEventId;
    this.retryState = options.retryState;
  }
}

/** Options of {@link TimeoutError}. */
export interface TimeoutErrorOptions extends DurabullErrorOptions {
  /** Which timeout expired. */
  type: TimeoutType;
  /**
   * Arguments of the last `activity.heartbeat(...)` call before the timeout.
   * @default []
   */
  lastHeartbeatDetails?: unknown[];
}

/**
 * A timeout expired. For an activity, `cause` is the previous attempt's failure, if there was one.
 */
@SymbolBasedInstanceOfError('TimeoutError')
export class TimeoutError extends FailureError {
  /** Which timeout expired. */
  readonly type: TimeoutType;
  /** Arguments of the last heartbeat before the timeout; empty when none. */
  readonly lastHeartbeatDetails: unknown[];

  constructor(message: string, options: TimeoutErrorOptions) {
    super(message, options);
    this.type = options.type;
    this.lastHeartbeatDetails = options.lastHeartbeatDetails ?? [];
  }
}

/** Something was cancelled: an activity by its workflow, or a workflow by a client. */
@SymbolBasedInstanceOfError('CancelledError')
export class CancelledError extends FailureError {
  /** Values attached to the cancellation; empty when none. */
  readonly details: unknown[];

  /**
   * @param message - @default 'Cancelled'
   * @param details - @default []
   */
  constructor(message = 'Cancelled', details: unknown[] = [], options?: DurabullErrorOptions) {
    super(message, options);
    this.details = details;
  }
}

/** The workflow was terminated (by a client, or by a limit); no workflow code ran to end it. */
@SymbolBasedInstanceOfError('TerminatedError')
export class TerminatedError extends FailureError {
  /** The `details` recorded with `WorkflowExecutionTerminated`; empty when none. */
  readonly details: unknown[];

  /** @param message - the termination reason. @default 'Workflow terminated' */
  constructor(message = 'Workflow terminated', options: DurabullErrorOptions & { details?: unknown[] } = {}) {
    super(message, options);
    this.details = options.details ?? [];
  }
}

/** Durabull itself refused something (for example a result over the payload size limit). */
@SymbolBasedInstanceOfError('ServerError')
export class ServerError extends FailureError {
  /**
   * Whether retrying cannot help.
   * @default false
   */
  readonly nonRetryable: boolean;

  constructor(message: string, options: DurabullErrorOptions & { nonRetryable?: boolean } = {}) {
    super(message, options);
    this.nonRetryable = options.nonRetryable ?? false;
  }
}

/**
 * Thrown by a client's `handle.result()` when the run did not complete: `cause` says how it ended
 * (`ActivityError`, `ApplicationError`, `CancelledError`, `TerminatedError`, `TimeoutError`).
 */
@SymbolBasedInstanceOfError('WorkflowFailureError')
export class WorkflowFailureError extends DurabullError {
  /** The workflow whose run failed. */
  readonly workflowId: string;
  /** The run that failed. */
  readonly runId: string;

  constructor(options: { cause: unknown; workflowId: string; runId: string }) {
    super('Workflow execution failed', { cause: options.cause });
    this.workflowId = options.workflowId;
    this.runId = options.runId;
  }
}

/**
 * Replayed workflow code produced a command that disagrees with recorded history. It fails the
 * workflow task (retried until the code is fixed) and never writes history.
 */
@SymbolBasedInstanceOfError('NondeterminismError')
export class NondeterminismError extends DurabullError {
  /** The recorded history event, or undefined when workflow code produced an extra command. */
  readonly event: unknown;
  /** The command workflow code produced, or undefined when history has an extra event. */
  readonly command: unknown;

  constructor(message: string, options: DurabullErrorOptions & { event?: unknown; command?: unknown } = {}) {
    super(message, options);
    this.event = options.event;
    this.command = options.command;
  }
}

/**
 * A start was refused: a run with this workflow id is running (conflict policy `FAIL`), or its
 * last run closed in a way the id reuse policy does not allow to follow. The message is
 * Temporal's (`Workflow execution is already running. WorkflowId: <id>, RunId: <run id>.`, ...).
 */
@SymbolBasedInstanceOfError('WorkflowAlreadyStartedError')
export class WorkflowAlreadyStartedError extends DurabullError {
  /** The id that is in use. */
  readonly workflowId: string;
  /** The type of the workflow that was being started. */
  readonly workflowType: string;
  /** The run that holds the id (running, or the closed run the reuse policy refused to follow); undefined when unknown. */
  readonly runId: string | undefined;

  /**
   * @param message - why the start was refused; by default Temporal's message for a running run
   *   (or, without a `runId`, one that names the id and the type).
   */
  constructor(workflowId: string, workflowType: string, runId?: string, message?: string) {
    super(
      message ??
        (runId === undefined
          ? `Workflow execution already started: workflowId=${JSON.stringify(workflowId)} workflowType=${JSON.stringify(workflowType)}`
          : `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${runId}.`),
    );
    this.workflowId = workflowId;
    this.workflowType = workflowType;
    this.runId = runId;
  }
}

/** No workflow run with this id (and run id, when given) exists. */
@SymbolBasedInstanceOfError('WorkflowNotFoundError')
export class WorkflowNotFoundError extends DurabullError {
  /** The id that was looked up. */
  readonly workflowId: string;
  /** The run id that was looked up, if any. */
  readonly runId: string | undefined;

  /** @param reason - what is wrong, when the run exists but cannot serve the request. */
  constructor(workflowId: string, runId?: string, reason = 'Workflow execution not found') {
    super(`${reason}: workflowId=${JSON.stringify(workflowId)}` + (runId === undefined ? '' : ` runId=${JSON.stringify(runId)}`));
    this.workflowId = workflowId;
    this.runId = runId;
  }
}

/**
 * An async activity handle (`client.getAsyncActivityHandle`) reached no activity it may act on:
 * the run is unknown or closed, no pending activity has the id, or the task token's attempt is
 * not the activity's current, started attempt (it timed out, was retried, or already completed).
 * The message is Temporal's for the case (`invalid activityID or activity already timed out or
 * invoking workflow is completed`, `workflow execution already completed`, `cannot find pending
 * activity with ActivityID <id>, check workflow execution history for more details`).
 */
@SymbolBasedInstanceOfError('ActivityNotFoundError')
export class ActivityNotFoundError extends DurabullError {
  /** The activity's workflow id. */
  readonly workflowId: string;
  /** The run looked in, when known (a handle by id without a run id follows the current run). */
  readonly runId: string | undefined;
  /** The activity id the handle names. */
  readonly activityId: string;

  constructor(message: string, target: { workflowId: string; runId?: string; activityId: string }) {
    super(message);
    this.workflowId = target.workflowId;
    this.runId = target.runId;
    this.activityId = target.activityId;
  }
}

/**
 * `AsyncActivityHandle.heartbeat()` recorded the heartbeat, and the workflow has requested the
 * activity's cancellation: whoever completes it should stop and call `reportCancellation()`.
 * Message `Activity cancelled` (Temporal's `AsyncActivityCancelledError`).
 */
@SymbolBasedInstanceOfError('AsyncActivityCancelledError')
export class AsyncActivityCancelledError extends DurabullError {
  /** The activity's workflow id. */
  readonly workflowId: string;
  /** Its run id. */
  readonly runId: string;
  /** The activity id. */
  readonly activityId: string;

  constructor(target: { workflowId: string; runId: string; activityId: string }) {
    super('Activity cancelled');
    this.workflowId = target.workflowId;
    this.runId = target.runId;
    this.activityId = target.activityId;
  }
}

/**
 * A query (`handle.query(...)`) got no answer. `reason` says why: `HANDLER_FAILED` (the message is
 * exactly the handler's error message, and `cause` is that error), `UNKNOWN_QUERY` (the message
 * names the run's known queries, also in `knownQueries`) or `TIMEOUT` (no worker answered within
 * the client's `queryTimeout`).
 */
@SymbolBasedInstanceOfError('WorkflowQueryFailedError')
export class WorkflowQueryFailedError extends DurabullError {
  /** Why the query failed. */
  readonly reason: WorkflowQueryFailedReason;
  /** The query's name. */
  readonly queryType: string;
  /** The queried workflow. */
  readonly workflowId: string;
  /** The queried run. */
  readonly runId: string;
  /** `UNKNOWN_QUERY`: the names the run has handlers for, sorted; empty otherwise. */
  readonly knownQueries: string[];

  constructor(
    message: string,
    options: DurabullErrorOptions & {
      reason: WorkflowQueryFailedReason;
      queryType: string;
      workflowId: string;
      runId: string;
      knownQueries?: string[];
    },
  ) {
    super(message, options);
    this.reason = options.reason;
    this.queryType = options.queryType;
    this.workflowId = options.workflowId;
    this.runId = options.runId;
    this.knownQueries = options.knownQueries ?? [];
  }
}

/**
 * An update (`handle.executeUpdate`, `startUpdate`, `WorkflowUpdateHandle.result()`) did not
 * succeed: its validator rejected it (nothing was written), its handler threw a failure
 * (`ApplicationError`, ...), or the run closed while it was accepted and unfinished
 * (`ApplicationError` of type `AcceptedUpdateCompletedWorkflow`). `cause` is that error. The
 * message is Temporal's (`Workflow update failed`).
 */
@SymbolBasedInstanceOfError('WorkflowUpdateFailedError')
export class WorkflowUpdateFailedError extends DurabullError {
  /** The update's id. */
  readonly updateId: string;
  /** The update's name. */
  readonly updateName: string;
  /** The workflow of the update. */
  readonly workflowId: string;
  /** The run of the update. */
  readonly runId: string;

  constructor(options: { cause: unknown; updateId: string; updateName: string; workflowId: string; runId: string }) {
    super('Workflow update failed', { cause: options.cause });
    this.updateId = options.updateId;
    this.updateName = options.updateName;
    this.workflowId = options.workflowId;
    this.runId = options.runId;
  }
}

/** An API was used where it cannot work, such as `activity.info()` outside an activity. */
@SymbolBasedInstanceOfError('IllegalStateError')
export class IllegalStateError extends DurabullError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * A payload (an input, a result, a failure) is larger than the namespace's payload limit. `what`
 * names it: `Workflow YourWorkflow input`, `Activity your_activity result`, ...
 */
@SymbolBasedInstanceOfError('PayloadSizeError')
export class PayloadSizeError extends DurabullError {
  constructor(
    readonly what: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`${what} is ${formatBytes(bytes)}, over the ${formatBytes(limit)} payload limit`);
  }
}

/** Bytes as KiB or MiB with up to two decimals (`2.5 MiB`). */
export function formatBytes(bytes: number): string {
  const round = (n: number) => String(Math.round(n * 100) / 100);
  if (bytes >= 1024 * 1024) return `${round(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${round(bytes / 1024)} KiB`;
  return `${bytes} B`;
}

/**
 * Redis could not be reached (refused, closed, or not answering within the connection's retry
 * budget). Client calls raise it instead of waiting for Redis to come back; `cause` is the
 * driver's error.
 */
@SymbolBasedInstanceOfError('RedisConnectionError')
export class RedisConnectionError extends DurabullError {
  /** @param target - which Redis, for the message (`redis://127.0.0.1:6379`). */
  constructor(cause: unknown, target?: string) {
    // A socket error says it best as `connect ECONNREFUSED`; anything else by its message.
    const { syscall, code } = (cause ?? {}) as { syscall?: unknown; code?: unknown };
    const reason =
      typeof syscall === 'string' && typeof code === 'string' ? `${syscall} ${code}` : cause instanceof Error ? cause.message : String(cause);
    super(`Redis is unreachable${target ? ` at ${target}` : ''}: ${reason}`, { cause });
  }
}

/**
 * A transition committed on the Redis primary, but fewer replicas than the client's `durability`
 * setting asks for confirmed it (Redis `WAIT`) within the timeout. The transition is not undone:
 * it stands on the primary and takes effect if the primary survives (its tasks are dispatched by
 * the next outbox sweep), but a failover before a replica receives it would lose it.
 */
@SymbolBasedInstanceOfError('ReplicationTimeoutError')
export class ReplicationTimeoutError extends DurabullError {
  constructor(
    /** The run the transition belongs to. */
    readonly workflowId: string,
    readonly runId: string,
    /** The transition (engine script) that ran: `startWorkflow`, `completeActivityTask`, ... */
    readonly transition: string,
    /** Replicas the durability setting asks for. */
    readonly replicasRequested: number,
    /** Replicas that confirmed the transition within the timeout (`WAIT`'s reply). */
    readonly replicasAcknowledged: number,
    /** How long the transition waited for them (ms). */
    readonly timeout: number,
    options?: DurabullErrorOptions,
  ) {
    super(
      `Transition ${transition} of workflowId=${JSON.stringify(workflowId)} runId=${JSON.stringify(runId)} ` +
        `reached ${replicasAcknowledged} of ${replicasRequested} replica(s) within ${formatDuration(timeout)}: ` +
        'it is committed on the primary but would be lost if the primary failed now',
      options,
    );
  }
}

/**
 * Whether `err` means "cancelled": a {@link CancelledError}, or an {@link ActivityError} whose cause
 * is one (Python's `is_cancelled_exception`). Lets workflow code tell cancellation from failure.
 */
export function isCancellation(err: unknown): boolean {
  return (
    err instanceof CancelledError ||
    ((err instanceof ActivityError || err instanceof ChildWorkflowError) && err.cause instanceof CancelledError)
  );
}
