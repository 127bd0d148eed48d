/**
 * `@durabull/common`: the pieces every Durabull runtime shares (workflow code, activity workers,
 * the engine and clients), with no Redis or BullMQ in sight: enums, durations, the error classes,
 * payload and failure conversion (the wire format of history), retry policies and history types.
 *
 * ```ts
 * import { ApplicationError, DEFAULT_FAILURE_CONVERTER, toMilliseconds } from '@durabull/common';
 *
 * toMilliseconds('1.5m'); // 90000
 * const failure = DEFAULT_FAILURE_CONVERTER.errorToFailure(ApplicationError.nonRetryable('bad input', 'ValidationError'));
 * DEFAULT_FAILURE_CONVERTER.failureToError(failure) instanceof ApplicationError; // true
 * ```
 *
 * @packageDocumentation
 */

export {
  ACTIVITY_CLOSE_EVENT_TYPES,
  ActivityCancellationType,
  EventType,
  RetryState,
  TimeoutType,
  WorkflowExecutionStatus,
  WORKFLOW_CLOSE_EVENT_TYPES,
  WorkflowTaskFailedCause,
} from './enums';

export { type Duration, type DurationObject, formatDuration, optionalMilliseconds, toMilliseconds } from './duration';

export {
  ActivityError,
  type ActivityErrorOptions,
  ApplicationError,
  type ApplicationErrorOptions,
  CancelledError,
  DurabullError,
  type DurabullErrorOptions,
  IllegalStateError,
  isCancellation,
  NondeterminismError,
  PayloadSizeError,
  formatBytes,
  RedisConnectionError,
  ServerError,
  TerminatedError,
  TimeoutError,
  type TimeoutErrorOptions,
  WorkflowAlreadyStartedError,
  WorkflowFailureError,
  WorkflowNotFoundError,
} from './errors';
export { SymbolBasedInstanceOfError } from './symbol-instanceof';

export { DEFAULT_PAYLOAD_CONVERTER, type Payload, PayloadConverter, PayloadEncoding } from './payload';
export {
  decodeAndValidate,
  decodeAndValidateSync,
  VALIDATION_ERROR_TYPE,
  validateValue,
  type ValidationViolation,
} from './validation';

export {
  type ActivityFailureInfo,
  type ApplicationFailureInfo,
  type CanceledFailureInfo,
  DEFAULT_FAILURE_CONVERTER,
  decodeFailure,
  encodeFailure,
  type Failure,
  FAILURE_SOURCE,
  FailureConverter,
  type ServerFailureInfo,
  type TerminatedFailureInfo,
  type TimeoutFailureInfo,
} from './failure';

export {
  compileRetryPolicy,
  type CompiledRetryPolicy,
  computeRetryDelay,
  DEFAULT_RETRY_BACKOFF_COEFFICIENT,
  DEFAULT_RETRY_INITIAL_INTERVAL_MS,
  DEFAULT_RETRY_MAXIMUM_INTERVAL_COEFFICIENT,
  type RetryPolicy,
} from './retry-policy';

export {
  type ActivityTaskCanceledEventAttributes,
  type ActivityTaskCancelRequestedEventAttributes,
  type ActivityTaskCompletedEventAttributes,
  type ActivityTaskFailedEventAttributes,
  type ActivityTaskScheduledEventAttributes,
  type ActivityTaskStartedEventAttributes,
  type ActivityTaskTimedOutEventAttributes,
  type EventAttributesMap,
  type HistoryEvent,
  type HistoryEventOf,
  type TimerCanceledEventAttributes,
  type TimerFiredEventAttributes,
  type TimerStartedEventAttributes,
  type TypedHistoryEvent,
  type WorkflowExecutionCanceledEventAttributes,
  type WorkflowExecutionCancelRequestedEventAttributes,
  type WorkflowExecutionCompletedEventAttributes,
  type WorkflowExecutionFailedEventAttributes,
  type WorkflowExecutionStartedEventAttributes,
  type WorkflowExecutionTerminatedEventAttributes,
  type WorkflowExecutionTimedOutEventAttributes,
  type WorkflowTaskCompletedEventAttributes,
  type WorkflowTaskFailedEventAttributes,
  type WorkflowTaskScheduledEventAttributes,
  type WorkflowTaskStartedEventAttributes,
  type WorkflowTaskTimedOutEventAttributes,
} from './history';
export { formatHistoryTable } from './history-table';

export { CodecChain, type PayloadCodec } from './codec';
export { AesGcmEncryptionCodec, type AesGcmEncryptionCodecOptions, ENCRYPTED_ENCODING } from './encryption-codec';
