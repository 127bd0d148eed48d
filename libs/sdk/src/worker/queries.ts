import { EventType, WorkflowQueryFailedReason } from '@durabull/common';
import type { CodecChain, HistoryEvent } from '@durabull/common';
import { publishQueryAnswer, readQueryRunState } from '@durabull/engine';
import type { Engine, QueryAnswer, QueryJobData, RunRef } from '@durabull/engine';
import type { WorkflowDefinition } from '../definitions/workflow';
import type { Logger } from '../logger';
import { WorkflowRuntime, WorkflowTaskFailure } from '../workflow/runtime';
import type { RuntimeEnvironment } from '../workflow/runtime';
import type { QueryOutcome } from '../workflow/queries';

/** How often a query waiting for a run's pending workflow task looks again: from the first to the last value, doubling. */
const WAIT_POLL_MS = [5, 10, 20, 40, 80, 100] as const;

/** The reason a closed run that never completed a workflow task cannot be queried. */
export const CLOSED_BEFORE_FIRST_TASK = 'Workflow execution closed before its first workflow task completed: it has no state to query';

export interface QueryResponderSettings {
  workerId: string;
  logger: Logger;
  /** Payload codecs: arguments and history are decoded, results and failures encoded. */
  codecs: CodecChain;
  /** The runtime this worker caches for a run, if any (not taken out of the cache). */
  cached(runId: string): WorkflowRuntime | undefined;
}

/**
 * Answers queries (jobs of the `query` queues: the worker's sticky one, and its task queue's).
 * The state a query sees is the run's as of its last completed workflow task, and never older than
 * the query: while a workflow task of the running run is pending (its first attempt), the query
 * waits for it, as Temporal's server holds a query until the workflow task in flight completes. It
 * is then answered from the cached runtime when this worker holds the run's latest state, else
 * from a runtime rebuilt by replaying the run's whole history (closed runs too). Nothing is
 * written to the run; the answer is published on the asking client's reply channel.
 */
export class QueryResponder {
  constructor(
    private readonly engine: Engine,
    private readonly workflows: ReadonlyMap<string, WorkflowDefinition>,
    private readonly env: RuntimeEnvironment,
    private readonly settings: QueryResponderSettings,
  ) {}

  /** Answers one query job. */
  async answer(query: QueryJobData): Promise<void> {
    let answer: QueryAnswer | undefined;
    try {
      answer = await this.resolve(query);
    } catch (error) {
      // Redis failed under the query: the client's timeout reports it.
      this.settings.logger.warn('Query failed', {
        workflowId: query.workflowId,
        runId: query.runId,
        queryType: query.queryType,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    if (answer) await publishQueryAnswer(this.engine, query.replyTo, answer);
  }

  /** The answer, or undefined when the run's pending workflow task did not complete while the client waited. */
  private async resolve(query: QueryJobData): Promise<QueryAnswer | undefined> {
    const ref: RunRef = { workflowId: query.workflowId, runId: query.runId };
    const giveUpAt = Date.now() + query.timeout;
    let args: Awaited<ReturnType<CodecChain['decode']>>;
    try {
      args = await this.settings.codecs.decode(query.args);
    } catch (error) {
      return this.handlerFailed(query, error);
    }
    for (let polls = 0; ; polls++) {
      const state = await readQueryRunState(this.engine, ref);
      if (!state) return { id: query.id, kind: 'notFound', reason: 'Workflow execution not found' };
      const running = state.status === 'RUNNING';
      // A workflow task in flight (not a failing one): answer once it completed.
      const waitForTask = running && state.workflowTask !== '' && state.workflowTaskAttempt <= 1;
      if (!waitForTask) {
        const cached = running && state.workflowTask === '' && state.stickyWorker === this.settings.workerId;
        // Taken from the cache and queried with no await between: no workflow task runs it meanwhile.
        const runtime = (cached ? this.settings.cached(query.runId) : undefined) ?? (await this.rebuild(ref, query));
        if (runtime instanceof WorkflowRuntime) return this.toAnswer(query, runtime.query(query.queryType, args));
        if (runtime !== 'noState') return runtime;
        // The code never completed a workflow task: a closed run has no state, a running one is waited for.
        if (!running) return { id: query.id, kind: 'notFound', reason: CLOSED_BEFORE_FIRST_TASK };
      }
      if (Date.now() >= giveUpAt) {
        this.settings.logger.debug('Query not answered: the run\'s workflow task did not complete while the client waited', {
          workflowId: query.workflowId,
          runId: query.runId,
          queryType: query.queryType,
        });
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS[Math.min(polls, WAIT_POLL_MS.length - 1)]));
    }
  }

  /**
   * A runtime rebuilt from the run's history; `noState` when no workflow task completed yet, or
   * the answer to send when the run cannot be rebuilt (its workflow is not registered here, its
   * history does not replay).
   */
  private async rebuild(ref: RunRef, query: QueryJobData): Promise<WorkflowRuntime | 'noState' | QueryAnswer> {
    const stored = await this.engine.readHistory(ref);
    if (stored.length === 0) return { id: query.id, kind: 'notFound', reason: 'Workflow execution not found' };
    try {
      const events = await this.settings.codecs.decodeEvents(stored);
      const runtime = this.newRuntime(ref.runId, events[0]!);
      return (await runtime.replayForQuery(events)) ? runtime : 'noState';
    } catch (error) {
      return this.handlerFailed(query, error instanceof WorkflowTaskFailure ? error.cause : error);
    }
  }

  private newRuntime(runId: string, first: HistoryEvent): WorkflowRuntime {
    if (first.eventType !== EventType.WorkflowExecutionStarted) {
      throw new Error(`History of run ${runId} does not begin with WorkflowExecutionStarted`);
    }
    const workflowType = (first.attributes as { workflowType: string }).workflowType;
    const definition = this.workflows.get(workflowType);
    if (!definition) {
      const known = [...this.workflows.keys()].sort().join(', ') || '(none)';
      throw new Error(`Workflow class ${workflowType} is not registered on this worker, available workflows: ${known}`);
    }
    return new WorkflowRuntime(definition, first, runId, this.env);
  }

  private async toAnswer(query: QueryJobData, outcome: QueryOutcome): Promise<QueryAnswer> {
    if (outcome.ok) {
      try {
        return { id: query.id, kind: 'result', result: await this.settings.codecs.encode([this.env.payloads.toPayload(outcome.value)]) };
      } catch (error) {
        return this.handlerFailed(query, error);
      }
    }
    if (outcome.reason === WorkflowQueryFailedReason.UNKNOWN_QUERY) {
      return { id: query.id, kind: 'unknownQuery', message: outcome.message, knownQueries: outcome.knownQueries };
    }
    return this.handlerFailed(query, outcome.error);
  }

  private async handlerFailed(query: QueryJobData, error: unknown): Promise<QueryAnswer> {
    const failure = await this.settings.codecs.encodeFailure(this.env.failures.errorToFailure(error));
    return { id: query.id, kind: 'handlerFailed', failure };
  }
}
