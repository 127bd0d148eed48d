// Continue-as-new (TEMPORAL-SEMANTICS §15): the run method ends by throwing ContinueAsNewError
// (workflow.continueAsNew, api.ts), which the runtime turns into the WorkflowExecutionContinuedAsNew command; the engine closes the
// run and starts the next one of the same workflow id in one step (lua/includes/run-start.lua).

import { toMilliseconds } from '@durabull/common';
import type { Duration } from '@durabull/common';
import type { Headers } from '../headers';

/** Options of {@link makeContinueAsNewFunction}: what the next run changes (the rest carries over). */
export interface ContinueAsNewOptions {
  /** Task queue of the next run. @default this run's */
  taskQueue?: string;
  /** Run timeout of the next run. @default this run's */
  runTimeout?: Duration;
  /** Workflow task timeout of the next run. @default this run's */
  taskTimeout?: Duration;
  /** The next run's memo (replaces this run's). @default this run's memo */
  memo?: Record<string, unknown>;
}

/** What a continue-as-new asks for, checked (ms). */
export interface ContinueAsNewRequest {
  /** Workflow type of the next run; undefined for this run's. */
  workflowType?: string;
  args: unknown[];
  taskQueue?: string;
  runTimeout?: number;
  taskTimeout?: number;
  memo?: Record<string, unknown>;
  /** Headers of the next run's start (`WorkflowExecutionStarted`'s `header.fields`). */
  headers?: Headers;
}

const ERROR_BRAND = Symbol.for('durabull.ContinueAsNewError');

/**
 * Thrown by {@link continueAsNew} to end the run method: the run closes with
 * `WorkflowExecutionContinuedAsNew` and the next run starts with `request.args`. Do not catch it
 * (or rethrow it), as Temporal's `ContinueAsNew`.
 */
export class ContinueAsNewError extends Error {
  constructor(readonly request: ContinueAsNewRequest) {
    super('Workflow continued as new');
    this.name = 'ContinueAsNewError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ERROR_BRAND] === true;
  }
}
Object.defineProperty(ContinueAsNewError.prototype, ERROR_BRAND, { value: true });

/** Checks continue-as-new options, naming a bad one. */
export function checkContinueAsNewOptions(options: ContinueAsNewOptions): Omit<ContinueAsNewRequest, 'args' | 'workflowType'> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Continue-as-new options must be an object, got ${JSON.stringify(options)}`);
  const known = new Set(['taskQueue', 'runTimeout', 'taskTimeout', 'memo']);
  const unknown = Object.keys(options).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new TypeError(`Unknown continue-as-new option(s): ${unknown.join(', ')}`);
  if (options.taskQueue !== undefined && (typeof options.taskQueue !== 'string' || options.taskQueue === '')) {
    throw new TypeError(`Invalid taskQueue: ${JSON.stringify(options.taskQueue)} (a non-empty string)`);
  }
  const memo = options.memo;
  if (memo !== undefined && (typeof memo !== 'object' || memo === null || Array.isArray(memo))) {
    throw new TypeError(`Invalid memo: ${JSON.stringify(memo)} (an object of values by key)`);
  }
  const runTimeout = options.runTimeout === undefined ? undefined : toMilliseconds(options.runTimeout, 'runTimeout');
  const taskTimeout = options.taskTimeout === undefined ? undefined : toMilliseconds(options.taskTimeout, 'taskTimeout');
  if (taskTimeout === 0) throw new TypeError('Invalid taskTimeout: 0 (a workflow task needs time to run)');
  return { taskQueue: options.taskQueue, runTimeout, taskTimeout, memo };
}
