import { IllegalStateError, toMilliseconds } from '@durabull/common';
import type { Duration } from '@durabull/common';
import { activityDefinition } from '../definitions/activity';
import { DYNAMIC, messageName, requireWorkflowDefinition } from '../definitions/workflow';
import type { WorkflowArgs, WorkflowClass, WorkflowResult } from '../definitions/workflow';
import { composeInterceptors } from '../interceptors';
import type {
  ActivityScheduleInput,
  ChildWorkflowStartInput,
  ContinueAsNewInput,
  ExternalWorkflowSignalInput,
  WorkflowInterceptor,
} from '../interceptors';
import type { Logger } from '../logger';
import { normalizeActivityOptions } from './activity-options';
import type { ActivityOptions, ActivityOptionsWithArgs } from './activity-options';
import { normalizeLocalActivityOptions } from './local-activities';
import type { LocalActivityOptions, LocalActivityOptionsWithArgs } from './local-activities';
import { ContinueAsNewError, checkContinueAsNewOptions } from './continue-as-new';
import type { ContinueAsNewOptions } from './continue-as-new';
import type { ChildWorkflowHandle, ChildWorkflowOptions, ChildWorkflowOptionsWithArgs } from './children';
import { currentWorkflowRuntime } from './runtime';
import type { WorkflowRuntime } from './runtime';
import type { ActivityHandle, WorkflowInfo } from './types';

export type { ActivityHandle } from './types';
export type { ContinueAsNewOptions } from './continue-as-new';

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
  return scheduleThrough(rt, 'scheduleActivity', name, args, (input) =>
    rt.scheduleActivity(input.activityType, [...input.args], normalized, resultType, input.headers),
  );
}

/**
 * Schedules an activity or a local activity through the workflow interceptors' `hook`. By default
 * it carries the workflow's start headers (trace context, say).
 */
function scheduleThrough(
  rt: WorkflowRuntime,
  hook: 'scheduleActivity' | 'scheduleLocalActivity',
  activityType: string,
  args: unknown[],
  schedule: (input: ActivityScheduleInput) => { promise: Promise<unknown>; activityId: string; cancel: () => void },
): ActivityHandle<unknown> {
  const intercepted = composeInterceptors<ActivityScheduleInput, ActivityHandle<unknown>>(
    rt.interceptors,
    (interceptor: WorkflowInterceptor) => interceptor[hook],
    (input) => {
      const { promise, activityId, cancel } = schedule(input);
      return Object.assign(promise, { activityId, cancel });
    },
  );
  return intercepted({ activityType, args, headers: { ...rt.headers }, workflowHeaders: rt.headers });
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
 * Starts a local activity and returns its {@link ActivityHandle} at once: the activity runs in
 * this worker's process (one of its registered activities), without a task queue, while the
 * workflow task waits for it; its result or final failure is recorded as a `MarkerRecorded`
 * event (`core_local_activity`), from which replay resolves it without running it again. Retries
 * run in the worker while the backoff is at most `localRetryThreshold`; a longer backoff waits on
 * a durable timer. Failures reject with an `ActivityError` (`Activity task failed`, `Local
 * Activity timed out`, `Local Activity cancelled`) whose `cause` is the activity's error.
 *
 * The argument forms are those of {@link startActivity}. Use local activities for short work
 * (well under the workflow task timeout is best; longer ones keep the task open by heartbeats).
 * @throws TypeError (failing the workflow task, not the workflow) for bad options, such as
 *   neither `startToCloseTimeout` nor `scheduleToCloseTimeout`, or both `arg` and `options.args`.
 */
export function startLocalActivity<F extends AnyFunction>(activity: F, arg: Parameters<F>[0], options: LocalActivityOptions): ActivityHandle<ResultOf<F>>;
export function startLocalActivity<F extends AnyFunction>(activity: F, options: LocalActivityOptionsWithArgs<Parameters<F>>): ActivityHandle<ResultOf<F>>;
export function startLocalActivity<R = unknown>(activity: string, arg: unknown, options: LocalActivityOptions): ActivityHandle<R>;
export function startLocalActivity<R = unknown>(activity: string, options: LocalActivityOptionsWithArgs): ActivityHandle<R>;
export function startLocalActivity(activity: unknown, ...rest: unknown[]): ActivityHandle<unknown> {
  const rt = runtime('startLocalActivity');
  const { name, resultType } = resolveActivity(activity);
  let args: unknown[];
  let options: LocalActivityOptionsWithArgs;
  if (rest.length >= 2) {
    options = rest[1] as LocalActivityOptionsWithArgs;
    if (options && typeof options === 'object' && options.args !== undefined) {
      throw new TypeError('Cannot pass both an argument and options.args to an activity');
    }
    args = [rest[0]];
  } else {
    options = rest[0] as LocalActivityOptionsWithArgs;
    args = options && typeof options === 'object' && options.args !== undefined ? options.args : [];
    if (!Array.isArray(args)) throw new TypeError(`options.args must be an array, got ${JSON.stringify(args)}`);
  }
  const normalized = normalizeLocalActivityOptions(options);
  return scheduleThrough(rt, 'scheduleLocalActivity', name, args, (input) =>
    rt.scheduleLocalActivity(input.activityType, [...input.args], normalized, resultType, input.headers),
  );
}

/** Runs a local activity and waits for its result: a shortcut for `await startLocalActivity(...)`. */
export function executeLocalActivity<F extends AnyFunction>(activity: F, arg: Parameters<F>[0], options: LocalActivityOptions): Promise<ResultOf<F>>;
export function executeLocalActivity<F extends AnyFunction>(activity: F, options: LocalActivityOptionsWithArgs<Parameters<F>>): Promise<ResultOf<F>>;
export function executeLocalActivity<R = unknown>(activity: string, arg: unknown, options: LocalActivityOptions): Promise<R>;
export function executeLocalActivity<R = unknown>(activity: string, options: LocalActivityOptionsWithArgs): Promise<R>;
export function executeLocalActivity(activity: unknown, ...rest: unknown[]): Promise<unknown> {
  return (startLocalActivity as (activity: unknown, ...rest: unknown[]) => ActivityHandle<unknown>)(activity, ...rest);
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

/**
 * Waits until `fn()` returns true: it is checked now, then after every step of the workflow's
 * activations (a signal delivered, an activity result, a timer). Resolves `true` once it holds,
 * or `false` when `options.timeout` passes first: the timeout is a durable timer (TimerStarted),
 * cancelled (TimerCanceled) when `fn` wins. `fn` must only read the workflow's state. Rejects
 * with a `CancelledError` when the workflow is cancelled while it waits.
 *
 * ```ts
 * await workflow.waitCondition(() => this.approved);
 * const inTime = await workflow.waitCondition(() => this.approved, { timeout: '1h' });
 * ```
 */
export function waitCondition(fn: () => boolean, options: { timeout?: Duration } = {}): Promise<boolean> {
  const rt = runtime('waitCondition');
  if (typeof fn !== 'function') throw new TypeError(`waitCondition needs a function, got ${JSON.stringify(fn)}`);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`waitCondition options must be an object, got ${JSON.stringify(options)}`);
  }
  const timeout = options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'waitCondition timeout');
  return rt.waitCondition(fn, timeout);
}

/**
 * Whether every signal (and update) handler of the run has finished. Wait for it before the run
 * method returns, so that no handler is cut short:
 * `await workflow.waitCondition(workflow.allHandlersFinished)`.
 */
export function allHandlersFinished(): boolean {
  return runtime('allHandlersFinished').allHandlersFinished();
}

/**
 * Sets the handler of signal `name` (replacing a `@WorkflowSignal` method of that name), or with
 * `handler` undefined removes it. Signals of that name that arrived before, without a handler,
 * are delivered to it at once, in order.
 */
export function setSignalHandler(name: string, handler: ((...args: any[]) => void | Promise<void>) | undefined): void {
  const rt = runtime('setSignalHandler');
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`Invalid signal name: ${JSON.stringify(name)} (a non-empty string)`);
  rt.setSignalHandler(name, handler);
}

/**
 * Sets the dynamic signal handler, which receives `(name, ...args)` for every signal without a
 * handler of its own (or with `handler` undefined removes it); every signal kept for want of a
 * handler is delivered to it at once, in order.
 */
export function setDynamicSignalHandler(handler: ((name: string, ...args: any[]) => void | Promise<void>) | undefined): void {
  runtime('setDynamicSignalHandler').setSignalHandler(DYNAMIC, handler);
}

/**
 * Sets the handler of query `name` (replacing a `@WorkflowQuery` method of that name), or with
 * `handler` undefined removes it. A query handler answers from the workflow's state: it must be
 * synchronous and read-only (recording anything, such as starting an activity or a timer, throws
 * `IllegalStateError`).
 *
 * ```ts
 * workflow.setQueryHandler('progress', () => this.done / this.total);
 * ```
 */
export function setQueryHandler(name: string, handler: ((...args: any[]) => unknown) | undefined): void {
  const rt = runtime('setQueryHandler');
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`Invalid query name: ${JSON.stringify(name)} (a non-empty string)`);
  rt.setQueryHandler(name, handler);
}

/**
 * Sets the dynamic query handler, which receives `(name, ...args)` for every query without a
 * handler of its own, or with `handler` undefined removes it.
 */
export function setDynamicQueryHandler(handler: ((name: string, ...args: any[]) => unknown) | undefined): void {
  runtime('setDynamicQueryHandler').setQueryHandler(DYNAMIC, handler);
}

/** Options of {@link setUpdateHandler}. */
export interface UpdateHandlerOptions {
  /**
   * Runs before the update is accepted, with the same arguments: synchronous and read-only. If it
   * throws, the update is rejected (nothing is written) and the caller gets a
   * `WorkflowUpdateFailedError` whose `cause` is its error. @default no validator
   */
  validator?: (...args: any[]) => void;
}

/**
 * Sets the handler of update `name` (replacing a `@WorkflowUpdate` method of that name), or with
 * `handler` undefined removes it. Updates of that name that arrived in the current activation
 * without a handler are handled at once; at the end of an activation, an update without a
 * handler is rejected.
 *
 * ```ts
 * workflow.setUpdateHandler('setLimit', (limit: number) => { this.limit = limit; return this.limit; }, {
 *   validator: (limit: number) => { if (limit < 0) throw new ApplicationError('negative limit'); },
 * });
 * ```
 */
export function setUpdateHandler(
  name: string,
  handler: ((...args: any[]) => unknown) | undefined,
  options: UpdateHandlerOptions = {},
): void {
  const rt = runtime('setUpdateHandler');
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`Invalid update name: ${JSON.stringify(name)} (a non-empty string)`);
  rt.setUpdateHandler(name, handler, options.validator);
}

/**
 * Sets the dynamic update handler, which receives `(name, ...args)` for every update without a
 * handler of its own (its validator too), or with `handler` undefined removes it.
 */
export function setDynamicUpdateHandler(
  handler: ((name: string, ...args: any[]) => unknown) | undefined,
  options: { validator?: (name: string, ...args: any[]) => void } = {},
): void {
  runtime('setDynamicUpdateHandler').setUpdateHandler(DYNAMIC, handler, options.validator);
}

/**
 * A handle on another run, from {@link getExternalWorkflowHandle}: it signals the run or asks it
 * to cancel, from workflow code (the messages are recorded in this run's history).
 */
export interface ExternalWorkflowHandle {
  readonly workflowId: string;
  /** The run the handle names; undefined for the workflow id's current run. */
  readonly runId?: string;
  /**
   * Signals the run (`SignalExternalWorkflowExecutionInitiated`, then
   * `ExternalWorkflowExecutionSignaled` once the other run recorded `WorkflowExecutionSignaled`).
   * `signal` is a `@WorkflowSignal` method (`Cart.prototype.addItem`) or a signal name.
   * Rejects with an `ApplicationError` of type `EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND` (`Unable to
   * signal external workflow because it was not found`) when the run does not exist or has
   * closed, and with a `CancelledError` when this workflow is cancelled before the signal was sent.
   */
  signal<F extends (...args: any[]) => unknown>(signal: F, ...args: Parameters<F>): Promise<void>;
  signal(signal: string, ...args: unknown[]): Promise<void>;
  /**
   * Asks the run to cancel (`RequestCancelExternalWorkflowExecutionInitiated`, then
   * `ExternalWorkflowExecutionCancelRequested` once the other run recorded
   * `WorkflowExecutionCancelRequested`). Resolves once the request is recorded, not when the run
   * ends. Rejects with an `ApplicationError` of type `EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND`
   * (`Unable to cancel external workflow because not found`) when the run does not exist or has
   * closed.
   */
  cancel(): Promise<void>;
}

/**
 * A handle to signal or cancel another workflow run (any workflow id of the namespace, on any
 * shard): `runId` names one run, otherwise the workflow id's current run is meant when the message
 * is delivered.
 *
 * ```ts
 * await workflow.getExternalWorkflowHandle('cart-1').signal(Cart.prototype.addItem, 'pear');
 * ```
 * @throws TypeError for an empty or non-string `workflowId` or `runId`
 */
export function getExternalWorkflowHandle(workflowId: string, runId?: string): ExternalWorkflowHandle {
  runtime('getExternalWorkflowHandle');
  if (typeof workflowId !== 'string' || workflowId.length === 0) {
    throw new TypeError(`Invalid workflowId: ${JSON.stringify(workflowId)} (a non-empty string)`);
  }
  if (runId !== undefined && (typeof runId !== 'string' || runId.length === 0)) {
    throw new TypeError(`Invalid runId: ${JSON.stringify(runId)} (a non-empty string, or undefined for the current run)`);
  }
  return {
    workflowId,
    runId,
    signal: (signal: string | ((...args: any[]) => unknown), ...args: unknown[]): Promise<void> =>
      signalExternal(workflowId, runId, messageName('signal', signal), args, false),
    cancel: (): Promise<void> => runtime('cancel').cancelExternal({ workflowId, runId: runId ?? '' }),
  };
}

/**
 * Signals another run, or a child through its handle (`childWorkflowOnly`), through the workflow
 * interceptors' `signalExternalWorkflow`.
 */
function signalExternal(workflowId: string, runId: string | undefined, signalName: string, args: unknown[], childWorkflowOnly: boolean): Promise<void> {
  const rt = runtime('signal');
  const intercepted = composeInterceptors<ExternalWorkflowSignalInput, Promise<void>>(
    rt.interceptors,
    (interceptor: WorkflowInterceptor) => interceptor.signalExternalWorkflow,
    (input) =>
      rt.signalExternal(
        { workflowId: input.workflowId, runId: input.runId ?? '' },
        input.signalName,
        [...input.args],
        input.childWorkflowOnly,
        input.headers,
      ),
  );
  return intercepted({ workflowId, runId, signalName, args, childWorkflowOnly, headers: {}, workflowHeaders: rt.headers });
}

/**
 * Temporal's patching, to change workflow code while runs started on the old code still run:
 * `if (workflow.patched('my-change')) { new code } else { old code }`. A run that is not
 * replaying takes the new branch and records a `MarkerRecorded` marker (`core_patch`) the first
 * time; a replayed run takes the new branch only if its history has that marker where the call
 * is replayed, so runs that started on the old code keep the old branch. The first answer for a
 * patch id holds for the rest of the run. Once no run on the old code is left, replace the call
 * by {@link deprecatePatch}, then remove it.
 * @throws TypeError for an empty or non-string `patchId`
 */
export function patched(patchId: string): boolean {
  const rt = runtime('patched');
  return rt.patch(checkPatchId(patchId), false);
}

/**
 * Marks a patch deprecated, once every run that could take its old branch has closed: the code
 * keeps only the new branch, and runs that recorded the `patched` marker still replay. Records
 * the marker with `deprecated: true` (when not replaying), so the call can later be removed.
 * @throws TypeError for an empty or non-string `patchId`
 */
export function deprecatePatch(patchId: string): void {
  const rt = runtime('deprecatePatch');
  rt.patch(checkPatchId(patchId), true);
}

function checkPatchId(patchId: unknown): string {
  if (typeof patchId !== 'string' || patchId.length === 0) throw new TypeError(`Invalid patch id: ${JSON.stringify(patchId)} (a non-empty string)`);
  return patchId;
}

/**
 * Starts a child workflow and resolves to its {@link ChildWorkflowHandle} once the child has
 * started (`ChildWorkflowExecutionStarted`). `startChildWorkflow(Workflow, arg, options)` passes
 * one argument; `startChildWorkflow(Workflow, { args, ... })` zero or several. `workflow` is a
 * `@WorkflowDefn` class or a workflow type name. The child runs on its own (any shard, any worker
 * of its task queue); by default it is terminated when this workflow closes (`parentClosePolicy`).
 * Rejects with `WorkflowAlreadyStartedError` (`Workflow execution already started`) when the
 * child's id is taken: a run of it is running, or its `idReusePolicy` refuses the closed one.
 * @throws TypeError (failing the workflow task) for bad options, naming the bad value
 */
export function startChildWorkflow<C extends WorkflowClass>(workflow: C, arg: WorkflowArgs<C>[0], options: ChildWorkflowOptions): Promise<ChildWorkflowHandle<WorkflowResult<C>>>;
export function startChildWorkflow<C extends WorkflowClass>(workflow: C, options?: ChildWorkflowOptionsWithArgs<WorkflowArgs<C>>): Promise<ChildWorkflowHandle<WorkflowResult<C>>>;
export function startChildWorkflow<R = unknown>(workflow: string, arg: unknown, options: ChildWorkflowOptions): Promise<ChildWorkflowHandle<R>>;
export function startChildWorkflow<R = unknown>(workflow: string, options?: ChildWorkflowOptionsWithArgs): Promise<ChildWorkflowHandle<R>>;
export function startChildWorkflow(workflow: unknown, ...rest: unknown[]): Promise<ChildWorkflowHandle<unknown>> {
  const rt = runtime('startChildWorkflow');
  let workflowType: string;
  let resultType: Function | undefined;
  if (typeof workflow === 'string') {
    if (workflow.length === 0) throw new TypeError('Child workflow type must not be empty');
    workflowType = workflow;
  } else {
    const definition = requireWorkflowDefinition(workflow);
    workflowType = definition.name;
    resultType = definition.resultType;
  }
  let args: unknown[];
  let options: ChildWorkflowOptionsWithArgs;
  if (rest.length >= 2) {
    options = rest[1] as ChildWorkflowOptionsWithArgs;
    if (options && typeof options === 'object' && options.args !== undefined) {
      throw new TypeError('Cannot pass both an argument and options.args to a child workflow');
    }
    args = [rest[0]];
  } else {
    options = (rest[0] ?? {}) as ChildWorkflowOptionsWithArgs;
    args = options && typeof options === 'object' && options.args !== undefined ? options.args : [];
    if (!Array.isArray(args)) throw new TypeError(`options.args must be an array, got ${JSON.stringify(args)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Child workflow options must be an object, got ${JSON.stringify(options)}`);
  }
  const { args: _args, ...childOptions } = options;
  const start = composeInterceptors<ChildWorkflowStartInput, Promise<ChildWorkflowHandle<unknown>>>(
    rt.interceptors,
    (interceptor: WorkflowInterceptor) => interceptor.startChildWorkflow,
    (input) => {
      const { slot, started, result } = rt.startChild(input.workflowType, [...input.args], { ...input.options }, resultType, input.headers);
      const handle: ChildWorkflowHandle<unknown> = {
        workflowId: slot.workflowId,
        get firstExecutionRunId(): string {
          return slot.runId ?? '';
        },
        result: () => result,
        signal: (signal: string | ((...a: any[]) => unknown), ...signalArgs: unknown[]): Promise<void> =>
          signalExternal(slot.workflowId, undefined, messageName('signal', signal), signalArgs, true),
        cancel: () => runtime('cancel').cancelChild(slot),
      };
      return started.then(() => handle);
    },
  );
  // By default a child carries the workflow's start headers, as an activity does.
  return start({ workflowType, args, options: childOptions, headers: { ...rt.headers }, workflowHeaders: rt.headers });
}

/**
 * Starts a child workflow and waits for its result: `startChildWorkflow` then `result()`. Rejects
 * with a `ChildWorkflowError` when the child fails, times out, is cancelled or terminated (its
 * `cause` says why), and with `WorkflowAlreadyStartedError` when its id is taken.
 *
 * ```ts
 * const shipped = await workflow.executeChildWorkflow(Shipping, order, { id: `ship-${order.id}` });
 * ```
 */
export function executeChildWorkflow<C extends WorkflowClass>(workflow: C, arg: WorkflowArgs<C>[0], options: ChildWorkflowOptions): Promise<WorkflowResult<C>>;
export function executeChildWorkflow<C extends WorkflowClass>(workflow: C, options?: ChildWorkflowOptionsWithArgs<WorkflowArgs<C>>): Promise<WorkflowResult<C>>;
export function executeChildWorkflow<R = unknown>(workflow: string, arg: unknown, options: ChildWorkflowOptions): Promise<R>;
export function executeChildWorkflow<R = unknown>(workflow: string, options?: ChildWorkflowOptionsWithArgs): Promise<R>;
export function executeChildWorkflow(workflow: unknown, ...rest: unknown[]): Promise<unknown> {
  const start = startChildWorkflow as (workflow: unknown, ...rest: unknown[]) => Promise<ChildWorkflowHandle<unknown>>;
  return start(workflow, ...rest).then((handle) => handle.result());
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

/**
 * Ends this run and starts a new run of the same workflow id with `args` (Temporal's
 * `continueAsNew`), atomically: the id is never free. The new run keeps the workflow type, task
 * queue, timeouts, memo and retry policy; its history starts afresh. Call it from the run method
 * (it throws {@link ContinueAsNewError}, which must not be caught), typically when
 * `workflow.info().continueAsNewSuggested` turns true. Signals that arrive while the run continues
 * as new are delivered to this run first (its workflow task runs again).
 * @throws IllegalStateError outside workflow code
 */
export function continueAsNew(...args: unknown[]): never {
  const rt = runtime('continueAsNew');
  return continueAsNewThrough(rt, { workflowType: rt.info.workflowType, args, options: {} });
}

/**
 * A function that continues as new as a run of `workflow` (a `@WorkflowDefn` class, or a workflow
 * type name) with `options` changed; called with the next run's arguments, it throws like
 * {@link continueAsNew}.
 * @throws TypeError for an unknown option or a bad value, naming it
 */
export function makeContinueAsNewFunction<A extends unknown[] = unknown[]>(
  workflow: (new () => object) | string,
  options: ContinueAsNewOptions = {},
): (...args: A) => never {
  const workflowType = typeof workflow === 'string' ? workflow : requireWorkflowDefinition(workflow).name;
  if (workflowType === '') throw new TypeError('Workflow type must not be empty');
  checkContinueAsNewOptions(options);
  return (...args: A): never => continueAsNewThrough(runtime('continueAsNew'), { workflowType, args, options });
}

/**
 * Throws the ContinueAsNewError of a continue-as-new, through the workflow interceptors'
 * `continueAsNew`. The next run gets no headers unless an interceptor adds them (Temporal's rule).
 */
function continueAsNewThrough(rt: WorkflowRuntime, request: Pick<ContinueAsNewInput, 'workflowType' | 'args' | 'options'>): never {
  const intercepted = composeInterceptors<ContinueAsNewInput, never>(
    rt.interceptors,
    (interceptor: WorkflowInterceptor) => interceptor.continueAsNew,
    (input) => {
      throw new ContinueAsNewError({
        workflowType: input.workflowType,
        args: [...input.args],
        ...checkContinueAsNewOptions(input.options),
        headers: input.headers,
      });
    },
  );
  return intercepted({ ...request, headers: {}, workflowHeaders: rt.headers });
}
