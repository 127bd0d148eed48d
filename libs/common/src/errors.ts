// The error hierarchy users catch and throw, after Temporal's (`packages/common/src/failure.ts`
// in the TS SDK, `temporalio/exceptions.py`). Structured fields, not message parsing, tell
// callers what happened; FailureConverter turns these into history's Failure and back.

import { type Duration, optionalMilliseconds } from './duration';
import type { RetryState, TimeoutType } from './enums';
import { SymbolBasedInstanceOfError, brandInstance } from './symbol-instanceof';

/** Options every Durabull error accepts. */
export interface DurabullErrorOptions {
  /** The error that led to this one; kept as the standard `Error.cause` property. */
  cause?: unknown;
}

/**
 * Base class of every Durabull error. A `DurabullError` escaping a workflow's run method fails the
 * workflow; any other exception fails only the workflow task, which is retried until the code is
 * fixed. `instanceof` works across duplicate copies of this package.
 */
@SymbolBasedInstanceOfError('DurabullError')
export class DurabullError extends Error {
  constructor(message?: string, options?: DurabullErrorOptions) {
    super(message ?? '', options?.cause === undefined ? undefined : { cause: options.cause });
    brandInstance(this, new.target);
  }
}

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
export class ApplicationError extends DurabullError {
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
export class ActivityError extends DurabullError {
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
export class TimeoutError extends DurabullError {
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
export class CancelledError extends DurabullError {
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
export class TerminatedError extends DurabullError {
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
export class ServerError extends DurabullError {
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

/** A workflow with this id is already running. */
@SymbolBasedInstanceOfError('WorkflowAlreadyStartedError')
export class WorkflowAlreadyStartedError extends DurabullError {
  /** The id that is in use. */
  readonly workflowId: string;
  /** The type of the workflow that was being started. */
  readonly workflowType: string;

  constructor(workflowId: string, workflowType: string) {
    super(`Workflow execution already started: workflowId=${JSON.stringify(workflowId)} workflowType=${JSON.stringify(workflowType)}`);
    this.workflowId = workflowId;
    this.workflowType = workflowType;
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
 * Whether `err` means "cancelled": a {@link CancelledError}, or an {@link ActivityError} whose cause
 * is one (Python's `is_cancelled_exception`). Lets workflow code tell cancellation from failure.
 */
export function isCancellation(err: unknown): boolean {
  return err instanceof CancelledError || (err instanceof ActivityError && err.cause instanceof CancelledError);
}
