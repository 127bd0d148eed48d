// Local activities, the worker side: runs the attempts of a local activity in this process (no
// task queue, no engine call), with its timeouts and Temporal core's retry rules, and reports
// what its marker records (TEMPORAL-SEMANTICS §17): the result, the final failure, or the
// failure and backoff of a retry too far off to wait for here (the workflow then starts a timer).

import { ApplicationError, CancelledError, RetryState, TimeoutError, TimeoutType, computeRetryDelay, decodeAndValidateSync } from '@durabull/common';
import type { Failure, FailureConverter, Payload, PayloadConverter } from '@durabull/common';
import { ActivityContext, CompleteAsyncError } from '../activity/context';
import type { ActivityInfo } from '../activity/context';
import { encodeResult, failureFacts } from '../activity/outcome';
import type { RegisteredActivity } from '../definitions/activity';
import { composeInterceptors } from '../interceptors';
import type { ActivityExecuteInput, ActivityInterceptor } from '../interceptors';
import type { Logger } from '../logger';
import {
  cancelledLocalActivityError,
  failedLocalActivityError,
  localActivityMarkerData,
  timedOutLocalActivityError,
} from '../workflow/local-activities';
import type { LocalActivityMarker, LocalActivityRequest } from '../workflow/local-activities';

export interface LocalActivitySettings {
  namespace: string;
  logger: Logger;
  payloads: PayloadConverter;
  failures: FailureConverter;
  /** Hooks around each attempt (the worker option `interceptors.activity`), as for activities. */
  interceptors: readonly ActivityInterceptor[];
}

/** The run a local activity belongs to. */
export interface LocalActivityRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
}

/** How one attempt ended. */
type AttemptOutcome =
  | { kind: 'completed'; result: Payload }
  | { kind: 'failed'; error: unknown }
  | { kind: 'timedOut'; type: TimeoutType }
  | { kind: 'forgotten' };

/** Runs local activities with the worker's registered activities. */
export class LocalActivityExecutor {
  /** Stops each local activity running here (worker shutdown). */
  private readonly stops = new Set<() => void>();
  private stopping = false;

  constructor(
    private readonly activities: ReadonlyMap<string, RegisteredActivity>,
    private readonly settings: LocalActivitySettings,
  ) {}

  /**
   * Worker shutdown (after its grace time): fires the cancellation signal of every running
   * attempt and stops waiting for them; they resolve with no marker, and their workflow tasks
   * are left to time out and run elsewhere.
   */
  stopAll(): void {
    this.stopping = true;
    for (const stop of this.stops) stop();
  }

  /**
   * Runs the local activity's attempts until it resolves: the marker to record, or undefined
   * when the workflow stopped waiting for it (cancelled with TRY_CANCEL or ABANDON) or the worker
   * shuts down.
   */
  async run(request: LocalActivityRequest, run: LocalActivityRun): Promise<LocalActivityMarker | undefined> {
    if (this.stopping) return undefined;
    const { options } = request;
    const { failures } = this.settings;
    const started = Date.now();
    let attempt = request.attempt;
    let forgotten = false;
    let cancelRequested = request.cancelRequested === true;
    // Ends the wait for the running attempt (forgotten), or for a backoff (any cancellation).
    let stopWaiting: (() => void) | undefined;
    let backingOff = false;
    let context: ActivityContext | undefined;
    request.cancel = (mode) => {
      if (mode !== 'wait') forgotten = true;
      if (mode !== 'abandon') {
        cancelRequested = true;
        context?.cancel('cancelRequested', 'Activity cancelled');
      }
      // WAIT_CANCELLATION_COMPLETED waits for the attempt's own outcome.
      if (mode !== 'wait' || backingOff) stopWaiting?.();
    };
    const stop = () => {
      forgotten = true;
      context?.cancel('workerShutdown', 'Worker shutting down');
      stopWaiting?.();
    };
    this.stops.add(stop);
    // complete_time: the workflow time it was scheduled at plus how long it ran here.
    const marker = (body: { result?: Payload; failure?: Failure }, backoff?: number): LocalActivityMarker => ({
      data: localActivityMarkerData(request, request.workflowTime + (Date.now() - started), attempt, backoff),
      ...body,
    });
    const finalFailure = (error: Error): LocalActivityMarker => marker({ failure: failures.errorToFailure(error) });
    const cancelled = (cause?: Error) => finalFailure(cancelledLocalActivityError(request, cause));
    const deadline = options.scheduleToCloseTimeout > 0 ? request.originalScheduleTime + options.scheduleToCloseTimeout : Infinity;
    const scheduleToCloseTimeout = () =>
      finalFailure(
        timedOutLocalActivityError(request, RetryState.TIMEOUT, new TimeoutError('Activity timed out', { type: TimeoutType.SCHEDULE_TO_CLOSE })),
      );

    try {
      for (;;) {
        if (cancelRequested) return forgotten ? undefined : cancelled();
        if (Date.now() >= deadline) return scheduleToCloseTimeout();
        const outcome = await this.attempt(request, run, attempt, deadline, (c) => (context = c), (stop) => (stopWaiting = stop));
        context = undefined;
        if (forgotten || outcome.kind === 'forgotten') return undefined;
        if (outcome.kind === 'completed') return marker({ result: outcome.result });
        if (outcome.kind === 'timedOut' && outcome.type === TimeoutType.SCHEDULE_TO_CLOSE) return scheduleToCloseTimeout();
        if (cancelRequested && outcome.kind === 'failed' && isCancellation(outcome.error)) return cancelled(outcome.error as Error);

        const error =
          outcome.kind === 'failed' ? outcome.error : new TimeoutError('Activity timed out', { type: TimeoutType.START_TO_CLOSE });
        const failure = failures.errorToFailure(error);
        const wrap = (retryState: RetryState) => {
          const cause = failures.failureToError(failure);
          return outcome.kind === 'timedOut'
            ? timedOutLocalActivityError(request, retryState, cause)
            : failedLocalActivityError(request, retryState, cause);
        };
        const facts = failureFacts(failure);
        const { retryPolicy } = options;
        const retryable =
          facts.kind === 'application'
            ? !facts.nonRetryable && !retryPolicy.nonRetryableErrorTypes.includes(facts.type ?? '')
            : facts.kind === 'timeout'
              ? !retryPolicy.nonRetryableErrorTypes.includes('TemporalTimeout:StartToClose')
              : facts.kind === 'server'
                ? !facts.nonRetryable
                : false;
        if (!retryable) return finalFailure(wrap(RetryState.NON_RETRYABLE_FAILURE));
        if (retryPolicy.maximumAttempts > 0 && attempt >= retryPolicy.maximumAttempts) {
          return finalFailure(wrap(RetryState.MAXIMUM_ATTEMPTS_REACHED));
        }
        const backoff = computeRetryDelay(retryPolicy, attempt, facts.kind === 'application' ? facts.nextRetryDelay : undefined);
        if (Date.now() + backoff > deadline) return scheduleToCloseTimeout();
        if (backoff > options.localRetryThreshold) {
          // Too long to wait here: the marker says so, and the workflow waits on a durable timer.
          return marker({ failure }, backoff);
        }
        this.settings.logger.debug('Local activity attempt failed, retrying in the worker', {
          workflowId: run.workflowId,
          runId: run.runId,
          activityId: request.activityId,
          activityType: request.activityType,
          attempt,
          backoff,
        });
        backingOff = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          stopWaiting = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        stopWaiting = undefined;
        backingOff = false;
        if (forgotten) return undefined;
        attempt++;
      }
    } finally {
      request.cancel = undefined;
      this.stops.delete(stop);
    }
  }

  /** One attempt, in an activity context, bounded by its start-to-close and schedule-to-close deadlines. */
  private async attempt(
    request: LocalActivityRequest,
    run: LocalActivityRun,
    attempt: number,
    deadline: number,
    onContext: (context: ActivityContext) => void,
    onStop: (stop: () => void) => void,
  ): Promise<AttemptOutcome> {
    const { options } = request;
    const { payloads, logger } = this.settings;
    const now = Date.now();
    const info: ActivityInfo = {
      activityId: request.activityId,
      activityType: request.activityType,
      attempt,
      taskQueue: run.taskQueue,
      workflowId: run.workflowId,
      workflowRunId: run.runId,
      workflowType: run.workflowType,
      namespace: this.settings.namespace,
      scheduledTime: new Date(request.originalScheduleTime),
      currentAttemptScheduledTime: new Date(now),
      startedTime: new Date(now),
      scheduleToCloseTimeout: options.scheduleToCloseTimeout || undefined,
      startToCloseTimeout: options.startToCloseTimeout || undefined,
      heartbeatTimeout: undefined,
      heartbeatDetails: [],
      taskToken: '',
      isLocal: true,
    };
    // Heartbeats have no effect on local activities (Temporal's rule).
    const context = new ActivityContext(info, () => undefined, logger);
    onContext(context);
    const attemptDeadline = Math.min(options.startToCloseTimeout > 0 ? now + options.startToCloseTimeout : Infinity, deadline);
    let timer: NodeJS.Timeout | undefined;
    // Settles when the attempt is no longer waited for: a deadline passed, or the workflow forgot it.
    const stopped = new Promise<AttemptOutcome>((resolve) => {
      if (Number.isFinite(attemptDeadline)) {
        timer = setTimeout(
          () => {
            const type = attemptDeadline === deadline ? TimeoutType.SCHEDULE_TO_CLOSE : TimeoutType.START_TO_CLOSE;
            context.cancel('timedOut', 'Activity timed out');
            resolve({ kind: 'timedOut', type });
          },
          Math.max(0, attemptDeadline - now),
        );
      }
      onStop(() => resolve({ kind: 'forgotten' }));
    });
    const invoked = (async (): Promise<AttemptOutcome> => {
      try {
        const registered = this.activities.get(request.activityType);
        if (!registered) {
          const here = [...this.activities.keys()].sort().join(', ') || '(none)';
          // A local activity runs only here: another attempt would not find it either.
          throw new ApplicationError(
            `Activity function ${request.activityType} for workflow ${run.workflowId} is not registered on this worker, available activities: ${here}`,
            { type: 'NotFoundError', nonRetryable: true },
          );
        }
        const args = decodeAndValidateSync(request.input, [...registered.definition.paramTypes], request.activityType, payloads);
        const invoke = composeInterceptors<ActivityExecuteInput, Promise<unknown>>(
          this.settings.interceptors,
          (interceptor: ActivityInterceptor) => interceptor.execute,
          async (input) => registered.invoke(...input.args),
        );
        const result = await context.run(() => invoke({ info, args, headers: request.headers }));
        return { kind: 'completed', result: encodeResult(payloads, result, request.activityType) };
      } catch (error) {
        if (error instanceof CompleteAsyncError) {
          // It has no task token to complete it with: retrying would only do the same.
          const message = `Local activity ${request.activityType} cannot complete asynchronously (raiseCompleteAsync)`;
          return { kind: 'failed', error: new ApplicationError(message, { type: 'LocalActivityCompleteAsync', nonRetryable: true }) };
        }
        return { kind: 'failed', error };
      }
    })();
    try {
      return await Promise.race([invoked, stopped]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function isCancellation(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError');
}
