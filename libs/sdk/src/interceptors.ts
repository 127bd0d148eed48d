// Interceptors: hooks around starting and signalling a workflow (client), the commands of workflow
// code (scheduling an activity or a local activity, starting a child, continuing as new,
// signalling another run) and running an activity (worker), with headers that travel in history
// alongside the input, as Temporal's do. OpenTelemetry trace propagation
// (`@durabull/opentelemetry`) is built on them.

import type { ActivityInfo } from './activity/context';
import type { Headers } from './headers';
import type { ChildWorkflowHandle, ChildWorkflowOptions } from './workflow/children';
import type { ContinueAsNewOptions } from './workflow/continue-as-new';
import type { ActivityHandle } from './workflow/types';

export { headerAttribute, headersOf } from './headers';
export type { Headers } from './headers';

/** What a {@link ClientInterceptor} sees of a workflow start. */
export interface WorkflowStartInput {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly taskQueue: string;
  /** The workflow's arguments. */
  readonly args: readonly unknown[];
  /** Headers to record in `WorkflowExecutionStarted`; add fields to propagate context. */
  headers: Headers;
}

/** What a {@link ClientInterceptor} sees of a signal being sent. */
export interface WorkflowSignalInput {
  readonly workflowId: string;
  /** The run the handle names; undefined for the workflow id's current run. */
  readonly runId: string | undefined;
  readonly signalName: string;
  /** The signal's arguments. */
  readonly args: readonly unknown[];
  /** Headers to record in `WorkflowExecutionSignaled`; add fields to propagate context. */
  headers: Headers;
}

/** Client-side hooks; pass them as `Client.connect({ interceptors })`. */
export interface ClientInterceptor {
  /**
   * Wraps `startWorkflow` (and `executeWorkflow`): call `next(input)` to start the run; it
   * resolves to the run id. A signal-with-start records these headers on its start signal too.
   */
  startWorkflow?(input: WorkflowStartInput, next: (input: WorkflowStartInput) => Promise<string>): Promise<string>;
  /** Wraps `handle.signal`: call `next(input)` to send the signal. */
  signalWorkflow?(input: WorkflowSignalInput, next: (input: WorkflowSignalInput) => Promise<void>): Promise<void>;
}

/** What a {@link WorkflowInterceptor} sees of an activity, or a local activity, being scheduled. */
export interface ActivityScheduleInput {
  readonly activityType: string;
  /** The activity's arguments. */
  readonly args: readonly unknown[];
  /**
   * Headers to record in `ActivityTaskScheduled` (a local activity's go to the activity
   * interceptors' `execute` input in the worker, without being recorded). They start as a copy
   * of the workflow's start headers, so context a client put there reaches every activity
   * without any interceptor.
   */
  headers: Headers;
  /** The workflow's start headers (`WorkflowExecutionStarted`'s `header.fields`). */
  readonly workflowHeaders: Readonly<Headers>;
}

/** What a {@link WorkflowInterceptor} sees of a child workflow being started. */
export interface ChildWorkflowStartInput {
  readonly workflowType: string;
  /** The child's arguments. */
  readonly args: readonly unknown[];
  /** The child's options, as given (without `args`). */
  readonly options: Readonly<ChildWorkflowOptions>;
  /**
   * Headers to record in `StartChildWorkflowExecutionInitiated`, which become the child's start
   * headers (its `WorkflowExecutionStarted`'s `header.fields`). They start as a copy of the
   * workflow's start headers.
   */
  headers: Headers;
  /** The workflow's start headers. */
  readonly workflowHeaders: Readonly<Headers>;
}

/** What a {@link WorkflowInterceptor} sees of a continue-as-new. */
export interface ContinueAsNewInput {
  /** The next run's workflow type. */
  readonly workflowType: string;
  /** The next run's arguments. */
  readonly args: readonly unknown[];
  /** What the next run changes (`makeContinueAsNewFunction`'s options; empty for `continueAsNew`). */
  readonly options: Readonly<ContinueAsNewOptions>;
  /**
   * Headers of the next run's `WorkflowExecutionStarted` (recorded in
   * `WorkflowExecutionContinuedAsNew` too). They start empty: as in Temporal, a run's headers
   * are not carried over unless an interceptor copies them from `workflowHeaders`.
   */
  headers: Headers;
  /** The workflow's start headers. */
  readonly workflowHeaders: Readonly<Headers>;
}

/** What a {@link WorkflowInterceptor} sees of a signal to another run. */
export interface ExternalWorkflowSignalInput {
  readonly workflowId: string;
  /** The run the handle names; undefined for the workflow id's current run. */
  readonly runId: string | undefined;
  readonly signalName: string;
  /** The signal's arguments. */
  readonly args: readonly unknown[];
  /** Whether the signal goes through a child's handle (the events' `childWorkflowOnly`). */
  readonly childWorkflowOnly: boolean;
  /**
   * Headers to record in `SignalExternalWorkflowExecutionInitiated` and in the other run's
   * `WorkflowExecutionSignaled`. They start empty, as a client's signal headers do.
   */
  headers: Headers;
  /** The workflow's start headers. */
  readonly workflowHeaders: Readonly<Headers>;
}

/**
 * Hooks inside workflow code (Temporal's outbound workflow interceptors); pass them as the worker
 * option `interceptors.workflow`. They run as workflow code does, on every replay too, so they
 * must be deterministic: no I/O, no clock, no randomness, no spans. Replay does not compare the
 * headers they set.
 */
export interface WorkflowInterceptor {
  /**
   * Wraps `workflow.startActivity` (and `executeActivity`): call `next(input)` synchronously to
   * schedule the activity and return its handle.
   */
  scheduleActivity?(input: ActivityScheduleInput, next: (input: ActivityScheduleInput) => ActivityHandle<unknown>): ActivityHandle<unknown>;
  /**
   * Wraps `workflow.startLocalActivity` (and `executeLocalActivity`): call `next(input)`
   * synchronously to schedule the local activity and return its handle.
   */
  scheduleLocalActivity?(input: ActivityScheduleInput, next: (input: ActivityScheduleInput) => ActivityHandle<unknown>): ActivityHandle<unknown>;
  /**
   * Wraps `workflow.startChildWorkflow` (and `executeChildWorkflow`): call `next(input)` to
   * record the child's start; it resolves to the child's handle once the child has started.
   */
  startChildWorkflow?(
    input: ChildWorkflowStartInput,
    next: (input: ChildWorkflowStartInput) => Promise<ChildWorkflowHandle<unknown>>,
  ): Promise<ChildWorkflowHandle<unknown>>;
  /**
   * Wraps `workflow.continueAsNew` and the functions of `makeContinueAsNewFunction`: call
   * `next(input)`, which throws the `ContinueAsNewError` that ends the run (let it through).
   */
  continueAsNew?(input: ContinueAsNewInput, next: (input: ContinueAsNewInput) => never): never;
  /**
   * Wraps the `signal` of an external workflow handle (`workflow.getExternalWorkflowHandle`) and
   * of a child's handle: call `next(input)` to record the signal; it resolves once the other run
   * recorded it.
   */
  signalExternalWorkflow?(input: ExternalWorkflowSignalInput, next: (input: ExternalWorkflowSignalInput) => Promise<void>): Promise<void>;
}

/** The hooks of {@link WorkflowInterceptor}, as the worker checks them. */
export const WORKFLOW_INTERCEPTOR_HOOKS = [
  'scheduleActivity',
  'scheduleLocalActivity',
  'startChildWorkflow',
  'continueAsNew',
  'signalExternalWorkflow',
] as const satisfies ReadonlyArray<keyof WorkflowInterceptor>;

/** What an {@link ActivityInterceptor} sees of an activity attempt about to run. */
export interface ActivityExecuteInput {
  /** The attempt's facts, as `activity.info()` returns them. */
  readonly info: ActivityInfo;
  /** The activity's arguments, decoded and validated. */
  readonly args: readonly unknown[];
  /** The headers recorded in the activity's `ActivityTaskScheduled`. */
  readonly headers: Readonly<Headers>;
}

/**
 * Hooks around each activity attempt; pass them as the worker option `interceptors.activity`.
 * They run inside the activity's context (`activity.info()`, `activity.heartbeat()` work).
 */
export interface ActivityInterceptor {
  /** Wraps the activity's invocation: call `next(input)` to run it; it resolves to its result. */
  execute?(input: ActivityExecuteInput, next: (input: ActivityExecuteInput) => Promise<unknown>): Promise<unknown>;
}

/** The interceptors of a worker (the worker option `interceptors`). */
export interface WorkerInterceptors {
  /**
   * Hooks around the commands of workflow code (activities, local activities, children,
   * continue-as-new, signals to other runs), inside it (deterministic). The first wraps the
   * others. @default none
   */
  workflow?: WorkflowInterceptor[];
  /** Hooks around running activities. The first wraps the others. @default none */
  activity?: ActivityInterceptor[];
}

/**
 * Chains interceptors around `base`: the first interceptor is the outermost. `pick` returns an
 * interceptor's hook bound to it, or undefined when it has none.
 */
export function composeInterceptors<I, O>(
  interceptors: readonly unknown[] | undefined,
  pick: (interceptor: any) => ((input: I, next: (input: I) => O) => O) | undefined,
  base: (input: I) => O,
): (input: I) => O {
  let next = base;
  for (let i = (interceptors?.length ?? 0) - 1; i >= 0; i--) {
    const interceptor = interceptors![i];
    const hook = pick(interceptor);
    if (!hook) continue;
    const inner = next;
    next = (input: I) => hook.call(interceptor, input, inner);
  }
  return next;
}

/** Checks a list of interceptors given as an option. */
export function checkInterceptors(name: string, value: unknown, hooks: readonly string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw new TypeError(`Invalid ${name}: ${describe(value)} (an array of interceptors)`);
  value.forEach((interceptor, i) => {
    if (typeof interceptor !== 'object' || interceptor === null) {
      throw new TypeError(`Invalid ${name}[${i}]: ${describe(interceptor)} (an object with ${hooks.join(' or ')})`);
    }
    for (const hook of hooks) {
      const fn = (interceptor as Record<string, unknown>)[hook];
      if (fn !== undefined && typeof fn !== 'function') {
        throw new TypeError(`Invalid ${name}[${i}].${hook}: ${describe(fn)} (a function)`);
      }
    }
  });
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
