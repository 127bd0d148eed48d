import { WORKFLOW_CLOSE_EVENT_TYPES, WorkflowFailureError, WorkflowNotFoundError, WorkflowUpdateStage } from '@durabull/common';
import type { HistoryEvent } from '@durabull/common';
import { historyEventFromStreamEntry, readRunDetails } from '@durabull/engine';
import type { RunRef, StreamEntry } from '@durabull/engine';
import { messageName } from '../definitions/workflow';
import { composeInterceptors } from '../interceptors';
import type { ClientInterceptor, WorkflowSignalInput } from '../interceptors';
import type { HandleClient } from './handle-client';
import { startUpdate } from './update-handle';
import type { ExecuteUpdateOptions, StartUpdateOptions, WorkflowUpdateHandle } from './update-handle';
import { closeOutcome, describeExecution } from './describe';
import type { WorkflowExecutionDetails } from './describe';

export type { HandleClient } from './handle-client';

/** How long one XREAD of followHistory blocks before it checks the run still exists. */
const FOLLOW_BLOCK_MS = 5_000;

/** A workflow execution: wait for its result, inspect it, cancel or terminate it. */
export class WorkflowHandle<R = unknown> {
  constructor(
    /** The client that made this handle. */
    readonly client: HandleClient,
    readonly workflowId: string,
    /** The run this handle is bound to; undefined follows the workflow id's current run. */
    readonly runId: string | undefined,
    private readonly resultType?: Function,
  ) {}

  private async ref(): Promise<RunRef> {
    const runId = this.runId ?? (await this.client.engine.currentRunId(this.workflowId));
    if (!runId) throw new WorkflowNotFoundError(this.workflowId, this.runId);
    return { workflowId: this.workflowId, runId };
  }

  /**
   * Waits for the workflow to close and returns its result. Like Temporal's `follow_runs`, it
   * follows the chain of runs: a run that continued as new, was retried (its `retryPolicy`) or
   * was followed by its next cron run is not the end, the last run's outcome is.
   * @throws WorkflowFailureError (message `Workflow execution failed`) whose `cause` is the
   *   failure (failed), a `CancelledError` (cancelled), a `TerminatedError` (terminated) or a
   *   `TimeoutError` (timed out).
   */
  async result(): Promise<R> {
    return this.client.reachRedis(async () => this.followRuns(await this.ref()));
  }

  /** The outcome of the chain from run `ref` on. */
  private async followRuns(ref: RunRef): Promise<R> {
    const chain = new Set<string>();
    for (;;) {
      chain.add(ref.runId);
      let last: HistoryEvent;
      try {
        last = await this.closeEventOf(ref);
      } catch (error) {
        // A run of the chain deleted meanwhile (its retention passed while later runs went on):
        // the chain goes on with the id's current run when that run is of the same chain.
        const current = error instanceof WorkflowNotFoundError ? await this.currentRunOfChain(ref, chain) : undefined;
        if (!current) throw error;
        ref = { workflowId: ref.workflowId, runId: current };
        continue;
      }
      const next = nextRunOf(last);
      if (!next) return this.outcome(ref, last);
      ref = { workflowId: ref.workflowId, runId: next };
    }
  }

  /**
   * Where a message (signal, update) for run `closed` goes now that `closed` has closed: for a
   * handle of the workflow id, the id's current run; for a handle bound to a run, the running run
   * its chain handed over to (following newExecutionRunId). Undefined when there is none.
   */
  private async messageTarget(closed: RunRef): Promise<RunRef | undefined> {
    const { engine } = this.client;
    if (this.runId === undefined) {
      const current = await engine.currentRunId(this.workflowId);
      return current && current !== closed.runId ? { workflowId: this.workflowId, runId: current } : undefined;
    }
    const chain = new Set<string>();
    for (let ref = closed; ; ) {
      chain.add(ref.runId);
      const last = await engine.lastEvent(ref);
      if (!last) {
        // Deleted by its retention meanwhile: the id's current run, if of the same chain.
        const current = await this.currentRunOfChain(ref, chain);
        return current ? { workflowId: ref.workflowId, runId: current } : undefined;
      }
      if (!WORKFLOW_CLOSE_EVENT_TYPES.has(last.eventType)) return ref === closed ? undefined : ref;
      const next = nextRunOf(last);
      if (!next || chain.has(next)) return undefined;
      ref = { workflowId: ref.workflowId, runId: next };
    }
  }

  /**
   * Sends `request` to the handle's run; when that run has closed (nothing was recorded on it) and
   * handed over to a running run of its chain (see {@link messageTarget}), to that run instead.
   */
  private async onChain(request: (ref: RunRef) => Promise<void>): Promise<void> {
    for (let ref = await this.ref(); ; ) {
      try {
        return await request(ref);
      } catch (error) {
        const next = error instanceof WorkflowNotFoundError ? await this.messageTarget(ref) : undefined;
        if (!next) throw error;
        ref = next;
      }
    }
  }

  /** The workflow id's current run if it continues a chain that holds one of `chain`'s runs. */
  private async currentRunOfChain(ref: RunRef, chain: ReadonlySet<string>): Promise<string | undefined> {
    const { engine } = this.client;
    const current = await engine.currentRunId(ref.workflowId);
    if (!current || chain.has(current)) return undefined;
    const [entry] = (await engine.redis.xrange(engine.keys.run(ref.workflowId, current).history, '1-0', '1-0')) as StreamEntry[];
    const started = entry && (historyEventFromStreamEntry(entry).attributes as { firstExecutionRunId?: string; continuedExecutionRunId?: string });
    if (!started) return undefined;
    return chain.has(started.firstExecutionRunId ?? '') || chain.has(started.continuedExecutionRunId ?? '') ? current : undefined;
  }

  /** Waits for run `ref` to close; its close event (as stored). */
  private async closeEventOf(ref: RunRef): Promise<HistoryEvent> {
    const watch = await this.client.watchClose(ref);
    try {
      // Read after the watch began, so no close slips between the two; a call made while
      // Redis is unreachable fails here at once, while a restart during the wait only delays it.
      let last = await this.client.engine.lastEvent(ref);
      if (!last) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
      if (!WORKFLOW_CLOSE_EVENT_TYPES.has(last.eventType)) {
        last = (await watch.closed) ?? (await this.client.engine.lastEvent(ref));
        // Deleted meanwhile (handle.delete(), or retention after a missed close notification).
        if (!last) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
      }
      return last;
    } finally {
      watch.stop();
    }
  }

  /**
   * The result of a run a close watch reported closed, from the close event it brought or else
   * from history (following the chain, as {@link result}); {@link result} if the run has not
   * closed after all. @internal
   */
  async resultOnceClosed(closeEvent: HistoryEvent | undefined): Promise<R> {
    const ref = { workflowId: this.workflowId, runId: this.runId! };
    const last = closeEvent ?? (await this.client.reachRedis(() => this.client.engine.lastEvent(ref)));
    if (!last || !WORKFLOW_CLOSE_EVENT_TYPES.has(last.eventType)) return this.result();
    const next = nextRunOf(last);
    if (next) return this.client.reachRedis(() => this.followRuns({ workflowId: this.workflowId, runId: next }));
    return this.outcome(ref, last);
  }

  /** The result a close event (as stored: payloads encoded) stands for, or the WorkflowFailureError it raises. */
  private async outcome(ref: RunRef, stored: HistoryEvent): Promise<R> {
    const close = this.client.codecs.empty ? stored : (await this.client.codecs.decodeEvents([stored]))[0]!;
    const outcome = closeOutcome(this.client, close, this.resultType);
    if (!outcome) throw new Error(`Run ${ref.runId} closed without a close event (last event: ${close.eventType})`);
    if ('failure' in outcome) throw new WorkflowFailureError({ cause: outcome.failure, workflowId: ref.workflowId, runId: ref.runId });
    return outcome.result as R;
  }

  /**
   * Status and facts of the run, its memo, a closed run's `result` or `failure`, and a running
   * run's pending activities and children. @throws WorkflowNotFoundError
   */
  async describe(): Promise<WorkflowExecutionDetails> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      const run = await readRunDetails(this.client.engine, ref);
      if (!run) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
      return describeExecution(this.client, run, this.resultType);
    });
  }

  /** The run's history events, oldest first. @throws WorkflowNotFoundError */
  async fetchHistory(): Promise<HistoryEvent[]> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      const events = await this.client.engine.readHistory(ref);
      if (events.length === 0) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
      return events;
    });
  }

  /**
   * The run's history as it grows: the events after `afterEventId` (all, by default), then each
   * new event as it is appended, until the run's close event or until `signal` aborts. Waits on a
   * connection of its own (XREAD BLOCK on the history stream).
   * @throws WorkflowNotFoundError, RedisConnectionError
   */
  async *followHistory(options: { afterEventId?: number; signal?: AbortSignal } = {}): AsyncIterable<HistoryEvent> {
    const { engine, connection } = this.client;
    const ref = await this.client.reachRedis(() => this.ref());
    const key = engine.keys.run(ref.workflowId, ref.runId).history;
    const { signal } = options;
    const reader = connection.duplicate();
    const stop = () => connection.release(reader);
    signal?.addEventListener('abort', stop, { once: true });
    let last = options.afterEventId ?? 0;
    try {
      while (!signal?.aborted) {
        let reply: Array<[string, StreamEntry[]]> | null;
        try {
          reply = (await reader.xread('BLOCK', FOLLOW_BLOCK_MS, 'STREAMS', key, `${last}-0`)) as typeof reply;
        } catch (error) {
          if (signal?.aborted) return;
          throw connection.failure(error);
        }
        if (!reply) {
          // Nothing new for a while: make sure the run still exists (its namespace may be gone).
          if ((await reader.exists(key)) === 0) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
          continue;
        }
        for (const [, entries] of reply) {
          for (const entry of entries) {
            const event = historyEventFromStreamEntry(entry);
            last = event.eventId;
            yield event;
            if (WORKFLOW_CLOSE_EVENT_TYPES.has(event.eventType)) return;
          }
        }
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      stop();
    }
  }

  /**
   * Sends a signal: `WorkflowExecutionSignaled` is recorded and the run's handler for it (its
   * own, else the dynamic one) gets `args` before the run method goes on; a signal without a
   * handler is kept until one is set. `signal` is a `@WorkflowSignal` method
   * (`Cart.prototype.addItem`) or a signal name. Resolves once the signal is recorded, not handled.
   * A handle without a run id signals the workflow id's current run. A run that handed over to
   * the next run of its chain (continue-as-new, a workflow retry, the next cron run) passes the
   * signal on to the chain's running run, as Temporal's handles of a started workflow do.
   * @throws WorkflowNotFoundError when the run does not exist or has closed for good
   */
  signal<F extends (...args: any[]) => unknown>(signal: F, ...args: Parameters<F>): Promise<void>;
  signal(signal: string, ...args: unknown[]): Promise<void>;
  async signal(signal: string | ((...args: any[]) => unknown), ...args: unknown[]): Promise<void> {
    const signalName = messageName('signal', signal);
    const send = composeInterceptors<WorkflowSignalInput, Promise<void>>(
      this.client.interceptors,
      (interceptor: ClientInterceptor) => interceptor.signalWorkflow,
      (input) =>
        this.client.reachRedis(async () => {
          const attributes = await this.client.signalAttributes(input.signalName, input.args, input.headers);
          await this.onChain((ref) => this.client.engine.signalWorkflow(ref, attributes));
        }),
    );
    await send({ workflowId: this.workflowId, runId: this.runId, signalName, args, headers: {} });
  }

  /**
   * Queries the run: a worker calls the run's handler for it (its own, else the dynamic one) with
   * `args`, read-only, on the run's state as of its last completed workflow task (a workflow task
   * in flight is waited for first), and returns its value. Nothing is written to history. The
   * worker that caches the run answers from its cache while it is live; otherwise any worker of
   * the run's task queue answers by replaying its history, so closed runs can be queried too.
   * `query` is a `@WorkflowQuery` method (`Cart.prototype.count`) or a query name.
   * @throws WorkflowQueryFailedError with `reason` `HANDLER_FAILED` (the message is the handler's
   *   error message, `cause` the error), `UNKNOWN_QUERY` (the message names the known queries) or
   *   `TIMEOUT` (no answer within the client's `queryTimeout`)
   * @throws WorkflowNotFoundError when the run does not exist, or closed before its first workflow
   *   task completed (its code never ran)
   */
  query<F extends (...args: any[]) => unknown>(query: F, ...args: Parameters<F>): Promise<ReturnType<F>>;
  query<T = unknown>(query: string, ...args: unknown[]): Promise<T>;
  async query(query: string | ((...args: any[]) => unknown), ...args: unknown[]): Promise<unknown> {
    const queryType = messageName('query', query);
    const ref = await this.client.reachRedis(() => this.ref());
    return this.client.query(ref, queryType, args);
  }

  /**
   * Sends an update and waits for its result: the run's validator for it (if any) runs first and
   * may reject it (nothing is written), then `WorkflowExecutionUpdateAccepted` is recorded, the
   * handler runs, and `WorkflowExecutionUpdateCompleted` records its result or failure. `update`
   * is a `@WorkflowUpdate` method (`Cart.prototype.removeItem`) or an update name. `options.id`
   * (default: a random UUID) deduplicates within the run: a known id gets the first request's
   * outcome and never runs the handler again.
   * @throws WorkflowUpdateFailedError (message `Workflow update failed`) whose `cause` is the
   *   validator's error, the handler's failure, or the `AcceptedUpdateCompletedWorkflow` failure
   *   of an update the run closed before it finished
   * @throws WorkflowNotFoundError when the run does not exist, has closed (and does not know the
   *   id), or closed before any workflow task saw the update
   */
  executeUpdate<F extends (...args: any[]) => unknown>(update: F, options?: ExecuteUpdateOptions<Parameters<F>>): Promise<Awaited<ReturnType<F>>>;
  executeUpdate<R = unknown>(update: string, options?: ExecuteUpdateOptions): Promise<R>;
  async executeUpdate(update: string | ((...args: any[]) => unknown), options: ExecuteUpdateOptions = {}): Promise<unknown> {
    const handle = await this.startUpdate(update as string, { ...options, waitForStage: WorkflowUpdateStage.COMPLETED });
    return handle.result();
  }

  /**
   * Sends an update and returns its {@link WorkflowUpdateHandle} once it reached
   * `options.waitForStage` (`ACCEPTED` or `COMPLETED`); the handle's `result()` waits for the
   * result. Throws as {@link executeUpdate} does, except for the handler's outcome, which
   * `result()` reports.
   * @throws TypeError for `waitForStage` `ADMITTED` (`ADMITTED wait stage not supported`) or
   *   another value that is not a stage
   */
  startUpdate<F extends (...args: any[]) => unknown>(update: F, options: StartUpdateOptions<Parameters<F>>): Promise<WorkflowUpdateHandle<Awaited<ReturnType<F>>>>;
  startUpdate<R = unknown>(update: string, options: StartUpdateOptions): Promise<WorkflowUpdateHandle<R>>;
  async startUpdate(update: string | ((...args: any[]) => unknown), options: StartUpdateOptions): Promise<WorkflowUpdateHandle<unknown>> {
    return startUpdate(this.client, { first: () => this.ref(), after: (closed) => this.messageTarget(closed) }, messageName('update', update), options);
  }

  /**
   * Requests cancellation: the workflow code gets a `CancelledError` where it waits (its
   * activities and timers are cancelled) and may clean up; a run that lets it escape ends
   * `WorkflowExecutionCanceled`. A run that handed over to the next run of its chain
   * (continue-as-new, retry, cron) passes the request on to the chain's running run, as signals.
   * @throws WorkflowNotFoundError when the run does not exist or has closed for good
   */
  async cancel(reason = ''): Promise<void> {
    return this.client.reachRedis(() => this.onChain((ref) => this.client.engine.requestCancelWorkflow(ref, reason, this.client.identity)));
  }

  /**
   * Ends the run at once (`WorkflowExecutionTerminated`); no workflow code runs. A run that
   * handed over to the next run of its chain passes it on to the chain's running run, as signals.
   * @throws WorkflowNotFoundError when the run does not exist or has closed for good
   */
  async terminate(reason = '', ...details: unknown[]): Promise<void> {
    return this.client.reachRedis(async () => {
      const encoded = await this.client.codecs.encode(this.client.payloads.toPayloads(details));
      await this.onChain((ref) => this.client.engine.terminateWorkflow(ref, reason, encoded, this.client.identity));
    });
  }

  /**
   * Deletes the run now: its history, state and index entries, and the workflow id's record when
   * this is its latest run, so that the id can be started again whatever the reuse policy. A
   * running run is terminated first (reason `Delete workflow execution`; its waiters see the
   * termination, its activities are told to stop). Afterwards `describe()`, `result()` and
   * `fetchHistory()` throw `WorkflowNotFoundError`.
   * @throws WorkflowNotFoundError when the run does not exist (or was deleted already)
   */
  async delete(): Promise<void> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      await this.client.engine.deleteWorkflow(ref, this.client.identity);
    });
  }
}

/** The run a close event hands over to (continue-as-new, a retry, the next cron run), if any. */
function nextRunOf(close: HistoryEvent): string | undefined {
  const next = (close.attributes as { newExecutionRunId?: unknown }).newExecutionRunId;
  return typeof next === 'string' && next !== '' ? next : undefined;
}
