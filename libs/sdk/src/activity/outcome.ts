// An activity attempt's outcome as it is stored: encoded by the payload codecs and within the
// namespace's payload limit. Shared by the worker (what an attempt returned or threw) and the
// AsyncActivityHandle (what an async completion reports).

import { ApplicationError, PayloadSizeError, ServerError } from '@durabull/common';
import type { CodecChain, Failure, FailureConverter, Payload, PayloadConverter } from '@durabull/common';
import type { ActivityOutcome, Engine, FailureFacts } from '@durabull/engine';
import type { Logger } from '../logger';
import { checkPayloadSize } from '../payload-limits';

/** The retry-relevant facts of a failure, for the engine's retry decision. */
export function failureFacts(failure: Failure): FailureFacts {
  if (failure.applicationFailureInfo) {
    const info = failure.applicationFailureInfo;
    return { kind: 'application', type: info.type, nonRetryable: info.nonRetryable, nextRetryDelay: info.nextRetryDelay };
  }
  if (failure.timeoutFailureInfo) return { kind: 'timeout', timeoutType: failure.timeoutFailureInfo.timeoutType };
  if (failure.canceledFailureInfo) return { kind: 'canceled' };
  if (failure.terminatedFailureInfo) return { kind: 'terminated' };
  if (failure.serverFailureInfo) return { kind: 'server', nonRetryable: failure.serverFailureInfo.nonRetryable };
  return { kind: 'application', type: '', nonRetryable: false };
}

/** What encoding an outcome needs: the codecs, the failure converter, the limits and a logger for the limit's warning. */
export interface OutcomeEncoding {
  codecs: CodecChain;
  failures: FailureConverter;
  limits: Engine['limits'];
  logger: Logger;
}

/**
 * {@link encodeActivityOutcome}'s answer without a promise where none is needed: a result with no
 * codecs to run, within the payload limit (most attempts). Undefined when the outcome must be
 * encoded the async way.
 */
export function encodedResultAtOnce(outcome: ActivityOutcome, subject: string, encoding: OutcomeEncoding): ActivityOutcome | undefined {
  if (outcome.kind !== 'completed' || !encoding.codecs.empty) return undefined;
  try {
    checkPayloadSize(outcome.result, `${subject} result`, encoding.limits, encoding.logger);
  } catch (error) {
    if (error instanceof PayloadSizeError) return undefined;
    throw error;
  }
  return outcome;
}

/**
 * The outcome as stored: encoded by the codecs and within the payload limit. A result or failure
 * over the limit becomes a non-retryable `ServerError` failure saying so, as Temporal's server
 * does. `subject` names the activity in that message (`Activity <type>`), followed by `result` or
 * `failure`.
 */
export async function encodeActivityOutcome(outcome: ActivityOutcome, subject: string, encoding: OutcomeEncoding): Promise<ActivityOutcome> {
  const { codecs, failures, limits, logger } = encoding;
  try {
    switch (outcome.kind) {
      case 'completed': {
        // No await without codecs (most workers): one promise less per attempt.
        const result = codecs.empty ? outcome.result : await codecs.encode(outcome.result);
        checkPayloadSize(result, `${subject} result`, limits, logger);
        return { kind: 'completed', result };
      }
      case 'canceled':
        return { kind: 'canceled', details: await codecs.encode(outcome.details) };
      case 'failed': {
        const failure = await codecs.encodeFailure(outcome.failure);
        checkPayloadSize(failure, `${subject} failure`, limits, logger);
        return { ...outcome, failure };
      }
    }
  } catch (error) {
    if (!(error instanceof PayloadSizeError)) throw error;
    const failure = failures.errorToFailure(new ServerError(error.message, { nonRetryable: true }));
    return { kind: 'failed', failure: await codecs.encodeFailure(failure), facts: failureFacts(failure) };
  }
}

/**
 * An activity's result as a payload. A result no payload can hold (a function, a circular object,
 * a BigInt) fails the activity for good: running it again would return the same kind of value,
 * so a retry would only loop.
 */
export function encodeResult(payloads: PayloadConverter, result: unknown, activityType: string): Payload {
  try {
    return payloads.toPayload(result);
  } catch (error) {
    throw new ApplicationError(`Activity ${activityType} returned a result that cannot be encoded: ${(error as Error).message}`, {
      type: 'PayloadEncodingError',
      nonRetryable: true,
      cause: error,
    });
  }
}
