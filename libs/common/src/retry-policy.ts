// Activity retry policies: the user's form (durations), the compiled form recorded in
// ActivityTaskScheduled (milliseconds, every default filled in, as Temporal's server does), and
// the backoff rule the engine applies between attempts (TEMPORAL-SEMANTICS §1.11, §2.3).

import { type Duration, optionalMilliseconds } from './duration';
import { quoteValue } from './quote-value';

/**
 * How a failed activity attempt is retried. Every activity has one; unset fields take the
 * defaults below, which are Temporal's.
 * @see https://docs.temporal.io/encyclopedia/retry-policies
 */
export interface RetryPolicy {
  /**
   * Wait before the first retry. `0` counts as unset.
   * @default '1s'
   */
  initialInterval?: Duration;
  /**
   * Each retry waits this many times longer than the previous one. At least 1.
   * @default 2
   */
  backoffCoefficient?: number;
  /**
   * Upper bound of the wait between attempts. `0` counts as unset.
   * @default 100 × initialInterval
   */
  maximumInterval?: Duration;
  /**
   * Total attempts, the first included: `1` disables retries, `0` means unlimited.
   * @default 0
   */
  maximumAttempts?: number;
  /**
   * `ApplicationError` types that are never retried, compared exactly with the error's `type`.
   * @default []
   */
  nonRetryableErrorTypes?: string[];
}

/** A {@link RetryPolicy} with every default applied and durations in milliseconds. */
export interface CompiledRetryPolicy {
  initialInterval: number;
  backoffCoefficient: number;
  maximumInterval: number;
  /** 0 = unlimited. */
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

/** `initialInterval` when none is given, in milliseconds. */
export const DEFAULT_RETRY_INITIAL_INTERVAL_MS = 1000;
/** `backoffCoefficient` when none is given. */
export const DEFAULT_RETRY_BACKOFF_COEFFICIENT = 2;
/** `maximumInterval` defaults to this many times `initialInterval`. */
export const DEFAULT_RETRY_MAXIMUM_INTERVAL_COEFFICIENT = 100;

const isNegativeNumber = (value: unknown): boolean => typeof value === 'number' && value < 0;

/**
 * Validates a retry policy and fills in its defaults. As in Temporal's Python SDK, the range checks
 * are skipped when `maximumAttempts` is 1 (the policy never applies); types and durations are
 * always checked.
 *
 * @throws TypeError `Initial interval cannot be negative`, `Backoff coefficient cannot be less than
 *   1`, `Maximum interval cannot be negative`, `Maximum interval cannot be less than initial
 *   interval`, `Maximum attempts cannot be negative`; or one naming a value of the wrong type.
 */
export function compileRetryPolicy(policy: RetryPolicy = {}): CompiledRetryPolicy {
  const {
    maximumAttempts = 0,
    backoffCoefficient = DEFAULT_RETRY_BACKOFF_COEFFICIENT,
    nonRetryableErrorTypes = [],
  } = policy;
  if (typeof maximumAttempts !== 'number' || !Number.isInteger(maximumAttempts)) {
    throw new TypeError(`Maximum attempts must be an integer, got ${quoteValue(maximumAttempts)}`);
  }
  if (typeof backoffCoefficient !== 'number' || !Number.isFinite(backoffCoefficient)) {
    throw new TypeError(`Backoff coefficient must be a finite number, got ${quoteValue(backoffCoefficient)}`);
  }
  if (!Array.isArray(nonRetryableErrorTypes)) {
    throw new TypeError(`Non-retryable error types must be an array of strings, got ${quoteValue(nonRetryableErrorTypes)}`);
  }
  for (const type of nonRetryableErrorTypes as unknown[]) {
    if (typeof type !== 'string') {
      throw new TypeError(`Non-retryable error types must be strings, got ${quoteValue(type)}`);
    }
  }

  const validate = maximumAttempts !== 1;
  // Checked before parsing: the duration parser would reject a negative number with its own message.
  if (validate && isNegativeNumber(policy.initialInterval)) throw new TypeError('Initial interval cannot be negative');
  // 0 means unset, as in Temporal's protos, where the server then applies the default.
  const initialInterval =
    optionalMilliseconds(policy.initialInterval, 'retryPolicy.initialInterval') || DEFAULT_RETRY_INITIAL_INTERVAL_MS;
  if (validate && backoffCoefficient < 1) throw new TypeError('Backoff coefficient cannot be less than 1');
  if (validate && isNegativeNumber(policy.maximumInterval)) throw new TypeError('Maximum interval cannot be negative');
  const maximumInterval = optionalMilliseconds(policy.maximumInterval, 'retryPolicy.maximumInterval') || 0;
  if (validate && maximumInterval !== 0 && maximumInterval < initialInterval) {
    throw new TypeError('Maximum interval cannot be less than initial interval');
  }
  if (validate && maximumAttempts < 0) throw new TypeError('Maximum attempts cannot be negative');

  return {
    initialInterval,
    backoffCoefficient,
    maximumInterval: maximumInterval || DEFAULT_RETRY_MAXIMUM_INTERVAL_COEFFICIENT * initialInterval,
    maximumAttempts,
    nonRetryableErrorTypes: [...nonRetryableErrorTypes],
  };
}

/**
 * Milliseconds to wait before the attempt after `failedAttempt` (1-based): the failure's
 * `nextRetryDelay` when it has one, otherwise `initialInterval × backoffCoefficient^(failedAttempt−1)`
 * capped at `maximumInterval` (no jitter, as Temporal's server). The first retry thus waits
 * `initialInterval`.
 *
 * A `nextRetryDelay` is deliberately not capped by `maximumInterval`: Temporal's server raises the
 * cap to that delay, so an error that asks for a longer wait gets it. It remains bounded by
 * `maximumAttempts` and the schedule-to-close timeout, which the caller checks.
 *
 * @throws TypeError when `failedAttempt` is not an integer ≥ 1.
 */
export function computeRetryDelay(policy: CompiledRetryPolicy, failedAttempt: number, nextRetryDelay?: number): number {
  if (!Number.isInteger(failedAttempt) || failedAttempt < 1) {
    throw new TypeError(`failedAttempt must be an integer of at least 1, got ${quoteValue(failedAttempt)}`);
  }
  if (nextRetryDelay !== undefined) return Math.round(nextRetryDelay);
  const interval = policy.initialInterval * policy.backoffCoefficient ** (failedAttempt - 1);
  // A recorded maximumInterval of 0 means uncapped, as in Temporal's backoff code.
  return Math.round(policy.maximumInterval > 0 ? Math.min(interval, policy.maximumInterval) : interval);
}
