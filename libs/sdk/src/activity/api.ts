import type { Logger } from '../logger';
import { CompleteAsyncError, currentActivityContext, inActivity as inActivityContext } from './context';
import type { ActivityInfo } from './context';

/** Facts about the running attempt. @throws IllegalStateError outside an activity. */
export function info(): ActivityInfo {
  return currentActivityContext('info').info;
}

/**
 * Records a heartbeat with optional details. Heartbeats are throttled (at most one per 80% of
 * the heartbeat timeout, or 30 s without one), keeping only the latest details, which the next
 * attempt reads as `info().heartbeatDetails` and a heartbeat or start-to-close `TimeoutError`
 * carries as `lastHeartbeatDetails`.
 */
export function heartbeat(...details: unknown[]): void {
  currentActivityContext('heartbeat').heartbeat(details);
}

/**
 * Fires when the workflow cancels the activity, when the attempt's start-to-close or heartbeat
 * deadline passes, and when the worker shuts down. Its `reason` is a `CancelledError`.
 */
export function cancellationSignal(): AbortSignal {
  return currentActivityContext('cancellationSignal').signal;
}

/** Whether the attempt's cancellation signal has fired. */
export function isCancelled(): boolean {
  return currentActivityContext('isCancelled').signal.aborted;
}

/** Resolves when the attempt's cancellation signal fires. */
export function waitForCancelled(): Promise<void> {
  const signal = currentActivityContext('waitForCancelled').signal;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Ends the activity function without ending the attempt: the worker reports nothing and frees the
 * slot, and the activity stays open until someone holding `info().taskToken` (or the activity's
 * id) reports its outcome through `client.getAsyncActivityHandle(...)`. The attempt's
 * start-to-close, heartbeat and schedule-to-close timeouts still apply: an attempt that times out
 * is retried per its retry policy (the old token is then stale). Throws a `CompleteAsyncError`;
 * code that catches errors around the call must rethrow it.
 *
 * ```ts
 * const token = activity.info().taskToken;
 * await approvals.requestApproval({ token });
 * activity.raiseCompleteAsync();
 * ```
 * @throws IllegalStateError outside an activity.
 */
export function raiseCompleteAsync(): never {
  currentActivityContext('raiseCompleteAsync');
  throw new CompleteAsyncError();
}

/** Whether code runs inside an activity. */
export function inActivity(): boolean {
  return inActivityContext();
}

/**
 * A logger that adds the activity's ids to each entry (`activityId`, `activityType`, `attempt`,
 * `workflowId`, `runId`, `workflowType`) and writes to the worker's `logger`.
 */
export const logger: Logger = {
  debug: (message, attributes) => withIds('debug', message, attributes),
  info: (message, attributes) => withIds('info', message, attributes),
  warn: (message, attributes) => withIds('warn', message, attributes),
  error: (message, attributes) => withIds('error', message, attributes),
};

function withIds(level: keyof Logger, message: string, attributes?: Record<string, unknown>): void {
  const context = currentActivityContext('logger');
  const { activityId, activityType, attempt, workflowId, workflowRunId, workflowType } = context.info;
  context.logger[level](message, { activityId, activityType, attempt, workflowId, runId: workflowRunId, workflowType, ...attributes });
}
