import { ApplicationError, CancelledError, decodeAndValidateSync } from '@durabull/common';
import type { CodecChain, FailureConverter, Payload, PayloadConverter } from '@durabull/common';
import { describeTaskQueue } from '@durabull/engine';
import type {
  ActivityOutcome,
  ActivityTaskJobData,
  ActivityTaskStart,
  Engine,
  WorkflowTaskJobData,
  WorkflowTaskStart,
} from '@durabull/engine';
import { ActivityContext, CompleteAsyncError } from '../activity/context';
import { encodeActivityOutcome, encodedResultAtOnce, encodeResult, failureFacts } from '../activity/outcome';
import type { OutcomeEncoding } from '../activity/outcome';
import { encodeTaskToken } from '../activity/task-token';
import type { ActivityInfo } from '../activity/context';
import type { RegisteredActivity } from '../definitions/activity';
import { composeInterceptors, headersOf } from '../interceptors';
import type { ActivityExecuteInput, ActivityInterceptor } from '../interceptors';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../observability/worker-metrics';
import { checkPayloadSize } from '../payload-limits';
import type { Slots } from './slots';

export interface ActivityTaskSettings {
  identity: string;
  workerId: string;
  namespace: string;
  logger: Logger;
  payloads: PayloadConverter;
  failures: FailureConverter;
  /** Payload codecs: inputs and details are decoded before the activity sees them, outcomes encoded. */
  codecs: CodecChain;
  metrics: WorkerMetrics;
  /** Hooks around each attempt (the worker option `interceptors.activity`). */
  interceptors: readonly ActivityInterceptor[];
}

/** The ids worker logs about an activity attempt carry. */
export function activityLogAttributes(info: ActivityInfo): Record<string, unknown> {
  const { workflowId, workflowRunId, workflowType, activityId, activityType, attempt } = info;
  return { workflowId, runId: workflowRunId, workflowType, activityId, activityType, attempt };
}

/** The default heartbeat throttle without a heartbeat timeout, and its ceiling (TEMPORAL-SEMANTICS §2.5). */
const DEFAULT_HEARTBEAT_THROTTLE_MS = 30_000;
const MAX_HEARTBEAT_THROTTLE_MS = 60_000;

/**
 * One running attempt: its context plus the worker-side enforcement of its deadlines and the
 * throttled heartbeat sender.
 */
class RunningActivity {
  readonly context: ActivityContext;
  private deadline?: NodeJS.Timeout;
  private heartbeatDeadline?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeatInFlight?: Promise<void>;
  private lastHeartbeatSent = 0;
  /** Details recorded but not yet sent (throttled), converted to payloads at the call. */
  private unsent?: Payload[];
  /**
   * Why heartbeat details could not be serialised (a circular object): the attempt was cancelled
   * and fails with this error, even if the activity returns normally afterwards.
   */
  heartbeatFailure?: unknown;
  readonly throttleMs: number;

  constructor(
    private readonly runner: ActivityTaskRunner,
    readonly task: ActivityTaskJobData,
    info: ActivityInfo,
    start: ActivityTaskStart,
    logger: Logger,
  ) {
    this.context = new ActivityContext(info, (details) => this.heartbeat(details), logger);
    const { activity } = start;
    this.throttleMs = Math.min(
      activity.heartbeatTimeout > 0 ? activity.heartbeatTimeout * 0.8 : DEFAULT_HEARTBEAT_THROTTLE_MS,
      MAX_HEARTBEAT_THROTTLE_MS,
    );
    // The same deadlines the engine enforces, on Redis time: fire the signal when they pass.
    const left = [
      activity.startToCloseTimeout > 0 ? activity.startedTime + activity.startToCloseTimeout - start.now : Infinity,
      activity.scheduleToCloseTimeout > 0 ? activity.scheduledTime + activity.scheduleToCloseTimeout - start.now : Infinity,
    ];
    const ms = Math.min(...left);
    if (Number.isFinite(ms)) {
      this.deadline = setTimeout(() => this.context.cancel('timedOut', 'Activity timed out'), Math.max(0, ms));
    }
    if (activity.heartbeatTimeout > 0) this.armHeartbeatDeadline(activity.heartbeatTimeout);
  }

  private armHeartbeatDeadline(ms: number): void {
    clearTimeout(this.heartbeatDeadline);
    this.heartbeatDeadline = setTimeout(() => this.context.cancel('timedOut', 'Activity heartbeat timed out'), ms);
  }

  private heartbeat(details: unknown[]): void {
    if (this.heartbeatFailure !== undefined) return;
    try {
      // Converted at the call, so that details no payload can hold fail the attempt right here.
      this.unsent = this.runner.settings.payloads.toPayloads(details);
    } catch (error) {
      this.heartbeatFailure = error;
      this.context.cancel('heartbeatFailed', `Activity heartbeat details cannot be serialised: ${(error as Error).message}`);
      return;
    }
    if (this.context.info.heartbeatTimeout) this.armHeartbeatDeadline(this.context.info.heartbeatTimeout);
    if (this.heartbeatTimer || this.heartbeatInFlight) return;
    const wait = Math.max(0, this.lastHeartbeatSent + this.throttleMs - Date.now());
    this.heartbeatTimer = setTimeout(() => this.sendHeartbeat(), wait);
  }

  private sendHeartbeat(): void {
    this.heartbeatTimer = undefined;
    const details = this.unsent;
    if (!details || this.context.signal.aborted) return;
    this.unsent = undefined;
    this.lastHeartbeatSent = Date.now();
    this.heartbeatInFlight = this.encodeDetails(details)
      .then((encoded) => this.runner.sendHeartbeat(this.task, encoded))
      .then((reply) => {
        if (!reply) this.context.cancel('notFound', 'Activity attempt is no longer current');
        else if (reply.cancelRequested) this.context.cancel('cancelRequested', 'Activity cancelled');
      })
      .catch((error: Error) =>
        this.context.logger.warn('Heartbeat failed', { ...activityLogAttributes(this.context.info), error: error.message }),
      )
      .finally(() => {
        this.heartbeatInFlight = undefined;
        if (this.unsent) this.heartbeat(this.unsent);
      });
  }

  private async encodeDetails(details: Payload[]): Promise<Payload[]> {
    const { codecs, logger } = this.runner.settings;
    const encoded = await codecs.encode(details);
    checkPayloadSize(encoded, `Activity ${this.context.info.activityType} heartbeat details`, this.runner.limits, logger);
    return encoded;
  }

  /** Whether details were recorded that no heartbeat sent yet. */
  get hasUnsentDetails(): boolean {
    return this.unsent !== undefined;
  }

  /** Details recorded but never sent: they go with the attempt's outcome (not throttled). */
  async takeUnsentDetails(): Promise<Payload[] | undefined> {
    const details = this.unsent;
    this.unsent = undefined;
    return details ? this.encodeDetails(details) : undefined;
  }

  stop(): void {
    clearTimeout(this.deadline);
    clearTimeout(this.heartbeatDeadline);
    clearTimeout(this.heartbeatTimer);
  }
}

/** Where an activity hands the next workflow task of its run when this worker takes it at once. */
export interface EagerWorkflowTasks {
  /**
   * Takes a workflow task slot if one is free (true at once) or comes free soon (a promise);
   * false when the task should go through its queue.
   */
  reserve(): boolean | Promise<boolean>;
  release(): void;
  /** The last event id this worker holds of a run (0 when it is not cached). */
  seenEventId(runId: string): number;
  /** Runs a taken workflow task in the background; its slot is released when it ends. */
  run(task: WorkflowTaskJobData, start: WorkflowTaskStart): void;
  /**
   * Records attempt 1's result (encoded) together with the next workflow task of its run, run here
   * first on the events the result writes; releases the slot. False, with nothing done (the slot
   * still held), when this worker does not hold the run.
   */
  completeAndRun(task: ActivityTaskJobData, start: ActivityTaskStart, result: Payload[], heartbeatDetails?: Payload[]): Promise<boolean>;
}

/**
 * Runs activity tasks: takes the attempt (only the current one may start), runs the registered
 * implementation in an {@link ActivityContext}, and reports the outcome, fenced on the attempt.
 */
export class ActivityTaskRunner {
  private readonly running = new Map<string, RunningActivity>();
  /** Set when this worker also runs the workflows of its task queue (eager workflow tasks). */
  eagerWorkflowTasks?: EagerWorkflowTasks;

  get limits(): Engine['limits'] {
    return this.engine.limits;
  }

  constructor(
    private readonly engine: Engine,
    readonly activities: ReadonlyMap<string, RegisteredActivity>,
    readonly settings: ActivityTaskSettings,
    readonly slots: Slots,
  ) {}

  /**
   * An attempt from a queue: waits for a slot, takes the attempt, runs it. Returns `{ early }`
   * (ms) when its job came before the attempt's scheduled time.
   */
  async run(task: ActivityTaskJobData): Promise<{ early: number } | undefined> {
    await this.slots.acquire();
    try {
      const start = await this.engine.startActivityTask(task, this.settings.identity, this.settings.workerId);
      if (!start) return undefined;
      if ('early' in start) return start;
      await this.execute(task, start);
      return undefined;
    } finally {
      this.slots.release();
    }
  }

  /** An attempt this worker already started (eagerly, with its slot); runs it and frees the slot. */
  async runTaken(task: ActivityTaskJobData, start: ActivityTaskStart): Promise<void> {
    try {
      await this.execute(task, start);
    } finally {
      this.slots.release();
    }
  }

  private async execute(task: ActivityTaskJobData, start: ActivityTaskStart): Promise<void> {
    const { workerId, payloads, codecs, metrics, logger } = this.settings;
    const { activity, scheduled } = start;
    const labels = metrics.activity(activity.activityType);
    metrics.activityScheduleToStart.observe(labels, Math.max(0, activity.startedTime - activity.attemptScheduledTime) / 1000);
    if (activity.attempt > 1) metrics.activityRetries.inc(labels);
    const info: ActivityInfo = {
      activityId: activity.activityId,
      activityType: activity.activityType,
      attempt: activity.attempt,
      taskQueue: activity.taskQueue,
      workflowId: task.workflowId,
      workflowRunId: task.runId,
      workflowType: start.workflowType,
      namespace: this.settings.namespace,
      scheduledTime: new Date(activity.scheduledTime),
      currentAttemptScheduledTime: new Date(activity.attemptScheduledTime),
      startedTime: new Date(activity.startedTime),
      scheduleToCloseTimeout: activity.scheduleToCloseTimeout || undefined,
      startToCloseTimeout: activity.startToCloseTimeout || undefined,
      heartbeatTimeout: activity.heartbeatTimeout || undefined,
      // No await where there is nothing to decode (no codecs, no details: most attempts).
      heartbeatDetails: payloads.fromPayloads(
        codecs.empty || activity.heartbeatDetails.length === 0 ? activity.heartbeatDetails : await codecs.decode(activity.heartbeatDetails),
      ),
      taskToken: encodeTaskToken({
        namespace: this.settings.namespace,
        workflowId: task.workflowId,
        runId: task.runId,
        scheduledEventId: task.scheduledEventId,
        attempt: task.attempt,
        activityId: activity.activityId,
      }),
      isLocal: false,
    };
    const running = new RunningActivity(this, task, info, start, this.settings.logger);
    const key = attemptKey(task.runId, task.scheduledEventId, task.attempt);
    this.running.set(key, running);
    const { context } = running;
    // Undefined when the function ended with raiseCompleteAsync(): the attempt stays open.
    let outcome: ActivityOutcome | undefined;
    const startedAt = performance.now();
    try {
      const registered = this.activities.get(activity.activityType);
      if (!registered) throw await this.notRegistered(activity.activityType, activity.taskQueue, task.workflowId);
      const args = decodeAndValidateSync(
        codecs.empty ? (scheduled['input'] as Payload[]) : await codecs.decode(scheduled['input'] as Payload[]),
        [...registered.definition.paramTypes],
        activity.activityType,
        payloads,
      );
      // Interceptors get a promise from `next`; without any, the function's own result is awaited
      // (an async wrapper returning its promise would add three promises to every attempt).
      const { interceptors } = this.settings;
      const result = await context.run(() =>
        interceptors?.length
          ? composeInterceptors<ActivityExecuteInput, Promise<unknown>>(
              interceptors,
              (interceptor: ActivityInterceptor) => interceptor.execute,
              async (input) => registered.invoke(...input.args),
            )({ info, args, headers: headersOf(scheduled) })
          : registered.invoke(...args),
      );
      outcome = { kind: 'completed', result: [encodeResult(payloads, result, activity.activityType)] };
    } catch (error) {
      outcome = error instanceof CompleteAsyncError ? undefined : this.outcomeOf(error, context);
    } finally {
      running.stop();
      // Whatever the activity did after its heartbeat failed, that failure is the attempt's outcome.
      if (running.heartbeatFailure !== undefined) outcome = this.failed(running.heartbeatFailure);
      this.running.delete(key);
      metrics.activityExecution.observe(labels, (performance.now() - startedAt) / 1000);
    }
    if (!outcome) return this.leaveOpen(task, running);
    if (context.reason !== 'notFound' && (outcome.kind !== 'completed' || context.reason === 'timedOut')) {
      const kind = context.reason === 'timedOut' ? 'timeout' : outcome.kind === 'failed' ? outcome.facts.kind : 'canceled';
      metrics.activityFailures.inc({ ...labels, kind });
      const level = outcome.kind === 'canceled' ? 'debug' : 'warn';
      const error = outcome.kind === 'failed' ? outcome.failure.message : context.signal.reason instanceof Error ? context.signal.reason.message : undefined;
      logger[level](kind === 'canceled' ? 'Activity attempt cancelled' : 'Activity attempt failed', { ...activityLogAttributes(info), kind, error });
    }
    // Past its deadline (or no longer current), the attempt's outcome is the engine's to decide.
    if (context.reason === 'timedOut' || context.reason === 'notFound') return;
    // Reserved at once when a slot is free: no promise to await then.
    const reserving = this.eagerWorkflowTasks?.reserve();
    let eager = (typeof reserving === 'object' ? await reserving : reserving) ? this.eagerWorkflowTasks : undefined;
    try {
      const encoded = this.encodedAtOnce(outcome, activity.activityType) ?? (await this.encodeOutcome(outcome, activity.activityType));
      const details = running.hasUnsentDetails ? await running.takeUnsentDetails() : undefined;
      // The first attempt's result and the workflow task it wakes, in one round trip. (A retry's
      // ActivityTaskStarted carries the last failure, which this worker cannot predict.)
      if (eager && encoded.kind === 'completed' && activity.attempt === 1) {
        const taking = eager;
        eager = undefined; // the slot is completeAndRun's now, unless it gives it back
        if (await taking.completeAndRun(task, start, encoded.result, details)) return;
        eager = taking;
      }
      const reply = await this.engine.completeActivityTask(
        task,
        workerId,
        encoded,
        details,
        eager && { identity: this.settings.identity, seenEventId: eager.seenEventId(task.runId) },
      );
      if (eager && reply.workflowTask) {
        const { token, ...started } = reply.workflowTask;
        eager.run({ runId: task.runId, workflowId: task.workflowId, token, queue: `@${workerId}` }, started);
        return;
      }
    } catch (error) {
      eager?.release();
      throw error;
    }
    eager?.release();
  }

  /** The outcome as stored: encoded by the codecs and within the payload limit (see {@link encodeActivityOutcome}). */
  private encodeOutcome(outcome: ActivityOutcome, activityType: string): Promise<ActivityOutcome> {
    return encodeActivityOutcome(outcome, `Activity ${activityType}`, this.outcomeEncoding());
  }

  /** {@link encodeOutcome} without a promise, or undefined where the outcome needs one ({@link encodedResultAtOnce}). */
  private encodedAtOnce(outcome: ActivityOutcome, activityType: string): ActivityOutcome | undefined {
    return encodedResultAtOnce(outcome, `Activity ${activityType}`, this.outcomeEncoding());
  }

  private outcomeEncoding(): OutcomeEncoding {
    const { codecs, failures, logger } = this.settings;
    return { codecs, failures, logger, limits: this.engine.limits };
  }

  /**
   * The function ended with raiseCompleteAsync(): nothing is reported, the attempt stays open for
   * an AsyncActivityHandle (its deadlines still armed in the engine), and the slot is freed.
   * Heartbeat details recorded but not sent yet are sent now, while this worker still holds the
   * attempt.
   */
  private async leaveOpen(task: ActivityTaskJobData, running: RunningActivity): Promise<void> {
    const { info } = running.context;
    this.settings.logger.debug('Activity will complete asynchronously', activityLogAttributes(info));
    try {
      const details = await running.takeUnsentDetails();
      if (details) await this.sendHeartbeat(task, details);
    } catch (error) {
      this.settings.logger.warn('Heartbeat failed', { ...activityLogAttributes(info), error: (error as Error).message });
    }
  }

  private outcomeOf(error: unknown, context: ActivityContext): ActivityOutcome {
    const { failures } = this.settings;
    const cancelled =
      error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError') || error === context.signal.reason;
    if (context.reason === 'cancelRequested' && cancelled) {
      return { kind: 'canceled', details: error instanceof CancelledError ? this.settings.payloads.toPayloads(error.details) : [] };
    }
    // Stopped by the shutdown (its signal's error, or an abort): reported as a WorkerShutdown
    // failure. An error of the activity's own, even one thrown because of the shutdown, is
    // recorded as it is.
    if (context.reason === 'workerShutdown' && cancelled) {
      return this.failed(new ApplicationError('Worker shutting down', { type: 'WorkerShutdown', cause: error }));
    }
    return this.failed(error);
  }

  /**
   * The failure of an attempt of an activity type this worker does not run: retryable while a
   * live worker of the task queue runs it (a rolling deploy: the retry may reach that one), for
   * good when none does (a typo or a missing registration would otherwise be retried for ever).
   */
  private async notRegistered(activityType: string, taskQueue: string, workflowId: string): Promise<ApplicationError> {
    const here = [...this.activities.keys()].sort().join(', ') || '(none)';
    const pollers = await describeTaskQueue(this.engine.redis, this.engine.keys, taskQueue).catch(() => undefined);
    // Unknown (Redis failed): retry rather than give up.
    const elsewhere = pollers === undefined || pollers.some((p) => p.state === 'live' && p.activityTypes.includes(activityType));
    return elsewhere
      ? new ApplicationError(
          `Activity function ${activityType} for workflow ${workflowId} is not registered on this worker, available activities: ${here}`,
          { type: 'NotFoundError' },
        )
      : new ApplicationError(
          `Activity function ${activityType} for workflow ${workflowId} is not registered on any worker of task queue ${taskQueue} (this worker has: ${here})`,
          { type: 'NotFoundError', nonRetryable: true },
        );
  }

  private failed(error: unknown): ActivityOutcome {
    const failure = this.settings.failures.errorToFailure(error);
    return { kind: 'failed', failure, facts: failureFacts(failure) };
  }

  sendHeartbeat(task: ActivityTaskJobData, details: Payload[]): Promise<{ cancelRequested: boolean } | undefined> {
    return this.engine.recordHeartbeat(task, this.settings.workerId, details);
  }

  /** A cancellation request published for an attempt running here. */
  deliverCancellation(message: string): void {
    this.running.get(message)?.context.cancel('cancelRequested', 'Activity cancelled');
  }

  /** Fires the signal of every running attempt (worker shutdown after the grace period). */
  cancelAll(): void {
    for (const running of this.running.values()) running.context.cancel('workerShutdown', 'Worker shutting down');
  }
}

/** How cancellation messages name an attempt: `<runId>|<scheduledEventId>|<attempt>`. */
function attemptKey(runId: string, scheduledEventId: number, attempt: number): string {
  return `${runId}|${scheduledEventId}|${attempt}`;
}
