import { AsyncLocalStorage } from 'node:async_hooks';
import { CancelledError, IllegalStateError } from '@durabull/common';
import type { Logger } from '../logger';

/** What `activity.info()` returns: the current attempt of the current activity. */
export interface ActivityInfo {
  activityId: string;
  activityType: string;
  /** Attempt number, starting at 1. */
  attempt: number;
  taskQueue: string;
  workflowId: string;
  workflowRunId: string;
  workflowType: string;
  namespace: string;
  /** When the activity was first scheduled. */
  scheduledTime: Date;
  /** When this attempt was scheduled. */
  currentAttemptScheduledTime: Date;
  /** When this attempt started. */
  startedTime: Date;
  /** ms, undefined when unlimited. */
  scheduleToCloseTimeout?: number;
  /** ms, undefined when unlimited. */
  startToCloseTimeout?: number;
  /** ms, undefined when not set. */
  heartbeatTimeout?: number;
  /** Details of the latest heartbeat of an earlier attempt (an array, empty when none). */
  heartbeatDetails: unknown[];
  /**
   * This attempt's task token, for async completion: `client.getAsyncActivityHandle(taskToken)`
   * completes, fails, heartbeats or cancels the activity from anywhere, after the activity
   * function ended with `activity.raiseCompleteAsync()`. It names the namespace, the run, the
   * activity (its scheduled event id and activity id) and this attempt, so it goes stale once the
   * attempt is over (completed, timed out, retried). A string (base64url), not a secret.
   */
  taskToken: string;
  /**
   * Whether this is a local activity (`workflow.executeLocalActivity`): run by the workflow's own
   * worker, without a task queue; its `taskToken` is empty (it cannot complete asynchronously)
   * and heartbeats have no effect.
   */
  isLocal: boolean;
}

const COMPLETE_ASYNC = Symbol.for('durabull.CompleteAsyncError');

/**
 * What `activity.raiseCompleteAsync()` throws: it ends the activity function but not the attempt,
 * which stays open (its timeouts still running) until an AsyncActivityHandle reports its outcome.
 * Code that catches errors around it must rethrow it.
 */
export class CompleteAsyncError extends Error {
  constructor() {
    super('Activity will complete asynchronously');
    this.name = 'CompleteAsyncError';
    Object.defineProperty(this, COMPLETE_ASYNC, { value: true });
  }

  /** True for instances of any copy of this class (Jest registries, duplicate installs). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[COMPLETE_ASYNC] === true;
  }
}

/**
 * Why an attempt's cancellation signal fired: the workflow asked, a deadline passed, the worker
 * shuts down, the attempt is no longer current, or heartbeat details could not be serialised (the
 * attempt then fails with that error, whatever the activity does next).
 */
export type CancellationReason = 'cancelRequested' | 'timedOut' | 'workerShutdown' | 'notFound' | 'heartbeatFailed';

/**
 * The context of one running activity attempt (behind `activity.*`). The worker creates it, runs
 * the activity inside it and reads back what happened.
 */
export class ActivityContext {
  private readonly controller = new AbortController();
  /** Why the signal fired, if it did. */
  reason?: CancellationReason;

  constructor(
    readonly info: ActivityInfo,
    private readonly onHeartbeat: (details: unknown[]) => void,
    readonly logger: Logger,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  heartbeat(details: unknown[]): void {
    this.onHeartbeat(details);
  }

  /** Fires the attempt's cancellation signal (the first reason wins). */
  cancel(reason: CancellationReason, message: string): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort(new CancelledError(message));
  }

  run<T>(fn: () => T): T {
    return storage.run(this, fn);
  }
}

const storage = new AsyncLocalStorage<ActivityContext>();

/** The context of the running activity. @throws IllegalStateError outside an activity. */
export function currentActivityContext(call: string): ActivityContext {
  const context = storage.getStore();
  if (!context) throw new IllegalStateError(`activity.${call}() may only be called from an activity`);
  return context;
}

/** Whether code runs inside an activity. */
export function inActivity(): boolean {
  return storage.getStore() !== undefined;
}
