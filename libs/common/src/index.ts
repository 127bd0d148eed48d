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
  ChildWorkflowCancellationType,
  ContinueAsNewInitiator,
  EventType,
  ExternalWorkflowExecutionFailedCause,
  ParentClosePolicy,
  PendingActivityState,
  RetryState,
  TimeoutType,
  WorkflowExecutionStatus,
  WORKFLOW_CLOSE_EVENT_TYPES,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  StartChildWorkflowExecutionFailedCause,
  WorkflowQueryFailedReason,
  WorkflowTaskFailedCause,
  WorkflowUpdateStage,
} from './enums';

export { type Duration, type DurationObject, formatDuration, optionalMilliseconds, toMilliseconds } from './duration';

export {
  ActivityError,
  type ActivityErrorOptions,
  ChildWorkflowError,
  type ChildWorkflowErrorOptions,
  ActivityNotFoundError,
  ApplicationError,
  type ApplicationErrorOptions,
  AsyncActivityCancelledError,
  CancelledError,
  DurabullError,
  type DurabullErrorOptions,
  FailureError,
  IllegalStateError,
  isCancellation,
  NondeterminismError,
  PayloadSizeError,
  formatBytes,
  RedisConnectionError,
  ReplicationTimeoutError,
  ServerError,
  TerminatedError,
  TimeoutError,
  type TimeoutErrorOptions,
  WorkflowAlreadyStartedError,
  WorkflowFailureError,
  WorkflowNotFoundError,
  WorkflowQueryFailedError,
  WorkflowUpdateFailedError,
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
  type ChildWorkflowExecutionFailureInfo,
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
  type ChildWorkflowExecutionCanceledEventAttributes,
  type ChildWorkflowExecutionCompletedEventAttributes,
  type ChildWorkflowExecutionFailedEventAttributes,
  type ChildWorkflowExecutionStartedEventAttributes,
  type ChildWorkflowExecutionTerminatedEventAttributes,
  type ChildWorkflowExecutionTimedOutEventAttributes,
  type EventAttributesMap,
  type ExternalWorkflowExecutionCancelRequestedEventAttributes,
  type ExternalWorkflowExecutionSignaledEventAttributes,
  type MarkerRecordedEventAttributes,
  type RequestCancelExternalWorkflowExecutionFailedEventAttributes,
  type RequestCancelExternalWorkflowExecutionInitiatedEventAttributes,
  type SignalExternalWorkflowExecutionFailedEventAttributes,
  type SignalExternalWorkflowExecutionInitiatedEventAttributes,
  type StartChildWorkflowExecutionFailedEventAttributes,
  type StartChildWorkflowExecutionInitiatedEventAttributes,
  type WorkflowExecution,
  type WorkflowExecutionContinuedAsNewEventAttributes,
  type EventHeader,
  type Memo,
  type HistoryEvent,
  type HistoryEventOf,
  type TimerCanceledEventAttributes,
  type TimerFiredEventAttributes,
  type TimerStartedEventAttributes,
  type TypedHistoryEvent,
  type UpdateMeta,
  type UpdateRequestAttributes,
  type WorkflowExecutionUpdateAcceptedEventAttributes,
  type WorkflowExecutionUpdateCompletedEventAttributes,
  type WorkflowExecutionUpdateRejectedEventAttributes,
  type WorkflowExecutionCanceledEventAttributes,
  type WorkflowExecutionCancelRequestedEventAttributes,
  type WorkflowExecutionCompletedEventAttributes,
  type WorkflowExecutionFailedEventAttributes,
  type WorkflowExecutionSignaledEventAttributes,
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
