// Child workflows in the workflow runtime (TEMPORAL-SEMANTICS §13): the options of
// `workflow.startChildWorkflow`, the state of each child from its command to its close event
// (a ChildSlot), what each child event does to it, cancellation by type, and the handle.

import {
  CancelledError,
  ChildWorkflowCancellationType,
  ChildWorkflowError,
  ParentClosePolicy,
  RetryState,
  TerminatedError,
  TimeoutError,
  TimeoutType,
  WorkflowAlreadyStartedError,
  WorkflowIdReusePolicy,
  compileRetryPolicy,
  optionalMilliseconds,
  validateValue,
} from '@durabull/common';
import type {
  CompiledRetryPolicy,
  Duration,
  FailureConverter,
  Payload,
  PayloadConverter,
  RetryPolicy,
  WorkflowExecution,
} from '@durabull/common';
import { headerAttribute } from '../headers';
import type { Headers } from '../headers';

/** Options of `workflow.startChildWorkflow` / `executeChildWorkflow`. */
export interface ChildWorkflowOptions {
  /**
   * The child's workflow id. @default derived from the parent's run id and the child's sequence
   * number in the run (`<parentRunId>-child-<n>`), the same on replay
   */
  id?: string;
  /** The child's task queue. @default the parent's */
  taskQueue?: string;
  /** Maximum time of the child's whole chain of runs. @default unlimited */
  executionTimeout?: Duration;
  /** Maximum time of one run of the child. @default the execution timeout (unlimited) */
  runTimeout?: Duration;
  /** Maximum time of one workflow task of the child. @default 10 s */
  taskTimeout?: Duration;
  /** Retries of the child run that fails (recorded in its start). @default none */
  retryPolicy?: RetryPolicy;
  /** What the child's id may follow (its closed runs). @default ALLOW_DUPLICATE */
  idReusePolicy?: WorkflowIdReusePolicy;
  /** The child's memo (not inherited from the parent). @default none */
  memo?: Record<string, unknown>;
  /** What the parent's close does to the child while it runs. @default TERMINATE */
  parentClosePolicy?: ParentClosePolicy;
  /**
   * What cancelling the child from the parent waits for: its close (WAIT_CANCELLATION_COMPLETED),
   * the child's record of the request (WAIT_CANCELLATION_REQUESTED), nothing (TRY_CANCEL), or no
   * request at all (ABANDON). @default WAIT_CANCELLATION_COMPLETED
   */
  cancellationType?: ChildWorkflowCancellationType;
}

/** {@link ChildWorkflowOptions} with the child's arguments. */
export interface ChildWorkflowOptionsWithArgs<A extends unknown[] = unknown[]> extends ChildWorkflowOptions {
  /** The child's arguments. @default [] */
  args?: A;
}

/** The options in force, as the command records them. */
export interface NormalizedChildOptions {
  workflowId: string;
  taskQueue: string;
  executionTimeout: number;
  /** The run timeout in effect (the shorter of run and execution timeouts), 0 for none. */
  runTimeout: number;
  taskTimeout: number;
  retryPolicy?: CompiledRetryPolicy;
  idReusePolicy: WorkflowIdReusePolicy;
  memo?: Record<string, unknown>;
  parentClosePolicy: ParentClosePolicy;
  cancellationType: ChildWorkflowCancellationType;
}

const CHILD_OPTIONS = new Set([
  'id', 'taskQueue', 'executionTimeout', 'runTimeout', 'taskTimeout', 'retryPolicy', 'idReusePolicy', 'memo',
  'parentClosePolicy', 'cancellationType', 'args',
]);

function enumValue<E extends Record<string, string>>(values: E, value: unknown, name: string, fallback: E[keyof E]): E[keyof E] {
  if (value === undefined) return fallback;
  if (!Object.values(values).includes(value as string)) {
    throw new TypeError(`Invalid ${name}: ${JSON.stringify(value)} (one of ${Object.values(values).join(', ')})`);
  }
  return value as E[keyof E];
}

/**
 * Checks the options of a child (a TypeError naming the bad value fails the workflow task) and
 * fills in the defaults.
 */
export function normalizeChildOptions(
  options: ChildWorkflowOptions,
  defaults: { workflowId: string; taskQueue: string },
): NormalizedChildOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Child workflow options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (!CHILD_OPTIONS.has(key)) throw new TypeError(`Unknown child workflow option: ${JSON.stringify(key)}`);
  }
  const workflowId = options.id ?? defaults.workflowId;
  if (typeof workflowId !== 'string' || workflowId.length === 0) throw new TypeError(`Invalid id: ${JSON.stringify(options.id)} (a non-empty string)`);
  const taskQueue = options.taskQueue ?? defaults.taskQueue;
  if (typeof taskQueue !== 'string' || taskQueue.length === 0) {
    throw new TypeError(`Invalid taskQueue: ${JSON.stringify(options.taskQueue)} (a non-empty string)`);
  }
  const executionTimeout = optionalMilliseconds(options.executionTimeout, 'executionTimeout') ?? 0;
  const runTimeout = optionalMilliseconds(options.runTimeout, 'runTimeout') ?? executionTimeout;
  const effectiveRunTimeout = executionTimeout > 0 && (runTimeout === 0 || executionTimeout < runTimeout) ? executionTimeout : runTimeout;
  const taskTimeout = optionalMilliseconds(options.taskTimeout, 'taskTimeout') ?? 10_000;
  if (taskTimeout === 0) throw new TypeError('Invalid taskTimeout: 0 (a workflow task needs time to run)');
  const memo = options.memo;
  if (memo !== undefined && (typeof memo !== 'object' || memo === null || Array.isArray(memo))) {
    throw new TypeError(`Invalid memo: ${JSON.stringify(memo)} (an object of values by key)`);
  }
  return {
    workflowId,
    taskQueue,
    executionTimeout,
    runTimeout: effectiveRunTimeout,
    taskTimeout: Math.min(taskTimeout, effectiveRunTimeout || taskTimeout),
    ...(options.retryPolicy === undefined ? {} : { retryPolicy: compileRetryPolicy(options.retryPolicy) }),
    idReusePolicy: enumValue(WorkflowIdReusePolicy, options.idReusePolicy, 'idReusePolicy', WorkflowIdReusePolicy.ALLOW_DUPLICATE),
    ...(memo === undefined ? {} : { memo }),
    parentClosePolicy: enumValue(ParentClosePolicy, options.parentClosePolicy, 'parentClosePolicy', ParentClosePolicy.TERMINATE),
    cancellationType: enumValue(
      ChildWorkflowCancellationType,
      options.cancellationType,
      'cancellationType',
      ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    ),
  };
}

/** A child of the run, from its start command until its result promise settles. */
export interface ChildSlot {
  seq: number;
  workflowId: string;
  workflowType: string;
  cancellationType: ChildWorkflowCancellationType;
  resultType?: Function;
  /** Event id of its StartChildWorkflowExecutionInitiated, once matched. */
  initiatedEventId?: number;
  /** Event id of its ChildWorkflowExecutionStarted, and the child's run id, once started. */
  startedEventId?: number;
  runId?: string;
  /** Whether the start settled (started, failed or cancelled). */
  startSettled: boolean;
  /** Whether the result settled. */
  settled: boolean;
  /** Cancellation was asked for: the cancel request goes out once the child has started. */
  cancelRequested: boolean;
  /** The cancel request was sent. */
  cancelSent?: boolean;
  resolveStart(): void;
  rejectStart(error: unknown): void;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The start command of a child, as recorded. */
export interface StartChildCommand {
  kind: 'startChildWorkflow';
  slot: ChildSlot;
  input: Payload[];
  options: NormalizedChildOptions;
  memo?: Record<string, Payload>;
  headers: Headers;
}

/** The StartChildWorkflowExecutionInitiated attributes and the engine's meta of a start command. */
export function startChildRecord({ slot, input, options: o, memo, headers }: StartChildCommand, workflowTaskCompletedEventId: number) {
  return {
    attributes: {
      workflowId: slot.workflowId,
      workflowType: slot.workflowType,
      taskQueue: o.taskQueue,
      input,
      workflowExecutionTimeout: o.executionTimeout,
      workflowRunTimeout: o.runTimeout,
      workflowTaskTimeout: o.taskTimeout,
      parentClosePolicy: o.parentClosePolicy,
      workflowTaskCompletedEventId,
      workflowIdReusePolicy: o.idReusePolicy,
      ...(o.retryPolicy ? { retryPolicy: o.retryPolicy } : {}),
      header: headerAttribute(headers),
      ...(memo ? { memo: { fields: memo } } : {}),
    },
    meta: { wid: slot.workflowId, type: slot.workflowType, pcp: o.parentClosePolicy },
  };
}

/** The close events of a child, by what the parent's code gets. */
export type ChildOutcome =
  | { kind: 'completed'; result: Payload[] }
  | { kind: 'failed'; failure: Parameters<FailureConverter['failureToError']>[0]; retryState: RetryState }
  | { kind: 'timedOut'; retryState: RetryState }
  | { kind: 'canceled'; details: Payload[] }
  | { kind: 'terminated' };

/** What the child events do to a child: the runtime's part (see activation.ts). */
export class ChildWorkflowEvents {
  constructor(
    private readonly payloads: PayloadConverter,
    private readonly failures: FailureConverter,
    /** Sends the cancel request of a child that started (runtime). */
    private readonly requestCancel: (slot: ChildSlot) => void,
  ) {}

  /** ChildWorkflowExecutionStarted: the start resolves; a cancellation asked meanwhile goes out. */
  started(slot: ChildSlot, startedEventId: number, execution: WorkflowExecution): void {
    slot.startedEventId = startedEventId;
    slot.runId = execution.runId;
    if (!slot.startSettled) {
      slot.startSettled = true;
      slot.resolveStart();
    }
    if (slot.cancelRequested) this.requestCancel(slot);
  }

  /** StartChildWorkflowExecutionFailed: the id is taken. */
  startFailed(slot: ChildSlot): void {
    const error = new WorkflowAlreadyStartedError(slot.workflowId, slot.workflowType, undefined, 'Workflow execution already started');
    if (!slot.startSettled) {
      slot.startSettled = true;
      slot.rejectStart(error);
    }
    if (!slot.settled) {
      slot.settled = true;
      slot.reject(error);
    }
  }

  /** A close event of the child: the result settles (unless the code gave up on it, TRY_CANCEL or ABANDON). */
  closed(slot: ChildSlot, outcome: ChildOutcome, runId: string): void {
    if (slot.settled) return;
    slot.settled = true;
    if (outcome.kind === 'completed') {
      try {
        const [payload] = outcome.result;
        const value = payload ? this.payloads.fromPayload(payload, slot.resultType) : undefined;
        validateValue(value, slot.resultType, `${slot.workflowType} result`);
        slot.resolve(value);
      } catch (error) {
        slot.reject(error);
      }
      return;
    }
    slot.reject(this.error(slot, outcome, runId));
  }

  /** The ChildWorkflowError of a child that did not complete (TEMPORAL-SEMANTICS §13.2). */
  private error(slot: ChildSlot, outcome: Exclude<ChildOutcome, { kind: 'completed' }>, runId: string): ChildWorkflowError {
    const fields = {
      workflowId: slot.workflowId,
      runId,
      workflowType: slot.workflowType,
      initiatedEventId: slot.initiatedEventId ?? 0,
      startedEventId: slot.startedEventId ?? 0,
    };
    switch (outcome.kind) {
      case 'failed':
        return new ChildWorkflowError('Child Workflow execution failed', {
          ...fields,
          retryState: outcome.retryState,
          cause: this.failures.failureToError(outcome.failure),
        });
      case 'timedOut':
        return new ChildWorkflowError('Child Workflow execution timed out', {
          ...fields,
          retryState: outcome.retryState,
          cause: new TimeoutError('Timed out', { type: TimeoutType.START_TO_CLOSE }),
        });
      case 'canceled':
        return cancelledChildError(slot, this.payloads.fromPayloads(outcome.details), runId);
      case 'terminated':
        return new ChildWorkflowError('Child Workflow execution terminated', {
          ...fields,
          retryState: RetryState.NON_RETRYABLE_FAILURE,
          cause: new TerminatedError('Terminated'),
        });
    }
  }
}

/** The error of a cancelled child: `Child Workflow execution cancelled`, its cause a CancelledError. */
export function cancelledChildError(slot: ChildSlot, details: unknown[] = [], runId = slot.runId ?? ''): ChildWorkflowError {
  return new ChildWorkflowError('Child Workflow execution cancelled', {
    workflowId: slot.workflowId,
    runId,
    workflowType: slot.workflowType,
    initiatedEventId: slot.initiatedEventId ?? 0,
    startedEventId: slot.startedEventId ?? 0,
    retryState: RetryState.NON_RETRYABLE_FAILURE,
    cause: new CancelledError('Cancelled', details),
  });
}

/**
 * A child workflow, from `workflow.startChildWorkflow` (which resolves to it once the child has
 * started).
 */
export interface ChildWorkflowHandle<R = unknown> {
  /** The child's workflow id. */
  readonly workflowId: string;
  /** The child's first run id (the one its parent started). */
  readonly firstExecutionRunId: string;
  /**
   * The child's result, once its chain of runs completes. Rejects with a `ChildWorkflowError`
   * (`Child Workflow execution failed` / `... timed out` / `... cancelled` / `... terminated`)
   * whose `cause` is the reason.
   */
  result(): Promise<R>;
  /**
   * Signals the child (`SignalExternalWorkflowExecutionInitiated`, then
   * `ExternalWorkflowExecutionSignaled`). `signal` is a `@WorkflowSignal` method or a signal name.
   */
  signal<F extends (...args: any[]) => unknown>(signal: F, ...args: Parameters<F>): Promise<void>;
  signal(signal: string, ...args: unknown[]): Promise<void>;
  /**
   * Cancels the child as its `cancellationType` says: a cancellation request to the child (not for
   * ABANDON), and `result()` rejects with a `ChildWorkflowError` (`Child Workflow execution
   * cancelled`) at once (TRY_CANCEL, ABANDON), once the child recorded the request
   * (WAIT_CANCELLATION_REQUESTED) or once the child has closed (the default,
   * WAIT_CANCELLATION_COMPLETED; a child that completes anyway yields its result). Durabull's
   * addition: Temporal's SDKs cancel a child through the scope or task that awaits it.
   */
  cancel(): void;
}
