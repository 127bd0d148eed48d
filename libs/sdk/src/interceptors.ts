// Interceptors: hooks around starting a workflow (client), scheduling an activity (workflow code)
// and running an activity (worker), with headers that travel in history alongside the input, as
// Temporal's do. OpenTelemetry trace propagation (`@durabull/opentelemetry`) is built on them.

import type { Payload } from '@durabull/common';
import type { ActivityInfo } from './activity/context';
import type { ActivityHandle } from './workflow/api';

/**
 * Headers: named payloads that travel with a workflow start (`WorkflowExecutionStarted`
 * attribute `header.fields`) and with each activity (`ActivityTaskScheduled` attribute
 * `header.fields`). They are written as given: payload codecs do not apply to them.
 */
export type Headers = Record<string, Payload>;

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

/** Client-side hooks; pass them as `Client.connect({ interceptors })`. */
export interface ClientInterceptor {
  /**
   * Wraps `startWorkflow` (and `executeWorkflow`): call `next(input)` to start the run; it
   * resolves to the run id.
   */
  startWorkflow?(input: WorkflowStartInput, next: (input: WorkflowStartInput) => Promise<string>): Promise<string>;
}

/** What a {@link WorkflowInterceptor} sees of an activity being scheduled. */
export interface ActivityScheduleInput {
  readonly activityType: string;
  /** The activity's arguments. */
  readonly args: readonly unknown[];
  /**
   * Headers to record in `ActivityTaskScheduled`. They start as a copy of the workflow's start
   * headers, so context a client put there reaches every activity without any interceptor.
   */
  headers: Headers;
  /** The workflow's start headers (`WorkflowExecutionStarted`'s `header.fields`). */
  readonly workflowHeaders: Readonly<Headers>;
}

/**
 * Hooks inside workflow code; pass them as the worker option `interceptors.workflow`. They run
 * as workflow code does, on every replay too, so they must be deterministic: no I/O, no clock,
 * no randomness, no spans.
 */
export interface WorkflowInterceptor {
  /**
   * Wraps `workflow.startActivity` (and `executeActivity`): call `next(input)` synchronously to
   * schedule the activity and return its handle.
   */
  scheduleActivity?(input: ActivityScheduleInput, next: (input: ActivityScheduleInput) => ActivityHandle<unknown>): ActivityHandle<unknown>;
}

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
   * Hooks around scheduling activities, inside workflow code (deterministic). The first wraps
   * the others. @default none
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

/** The `header` attribute of an event: only written when there are fields. */
export function headerAttribute(headers: Headers): { fields: Headers } | undefined {
  return Object.keys(headers).length > 0 ? { fields: headers } : undefined;
}

/** The header fields of an event's attributes (an empty object when it has none). */
export function headersOf(attributes: Record<string, unknown>): Headers {
  const header = attributes['header'] as { fields?: Headers } | undefined;
  return { ...(header?.fields ?? {}) };
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
