import { ActivityNotFoundError, AsyncActivityCancelledError, IllegalStateError } from '@durabull/common';
import type { CodecChain, FailureConverter, PayloadConverter } from '@durabull/common';
import type { ActivityOutcome, AsyncActivityReply, AsyncActivityReport, AsyncActivityTarget, Engine, RunRef } from '@durabull/engine';
import { encodeActivityOutcome, failureFacts } from '../activity/outcome';
import { decodeTaskToken } from '../activity/task-token';
import type { Logger } from '../logger';
import { checkPayloadSize } from '../payload-limits';

/** An activity named by its id instead of a task token: `client.getAsyncActivityHandle({ workflowId, runId?, activityId })`. */
export interface AsyncActivityId {
  /** The workflow id of the run that scheduled the activity. */
  workflowId: string;
  /** The run; without it, the workflow id's current run. @default the current run */
  runId?: string;
  /** The activity id (`ActivityOptions.activityId`, by default the activity's sequence number in the run). */
  activityId: string;
}

/** What an async activity handle uses of the client that made it (a `Client` is one). */
export interface AsyncActivityClient {
  readonly engine: Engine;
  readonly payloads: PayloadConverter;
  readonly failures: FailureConverter;
  readonly codecs: CodecChain;
  readonly identity: string;
  readonly logger: Logger;
  /** Runs a call that reaches Redis, turning "Redis is down" into a RedisConnectionError. */
  reachRedis<T>(call: () => Promise<T>): Promise<T>;
}

/** Temporal's messages for a call that reached no activity it may act on (TEMPORAL-SEMANTICS §18). */
const ATTEMPT_NOT_FOUND = 'invalid activityID or activity already timed out or invoking workflow is completed';
const RUN_CLOSED = 'workflow execution already completed';
const NOT_CANCEL_REQUESTED = 'unable to mark activity as canceled without activity being request canceled first';

/**
 * Completes, fails, heartbeats or cancels an activity whose function ended with
 * `activity.raiseCompleteAsync()`, from any process connected to the namespace. Get one with
 * `client.getAsyncActivityHandle(taskToken)` (the attempt that gave out the token) or
 * `client.getAsyncActivityHandle({ workflowId, runId?, activityId })` (the activity's current
 * attempt). What it sends goes through the client's payload converter and codecs and is held to
 * the namespace's payload limit, as a worker's outcome is.
 *
 * Every call rejects with `ActivityNotFoundError` when the activity can no longer be acted on:
 * the run is unknown or closed, no pending activity has the id, or the token's attempt is over
 * (completed, failed, timed out and retried).
 */
export class AsyncActivityHandle {
  /** The task token this handle was made with, if any. */
  readonly taskToken: string | undefined;
  /** The activity's workflow id. */
  readonly workflowId: string;
  /** Its run id: the token's, the one given, or undefined (the workflow id's current run). */
  readonly runId: string | undefined;
  /** The activity id. */
  readonly activityId: string;
  private readonly target: AsyncActivityTarget;

  /** @internal Use `client.getAsyncActivityHandle`. */
  constructor(
    private readonly client: AsyncActivityClient,
    tokenOrId: string | AsyncActivityId,
  ) {
    if (typeof tokenOrId === 'string') {
      const token = decodeTaskToken(tokenOrId);
      if (token.namespace !== client.engine.namespace) {
        throw new IllegalStateError(
          `Operation requested with a token from a different namespace. (token namespace ${JSON.stringify(token.namespace)}, ` +
            `client namespace ${JSON.stringify(client.engine.namespace)})`,
        );
      }
      this.taskToken = tokenOrId;
      this.workflowId = token.workflowId;
      this.runId = token.runId;
      this.activityId = token.activityId;
      this.target = { scheduledEventId: token.scheduledEventId, attempt: token.attempt, activityId: token.activityId };
      return;
    }
    const id = checkActivityId(tokenOrId);
    this.taskToken = undefined;
    this.workflowId = id.workflowId;
    this.runId = id.runId;
    this.activityId = id.activityId;
    this.target = { activityId: id.activityId };
  }

  /**
   * Completes the activity with `result` (`ActivityTaskCompleted`). By id, an activity not started
   * yet (queued, or waiting out a retry's backoff) is started on this client's behalf first, as
   * Temporal's server does. A result over the payload limit fails the activity instead (a
   * non-retryable `ServerError` saying so), as a worker's would.
   * @throws ActivityNotFoundError when the activity can no longer be completed.
   */
  async complete(result?: unknown): Promise<void> {
    await this.report({ kind: 'completed', result: [this.client.payloads.toPayload(result)] });
  }

  /**
   * Fails the attempt with `error`, converted as an activity's thrown error is: Temporal's retry
   * decision then applies (another attempt after the backoff, with a new task token, or
   * `ActivityTaskFailed`).
   * @throws ActivityNotFoundError when the activity can no longer be failed.
   */
  async fail(error: unknown): Promise<void> {
    const failure = this.client.failures.errorToFailure(error);
    await this.report({ kind: 'failed', failure, facts: failureFacts(failure) });
  }

  /**
   * Records a heartbeat with `details` (the latest are kept, for the next attempt's
   * `info().heartbeatDetails` and a timeout's `lastHeartbeatDetails`) and pushes the attempt's
   * heartbeat deadline forward. Not throttled: every call is a round trip.
   * @throws AsyncActivityCancelledError after recording it, once the workflow has requested the
   *   activity's cancellation: stop the work and call {@link reportCancellation}.
   * @throws ActivityNotFoundError when the activity can no longer be heartbeated (not started, or
   *   over).
   * @throws PayloadSizeError when the details are over the payload limit (nothing is recorded).
   */
  async heartbeat(...details: unknown[]): Promise<void> {
    const { payloads, codecs, engine, logger } = this.client;
    const encoded = await codecs.encode(payloads.toPayloads(details));
    checkPayloadSize(encoded, `Activity ${this.activityId} heartbeat details`, engine.limits, logger);
    const { reply, ref } = await this.send({ kind: 'heartbeat', details: encoded });
    if (reply.cancelRequested) throw new AsyncActivityCancelledError({ ...ref, activityId: this.activityId });
  }

  /**
   * Reports the activity cancelled (`ActivityTaskCanceled`, with `details` when given), after the
   * workflow requested its cancellation; the workflow's activity call then rejects with a
   * `CancelledError`.
   * @throws IllegalStateError when no cancellation was requested (`unable to mark activity as
   *   canceled without activity being request canceled first`).
   * @throws ActivityNotFoundError when the activity can no longer be cancelled.
   */
  async reportCancellation(details?: unknown): Promise<void> {
    const payloads = details === undefined ? [] : this.client.payloads.toPayloads([details]);
    await this.report({ kind: 'canceled', details: payloads });
  }

  private async report(outcome: ActivityOutcome): Promise<void> {
    const { codecs, failures, logger, engine } = this.client;
    await this.send(await encodeActivityOutcome(outcome, `Activity ${this.activityId}`, { codecs, failures, logger, limits: engine.limits }));
  }

  /** The run to act on: the token's or the one given, else the workflow id's current run (at each call). */
  private async ref(): Promise<RunRef> {
    const runId = this.runId ?? (await this.client.reachRedis(() => this.client.engine.currentRunId(this.workflowId)));
    if (!runId) {
      throw new ActivityNotFoundError(`workflow not found for ID: ${this.workflowId}`, { workflowId: this.workflowId, activityId: this.activityId });
    }
    return { workflowId: this.workflowId, runId };
  }

  private async send(report: AsyncActivityReport): Promise<{ reply: AsyncActivityReply & { ok: true }; ref: RunRef }> {
    const ref = await this.ref();
    const reply = await this.client.reachRedis(() => this.client.engine.respondActivityAsync(ref, this.target, this.client.identity, report));
    if (reply.ok) return { reply, ref };
    const target = { ...ref, activityId: this.activityId };
    switch (reply.reason) {
      case 'runNotFound':
        throw new ActivityNotFoundError(
          `Workflow execution not found: workflowId=${JSON.stringify(ref.workflowId)} runId=${JSON.stringify(ref.runId)}`,
          target,
        );
      case 'runClosed':
        throw new ActivityNotFoundError(RUN_CLOSED, target);
      case 'activityIdNotFound':
        throw new ActivityNotFoundError(
          `cannot find pending activity with ActivityID ${this.activityId}, check workflow execution history for more details`,
          target,
        );
      case 'attemptNotFound':
        throw new ActivityNotFoundError(ATTEMPT_NOT_FOUND, target);
      case 'notCancelRequested':
        throw new IllegalStateError(NOT_CANCEL_REQUESTED);
    }
  }
}

/** Checks `{ workflowId, runId?, activityId }`, naming what is wrong. */
function checkActivityId(id: AsyncActivityId): AsyncActivityId {
  if (typeof id !== 'object' || id === null || Array.isArray(id)) {
    throw new TypeError(
      `getAsyncActivityHandle needs a task token (a string) or { workflowId, runId?, activityId }, got ${JSON.stringify(id)}`,
    );
  }
  const unknown = Object.keys(id).filter((key) => !['workflowId', 'runId', 'activityId'].includes(key));
  if (unknown.length > 0) throw new TypeError(`Unknown async activity handle option(s): ${unknown.join(', ')}`);
  const text = (name: 'workflowId' | 'runId' | 'activityId') => {
    const value = id[name];
    if (typeof value !== 'string' || value === '') throw new TypeError(`Invalid ${name}: ${JSON.stringify(value)} (a non-empty string)`);
    return value;
  };
  return { workflowId: text('workflowId'), runId: id.runId === undefined ? undefined : text('runId'), activityId: text('activityId') };
}
