// Public types of workflow code, with no imports of the runtime: `interceptors.ts`, `api.ts` and
// the runtime all depend on this file, and it on none of them (no import cycle).

/** What `workflow.info()` returns. */
export interface WorkflowInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  namespace: string;
  /**
   * Attempt of the run: 1, or one more for each retry under the workflow's `retryPolicy` (a run
   * after continue-as-new or a cron run starts at 1 again).
   */
  attempt: number;
  /** The run this one continues (continue-as-new, a retry or a cron run); undefined for a chain's first run. */
  continuedRunId?: string;
  /** The first run of the chain this run belongs to (its own id for a first run). */
  firstExecutionRunId: string;
  /** The workflow's cron schedule (the start option `cronSchedule`), if it has one. */
  cronSchedule?: string;
  /** A child workflow's parent run (every run of the child's chain has it); undefined for a workflow without a parent. */
  parent?: { workflowId: string; runId: string; namespace: string };
  startTime: Date;
  /** Run timeout in ms (0 = none). */
  runTimeout: number;
  /** Execution timeout in ms (0 = none). */
  executionTimeout: number;
  /** Workflow task timeout in ms. */
  taskTimeout: number;
  /** Number of events in the history the code has seen so far. */
  historyLength: number;
  /** Size in bytes of those events' attributes (JSON, as the code sees them: payloads decoded). */
  historySize: number;
  /**
   * True once the history is long enough that the workflow should continue as new (Temporal's
   * thresholds: 4,096 events or 4 MiB). Durabull refuses to grow a history past its namespace's
   * limits (51,200 events or 50 MiB by default).
   */
  continueAsNewSuggested: boolean;
}

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
