// The wire form of an error, as stored in history and handed between processes: the camelCase
// twin of temporal.api.failure.v1.Failure. FailureConverter maps the error classes onto it and
// back, keeping message, stack, fields and the cause chain.

import type { RetryState, TimeoutType } from './enums';
import {
  ActivityError,
  ChildWorkflowError,
  ApplicationError,
  CancelledError,
  DurabullError,
  IllegalStateError,
  NondeterminismError,
  ServerError,
  TerminatedError,
  TimeoutError,
  WorkflowAlreadyStartedError,
  WorkflowFailureError,
  WorkflowNotFoundError,
} from './errors';
import { DEFAULT_PAYLOAD_CONVERTER, type Payload, type PayloadConverter } from './payload';

/** `Failure.source` of every failure Durabull writes. */
export const FAILURE_SOURCE = 'Durabull';

/** Causes deeper than this are dropped, which also ends self-referencing cause chains. */
const MAX_CAUSE_DEPTH = 20;

/** Info of an {@link ApplicationError} (and of any other error, wrapped as one). */
export interface ApplicationFailureInfo {
  /** The error type; `''` when the ApplicationError had none. */
  type: string;
  nonRetryable: boolean;
  details?: Payload[];
  /** Milliseconds. */
  nextRetryDelay?: number;
}

/** Info of a {@link TimeoutError}. */
export interface TimeoutFailureInfo {
  timeoutType: TimeoutType;
  lastHeartbeatDetails?: Payload[];
}

/** Info of a {@link CancelledError}. */
export interface CanceledFailureInfo {
  details?: Payload[];
}

/**
 * Info of a {@link TerminatedError}. Temporal's is empty; Durabull keeps the termination details so
 * that they survive the round trip.
 */
export interface TerminatedFailureInfo {
  details?: Payload[];
}

/** Info of a {@link ServerError}. */
export interface ServerFailureInfo {
  nonRetryable: boolean;
}

/** Info of an {@link ActivityError}. */
export interface ActivityFailureInfo {
  scheduledEventId: number;
  startedEventId: number;
  identity?: string;
  activityType: string;
  activityId: string;
  retryState: RetryState;
}

/** Info of a {@link ChildWorkflowError} (Temporal's `ChildWorkflowExecutionFailureInfo`). */
export interface ChildWorkflowExecutionFailureInfo {
  namespace?: string;
  workflowExecution: { workflowId: string; runId: string };
  workflowType: string;
  initiatedEventId: number;
  startedEventId: number;
  retryState: RetryState;
}

/**
 * A serialised error. At most one `*FailureInfo` is set; none means a bare {@link DurabullError}.
 */
export interface Failure {
  message: string;
  /** Who wrote it: always {@link FAILURE_SOURCE} for Durabull. */
  source?: string;
  /** The error's `stack`, as captured where it was thrown. */
  stackTrace?: string;
  /** Message and stack trace, encoded by payload codecs (the message then reads `Encoded failure`). */
  encodedAttributes?: Payload;
  cause?: Failure;
  applicationFailureInfo?: ApplicationFailureInfo;
  timeoutFailureInfo?: TimeoutFailureInfo;
  canceledFailureInfo?: CanceledFailureInfo;
  terminatedFailureInfo?: TerminatedFailureInfo;
  serverFailureInfo?: ServerFailureInfo;
  activityFailureInfo?: ActivityFailureInfo;
  childWorkflowExecutionFailureInfo?: ChildWorkflowExecutionFailureInfo;
}

type FailureInfo = Omit<Failure, 'message' | 'source' | 'stackTrace' | 'cause'>;

/**
 * Durabull errors that have no failure info of their own travel as an `applicationFailureInfo` whose
 * `type` is the class name and whose `details` are the class's fields, the way Temporal sends
 * errors it has no info for; these entries rebuild them. Their names are therefore reserved:
 * an `ApplicationError` with such a `type` comes back as that class. A bare `DurabullError` is
 * not one of them: like any other error without failure info (Temporal's rule), it comes back as
 * an `ApplicationError` of type `DurabullError` with the same message.
 */
interface LocalErrorCodec {
  matches(err: Error): boolean;
  fields(err: Error): unknown[];
  build(details: unknown[], cause: unknown): DurabullError;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : String(value ?? ''));

const LOCAL_ERRORS: Readonly<Record<string, LocalErrorCodec>> = {
  NondeterminismError: {
    matches: (err) => err instanceof NondeterminismError,
    fields: (err) => [(err as NondeterminismError).event, (err as NondeterminismError).command],
    build: ([event, command], cause) => new NondeterminismError('', { event, command, cause }),
  },
  WorkflowFailureError: {
    matches: (err) => err instanceof WorkflowFailureError,
    fields: (err) => [(err as WorkflowFailureError).workflowId, (err as WorkflowFailureError).runId],
    build: ([workflowId, runId], cause) => new WorkflowFailureError({ cause, workflowId: text(workflowId), runId: text(runId) }),
  },
  WorkflowAlreadyStartedError: {
    matches: (err) => err instanceof WorkflowAlreadyStartedError,
    fields: (err) => {
      const { workflowId, workflowType, runId } = err as WorkflowAlreadyStartedError;
      return runId === undefined ? [workflowId, workflowType] : [workflowId, workflowType, runId];
    },
    build: ([workflowId, workflowType, runId]) =>
      new WorkflowAlreadyStartedError(text(workflowId), text(workflowType), runId === undefined ? undefined : text(runId)),
  },
  WorkflowNotFoundError: {
    matches: (err) => err instanceof WorkflowNotFoundError,
    fields: (err) => [(err as WorkflowNotFoundError).workflowId, (err as WorkflowNotFoundError).runId],
    build: ([workflowId, runId]) => new WorkflowNotFoundError(text(workflowId), runId === undefined ? undefined : text(runId)),
  },
  IllegalStateError: {
    matches: (err) => err instanceof IllegalStateError,
    fields: () => [],
    build: () => new IllegalStateError(''),
  },
};

function localCodec(type: string): LocalErrorCodec | undefined {
  return Object.prototype.hasOwnProperty.call(LOCAL_ERRORS, type) ? LOCAL_ERRORS[type] : undefined;
}

function className(err: Error): string {
  const name = (err.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : err.name || 'Error';
}

function nonErrorMessage(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * Converts errors to {@link Failure}s and back (TEMPORAL-SEMANTICS §1.8, §1.10):
 * - each Durabull error class maps to its failure info and is rebuilt as the same class;
 * - any other `Error` becomes a retryable `applicationFailureInfo` whose `type` is its class name
 *   (`TypeError`, `MyError`), so it comes back as an {@link ApplicationError} of that type;
 * - a thrown non-Error becomes type `'Error'` with the value (JSON for objects) as message.
 *
 * Stacks and `cause` chains (up to 20 deep) are kept. Empty messages come back as Temporal's
 * defaults: `Application error`, `Timeout`, `Cancelled`, `Activity error`.
 */
export class FailureConverter {
  constructor(private readonly payloads: PayloadConverter = DEFAULT_PAYLOAD_CONVERTER) {}

  /** @throws TypeError when error details cannot be encoded as payloads. */
  errorToFailure(err: unknown): Failure {
    return this.toFailure(err, 0);
  }

  /** @throws TypeError when the failure holds a malformed payload. */
  failureToError(failure: Failure): DurabullError {
    return this.toError(failure, 0);
  }

  private toFailure(err: unknown, depth: number): Failure {
    if (!(err instanceof Error)) {
      return {
        message: nonErrorMessage(err),
        source: FAILURE_SOURCE,
        applicationFailureInfo: { type: 'Error', nonRetryable: false },
      };
    }
    const failure: Failure = { message: String(err.message), source: FAILURE_SOURCE };
    if (typeof err.stack === 'string' && err.stack !== '') failure.stackTrace = err.stack;
    if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) failure.cause = this.toFailure(err.cause, depth + 1);
    return Object.assign(failure, this.infoOf(err));
  }

  private infoOf(err: Error): FailureInfo {
    if (err instanceof ApplicationError) {
      return {
        applicationFailureInfo: {
          type: err.type ?? '',
          nonRetryable: err.nonRetryable,
          ...this.encodeDetails('details', err.details),
          ...(err.nextRetryDelay === undefined ? {} : { nextRetryDelay: err.nextRetryDelay }),
        },
      };
    }
    if (err instanceof TimeoutError) {
      return { timeoutFailureInfo: { timeoutType: err.type, ...this.encodeDetails('lastHeartbeatDetails', err.lastHeartbeatDetails) } };
    }
    if (err instanceof CancelledError) return { canceledFailureInfo: this.encodeDetails('details', err.details) };
    if (err instanceof TerminatedError) return { terminatedFailureInfo: this.encodeDetails('details', err.details) };
    if (err instanceof ServerError) return { serverFailureInfo: { nonRetryable: err.nonRetryable } };
    if (err instanceof ActivityError) {
      const { scheduledEventId, startedEventId, identity, activityType, activityId, retryState } = err;
      return {
        activityFailureInfo: {
          scheduledEventId,
          startedEventId,
          ...(identity === undefined ? {} : { identity }),
          activityType,
          activityId,
          retryState,
        },
      };
    }
    if (err instanceof ChildWorkflowError) {
      const { workflowId, runId, workflowType, initiatedEventId, startedEventId, retryState } = err;
      return {
        childWorkflowExecutionFailureInfo: { workflowExecution: { workflowId, runId }, workflowType, initiatedEventId, startedEventId, retryState },
      };
    }
    for (const [type, codec] of Object.entries(LOCAL_ERRORS)) {
      if (codec.matches(err)) {
        return { applicationFailureInfo: { type, nonRetryable: false, ...this.encodeDetails('details', codec.fields(err)) } };
      }
    }
    return { applicationFailureInfo: { type: className(err), nonRetryable: false } };
  }

  private encodeDetails<K extends string>(key: K, values: unknown[]): { [P in K]?: Payload[] } {
    return (values.length === 0 ? {} : { [key]: this.payloads.toPayloads(values) }) as { [P in K]?: Payload[] };
  }

  private toError(failure: Failure, depth: number): DurabullError {
    const cause = failure.cause !== undefined && depth < MAX_CAUSE_DEPTH ? this.toError(failure.cause, depth + 1) : undefined;
    const message = typeof failure.message === 'string' ? failure.message : '';
    const err = this.build(failure, message, cause);
    // Some constructors take no cause; attach it the way `new Error(m, { cause })` does.
    if (cause !== undefined && err.cause === undefined) {
      Object.defineProperty(err, 'cause', { value: cause, writable: true, configurable: true });
    }
    err.message = this.messageOf(failure, message);
    // An empty stack (not the converter's own frames) when none was recorded; inspect() then
    // prints "Name: message".
    err.stack = failure.stackTrace ?? '';
    return err;
  }

  private messageOf(failure: Failure, message: string): string {
    if (message !== '') return message;
    if (failure.applicationFailureInfo && !localCodec(failure.applicationFailureInfo.type)) return 'Application error';
    if (failure.timeoutFailureInfo) return 'Timeout';
    if (failure.canceledFailureInfo) return 'Cancelled';
    if (failure.activityFailureInfo) return 'Activity error';
    if (failure.childWorkflowExecutionFailureInfo) return 'Child Workflow execution failed';
    if (failure.terminatedFailureInfo) return 'Workflow terminated';
    return '';
  }

  private build(failure: Failure, message: string, cause: DurabullError | undefined): DurabullError {
    const decode = (payloads: Payload[] | undefined): unknown[] => this.payloads.fromPayloads(payloads);
    const app = failure.applicationFailureInfo;
    if (app) {
      const local = localCodec(app.type);
      if (local) return local.build(decode(app.details), cause);
      return new ApplicationError(message, {
        type: app.type === '' ? undefined : app.type,
        nonRetryable: app.nonRetryable === true,
        details: decode(app.details),
        nextRetryDelay: app.nextRetryDelay,
        cause,
      });
    }
    const timeout = failure.timeoutFailureInfo;
    if (timeout) {
      return new TimeoutError(message, { type: timeout.timeoutType, lastHeartbeatDetails: decode(timeout.lastHeartbeatDetails), cause });
    }
    if (failure.canceledFailureInfo) return new CancelledError(message, decode(failure.canceledFailureInfo.details), { cause });
    if (failure.terminatedFailureInfo) {
      return new TerminatedError(message, { details: decode(failure.terminatedFailureInfo.details), cause });
    }
    if (failure.serverFailureInfo) {
      return new ServerError(message, { nonRetryable: failure.serverFailureInfo.nonRetryable === true, cause });
    }
    const activity = failure.activityFailureInfo;
    if (activity) {
      return new ActivityError(message, {
        activityId: activity.activityId,
        activityType: activity.activityType,
        scheduledEventId: activity.scheduledEventId,
        startedEventId: activity.startedEventId,
        identity: activity.identity,
        retryState: activity.retryState,
        cause,
      });
    }
    const child = failure.childWorkflowExecutionFailureInfo;
    if (child) {
      return new ChildWorkflowError(message, {
        workflowId: child.workflowExecution.workflowId,
        runId: child.workflowExecution.runId,
        workflowType: child.workflowType,
        initiatedEventId: child.initiatedEventId,
        startedEventId: child.startedEventId,
        retryState: child.retryState,
        cause,
      });
    }
    return new DurabullError(message, { cause });
  }
}

/** The converter Durabull uses unless told otherwise. */
export const DEFAULT_FAILURE_CONVERTER = new FailureConverter(DEFAULT_PAYLOAD_CONVERTER);

/** `DEFAULT_FAILURE_CONVERTER.errorToFailure(err)`. */
export function encodeFailure(err: unknown): Failure {
  return DEFAULT_FAILURE_CONVERTER.errorToFailure(err);
}

/** `DEFAULT_FAILURE_CONVERTER.failureToError(failure)`. */
export function decodeFailure(failure: Failure): DurabullError {
  return DEFAULT_FAILURE_CONVERTER.failureToError(failure);
}
