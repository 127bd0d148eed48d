import {
  ActivityCancellationType,
  compileRetryPolicy,
  optionalMilliseconds,
} from '@durabull/common';
import type { CompiledRetryPolicy, Duration, RetryPolicy } from '@durabull/common';
import { assertName } from '@durabull/engine';

/**
 * Options of `workflow.startActivity` / `workflow.executeActivity`. At least one of
 * `startToCloseTimeout` and `scheduleToCloseTimeout` is required. Timeouts are normalised as
 * Temporal's server does before ActivityTaskScheduled is written (TEMPORAL-SEMANTICS §2.1).
 */
export interface ActivityOptions {
  /**
   * Maximum time of one attempt, from its start to its result; retried on expiry under the retry
   * policy. The attempt's `cancellationSignal()` fires at the deadline and a late result is
   * discarded. @default scheduleToCloseTimeout
   */
  startToCloseTimeout?: Duration;
  /**
   * Maximum time across all attempts, queueing and backoff included, from the first schedule;
   * never retried. A retry whose backoff would end past it is not scheduled: the activity then
   * times out with a `SCHEDULE_TO_CLOSE` `TimeoutError` (`Not enough time to schedule next retry
   * before activity ScheduleToClose timeout, giving up retrying`) whose cause is the last
   * attempt's failure. @default unlimited
   */
  scheduleToCloseTimeout?: Duration;
  /**
   * Maximum time an attempt may wait in the task queue before a worker starts it, per attempt;
   * never retried. @default scheduleToCloseTimeout (unlimited without one)
   */
  scheduleToStartTimeout?: Duration;
  /**
   * Maximum gap between heartbeats of a running attempt; retried. Capped at the start-to-close
   * timeout. @default none (no heartbeat timeout)
   */
  heartbeatTimeout?: Duration;
  /**
   * How failed attempts are retried. Unset fields take Temporal's defaults:
   * `{ initialInterval: '1s', backoffCoefficient: 2, maximumInterval: 100 × initialInterval,
   * maximumAttempts: 0 (unlimited), nonRetryableErrorTypes: [] }`. An `ApplicationError` with
   * `nextRetryDelay` sets the next interval itself, not capped by `maximumInterval` (still bounded
   * by `maximumAttempts` and `scheduleToCloseTimeout`). `nonRetryableErrorTypes` matches
   * `ApplicationError.type` exactly; `'TemporalTimeout:StartToClose'` and
   * `'TemporalTimeout:Heartbeat'` make those timeouts non-retryable.
   */
  retryPolicy?: RetryPolicy;
  /** What `handle.cancel()` does. @default ActivityCancellationType.TRY_CANCEL */
  cancellationType?: ActivityCancellationType;
  /** Task queue of the activity task. @default the workflow's task queue */
  taskQueue?: string;
  /**
   * Id of the activity, unique among the run's open activities. @default the schedule sequence
   * number ("1", "2", ...)
   */
  activityId?: string;
}

/** {@link ActivityOptions} with the arguments, for the two-argument form. */
export interface ActivityOptionsWithArgs<A extends unknown[] = unknown[]> extends ActivityOptions {
  /** The activity's arguments (zero or several). */
  args?: A;
}

/** Activity options as recorded in ActivityTaskScheduled: ms numbers, 0 = unset/unlimited. */
export interface NormalizedActivityOptions {
  scheduleToCloseTimeout: number;
  scheduleToStartTimeout: number;
  startToCloseTimeout: number;
  heartbeatTimeout: number;
  retryPolicy: CompiledRetryPolicy;
  cancellationType: ActivityCancellationType;
  taskQueue: string;
  activityId?: string;
}

const KNOWN_OPTIONS = new Set([
  'startToCloseTimeout',
  'scheduleToCloseTimeout',
  'scheduleToStartTimeout',
  'heartbeatTimeout',
  'retryPolicy',
  'cancellationType',
  'taskQueue',
  'activityId',
  'args',
]);

/**
 * Validates activity options and normalises their timeouts against the workflow's run timeout
 * (0 = none), exactly as Temporal's server does (`validateAndNormalizeTimeouts`).
 * @throws TypeError naming the bad option and value.
 */
export function normalizeActivityOptions(
  options: ActivityOptions,
  defaults: { taskQueue: string; runTimeout: number },
): NormalizedActivityOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Activity options must be an object, got ${JSON.stringify(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key));
  if (unknown.length > 0) throw new TypeError(`Unknown activity option(s): ${unknown.join(', ')}`);

  let scheduleToClose = optionalMilliseconds(options.scheduleToCloseTimeout, 'scheduleToCloseTimeout') ?? 0;
  let scheduleToStart = optionalMilliseconds(options.scheduleToStartTimeout, 'scheduleToStartTimeout') ?? 0;
  let startToClose = optionalMilliseconds(options.startToCloseTimeout, 'startToCloseTimeout') ?? 0;
  let heartbeat = optionalMilliseconds(options.heartbeatTimeout, 'heartbeatTimeout') ?? 0;
  const runTimeout = defaults.runTimeout;

  if (scheduleToClose > 0) {
    scheduleToStart = scheduleToStart > 0 ? Math.min(scheduleToStart, scheduleToClose) : scheduleToClose;
    startToClose = startToClose > 0 ? Math.min(startToClose, scheduleToClose) : scheduleToClose;
  } else if (startToClose > 0) {
    scheduleToClose = runTimeout;
    scheduleToStart = scheduleToStart > 0 ? scheduleToStart : runTimeout;
  } else {
    throw new TypeError('Activity must have startToCloseTimeout or scheduleToCloseTimeout');
  }
  if (runTimeout > 0) {
    const cap = (value: number) => (value > 0 ? Math.min(value, runTimeout) : value);
    scheduleToClose = cap(scheduleToClose);
    scheduleToStart = cap(scheduleToStart);
    startToClose = cap(startToClose);
    heartbeat = cap(heartbeat);
  }
  heartbeat = Math.min(heartbeat, startToClose);

  const cancellationType = options.cancellationType ?? ActivityCancellationType.TRY_CANCEL;
  if (!Object.values(ActivityCancellationType).includes(cancellationType)) {
    throw new TypeError(
      `Invalid cancellationType: ${JSON.stringify(cancellationType)} (one of ${Object.values(ActivityCancellationType).join(', ')})`,
    );
  }
  const taskQueue = options.taskQueue ?? defaults.taskQueue;
  assertName('taskQueue', taskQueue);
  if (options.activityId !== undefined && (typeof options.activityId !== 'string' || options.activityId.length === 0 || options.activityId.length > 1000)) {
    throw new TypeError(`Invalid activityId: ${JSON.stringify(options.activityId)} (a non-empty string of at most 1000 characters)`);
  }
  return {
    scheduleToCloseTimeout: scheduleToClose,
    scheduleToStartTimeout: scheduleToStart,
    startToCloseTimeout: startToClose,
    heartbeatTimeout: heartbeat,
    retryPolicy: compileRetryPolicy(options.retryPolicy),
    cancellationType,
    taskQueue,
    activityId: options.activityId,
  };
}
