import { IllegalStateError, toMilliseconds } from '@durabull/common';
import type { Duration } from '@durabull/common';
import { activityDefinition } from '../definitions/activity';
import { composeInterceptors } from '../interceptors';
import type { ActivityScheduleInput, WorkflowInterceptor } from '../interceptors';
import type { Logger } from '../logger';
import { normalizeActivityOptions } from './activity-options';
import type { ActivityOptions, ActivityOptionsWithArgs } from './activity-options';
import { currentWorkflowRuntime } from './runtime';
import type { WorkflowInfo, WorkflowRuntime } from './runtime';

/**
 * A started activity: a promise of its result with its id and a `cancel()`. Awaiting it gives
 * the result or throws an `ActivityError` (`Activity task failed`, `Activity task timed out` or
 * `Activity cancelled`) whose `cause` is the real reason.
 */
export interface ActivityHandle<R> extends Promise<R> {
  readonly activityId: string;
  /**
   * Cancels the activity according to its `cancellationType`: `TRY_CANCEL` requests cancellation
   * and rejects the handle at once; `WAIT_CANCELLATION_COMPLETED` requests it and waits for the
   * activity's final outcome; `ABANDON` rejects the handle at once and lets the activity run.
   */
  cancel(): void;
}

type AnyFunction = (...args: any[]) => any;
type ResultOf<F extends AnyFunction> = Awaited<ReturnType<F>>;

function runtime(call: string): WorkflowRuntime {
  const rt = currentWorkflowRuntime();
  if (!rt) throw new IllegalStateError(`workflow.${call}() may only be called from workflow code`);
  return rt;
}

function resolveActivity(activity: unknown): { name: string; resultType?: Function } {
  if (typeof activity === 'string') {
    if (activity.length === 0) throw new TypeError('Activity name must not be empty');
    return { name: activity };
  }
  if (typeof activity === 'function') {
    const definition = activityDefinition(activity);
    if (!definition) {
      throw new TypeError(
        `Activity ${activity.name || '<anonymous>'} missing attributes, was it decorated with @Activity or wrapped with defineActivity?`,
      );
    }
    return { name: definition.name, resultType: definition.resultType };
  }
  throw new TypeError(`Activity must be a string or a function, got ${JSON.stringify(activity)}`);
}

/**
 * Schedules an activity and returns its {@link ActivityHandle} at once.
 *
 * `startActivity(activity, arg, options)` passes one argument; `startActivity(activity, options)`
 * passes `options.args` (zero or several). `activity` is a decorated method
 * (`YourActivities.prototype.yourActivity`), a function from `defineActivity`, or an activity
 * type name.
 * @throws TypeError (failing the workflow task, not the workflow) for bad options, such as
 *   neither `startToCloseTimeout` nor `scheduleToCloseTimeout`, or both `arg` and `options.args`.
 */
export function startActivity<F extends AnyFunction>(activity: F, arg: Parameters<F>[0], options: ActivityOptions): ActivityHandle<ResultOf<F>>;
export function startActivity<F extends AnyFunction>(activity: F, options: ActivityOptionsWithArgs<Parameters<F>>): ActivityHandle<ResultOf<F>>;
export function startActivity<R = unknown>(activity: string, arg: unknown, options: ActivityOptions): ActivityHandle<R>;
export function startActivity<R = unknown>(activity: string, options: ActivityOptionsWithArgs): ActivityHandle<R>;
export function startActivity(activity: unknown, ...rest: unknown[]): ActivityHandle<unknown> {
  const rt = runtime('startActivity');
  const { name, resultType } = resolveActivity(activity);
  let args: unknown[];
  let options: ActivityOptionsWithArgs;
  if (rest.length >= 2) {
    options = rest[1] as ActivityOptionsWithArgs;
    if (options && typeof options === 'object' && options.args !== undefined) {
      throw new TypeError('Cannot pass both an argument and options.args to an activity');
    }
    args = [rest[0]];
  } else {
    options = rest[0] as ActivityOptionsWithArgs;
    args = options && typeof options === 'object' && options.args !== undefined ? options.args : [];
    if (!Array.isArray(args)) throw new TypeError(`options.args must be an array, got ${JSON.stringify(args)}`);
  }
  const normalized = normalizeActivityOptions(options, { taskQueue: rt.info.taskQueue, runTimeout: rt.info.runTimeout });
  const schedule = composeInterceptors<ActivityScheduleInput, ActivityHandle<unknown>>(
    rt.interceptors,
    (interceptor: WorkflowInterceptor) => interceptor.scheduleActivity,
    (input) => {
      const { promise, activityId, cancel } = rt.scheduleActivity(input.activityType, [...input.args], normalized, resultType, input.headers);
      return Object.assign(promise, { activityId, cancel });
    },
  );
  // By default an activity carries the workflow's start headers (trace context, say).
  return schedule({ activityType: name, args, headers: { ...rt.headers }, workflowHeaders: rt.headers });
}

/** Schedules an activity and waits for its result: a shortcut for `await startActivity(...)`. */
export function executeActivity<F extends AnyFunction>(activity: F, arg: Parameters<F>[0], options: ActivityOptions): Promise<ResultOf<F>>;
export function executeActivity<F extends AnyFunction>(activity: F, options: ActivityOptionsWithArgs<Parameters<F>>): Promise<ResultOf<F>>;
export function executeActivity<R = unknown>(activity: string, arg: unknown, options: ActivityOptions): Promise<R>;
export function executeActivity<R = unknown>(activity: string, options: ActivityOptionsWithArgs): Promise<R>;
export function executeActivity(activity: unknown, ...rest: unknown[]): Promise<unknown> {
  return (startActivity as (activity: unknown, ...rest: unknown[]) => ActivityHandle<unknown>)(activity, ...rest);
}

/**
 * A durable timer (TimerStarted / TimerFired): resolves after `duration`, even across worker
 * restarts. Rejects with `CancelledError` when the workflow is cancelled while it waits.
 */
export function sleep(duration: Duration): Promise<void> {
  const rt = runtime('sleep');
  return rt.startTimer(Math.max(1, toMilliseconds(duration, 'sleep duration')));
}

/** The workflow's deterministic time: the start of the current workflow task, the same on replay. */
export function now(): Date {
  return new Date(runtime('now').currentTime());
}

/** A deterministic random number in [0, 1), the same on replay. */
export function random(): number {
  return runtime('random').random();
}

/** A deterministic random UUID (version 4), the same on replay. */
export function uuid4(): string {
  return runtime('uuid4').uuid4();
}

/** Facts about the running workflow. */
export function info(): WorkflowInfo {
  return { ...runtime('info').info };
}

/** Whether the workflow has been asked to cancel. */
export function isCancelRequested(): boolean {
  return runtime('isCancelRequested').cancelRequested;
}

function log(level: keyof Logger) {
  return (message: string, attributes?: Record<string, unknown>): void => {
    const rt = runtime('logger');
    if (rt.replaying) return;
    rt.logger[level](message, {
      workflowId: rt.info.workflowId,
      runId: rt.info.runId,
      workflowType: rt.info.workflowType,
      ...attributes,
    });
  };
}

/** The workflow's logger: adds the workflow's ids to each entry and is silent during replay. */
export const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
