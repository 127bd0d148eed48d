import { EventType, WorkflowTaskFailedCause } from '@durabull/common';
import type { HistoryEvent } from '@durabull/common';
import type { Engine, WorkflowTaskJobData } from '@durabull/engine';
import { ReplyCode } from '@durabull/engine';
import type { WorkflowDefinition } from '../definitions/workflow';
import type { Logger } from '../logger';
import { WorkflowRuntime, WorkflowTaskFailure } from '../workflow/runtime';
import type { RuntimeEnvironment } from '../workflow/runtime';
import { LruCache } from './lru';

export interface WorkflowTaskSettings {
  identity: string;
  workerId: string;
  /** 0 disables the cache and sticky routing. */
  maxCachedWorkflows: number;
  stickyTimeout: number;
  logger: Logger;
}

/**
 * Runs workflow tasks: takes the task (getting the history the worker has not seen), drives the
 * run's {@link WorkflowRuntime} (cached, or rebuilt by replaying the whole history), and commits
 * the commands it produced; a task that cannot complete is reported as failed.
 */
export class WorkflowTaskRunner {
  readonly cache: LruCache<string, WorkflowRuntime>;

  constructor(
    private readonly engine: Engine,
    private readonly workflows: ReadonlyMap<string, WorkflowDefinition>,
    private readonly env: RuntimeEnvironment,
    private readonly settings: WorkflowTaskSettings,
  ) {
    this.cache = new LruCache(settings.maxCachedWorkflows);
  }

  async run(task: WorkflowTaskJobData): Promise<void> {
    const { identity, workerId, maxCachedWorkflows, stickyTimeout, logger } = this.settings;
    let runtime = this.cache.take(task.runId);
    const start = await this.engine.startWorkflowTask(task, identity, runtime?.lastEventId ?? 0);
    if (!start) {
      if (runtime) this.cache.put(task.runId, runtime);
      return;
    }
    const fence = start.events.at(-1)?.eventId ?? runtime?.lastEventId ?? 0;
    const completedEventId = fence + (start.attempt > 1 ? 3 : 1);
    try {
      runtime ??= this.newRuntime(task.runId, start.events[0]);
      const commands = await runtime.runTask(start.events, start.now, completedEventId, identity);
      const code = await this.engine.completeWorkflowTask(task, {
        identity,
        stickyWorkerId: maxCachedWorkflows > 0 ? workerId : '',
        stickyTimeout,
        fence,
        commands,
      });
      if (code === ReplyCode.Ok && !runtime.closed) {
        // Next time, history is read from the WorkflowTaskCompleted just written.
        runtime.lastEventId = completedEventId - 1;
        this.cache.put(task.runId, runtime);
      }
    } catch (err) {
      if (!(err instanceof WorkflowTaskFailure)) throw err;
      const cause = err.nondeterminism
        ? WorkflowTaskFailedCause.NON_DETERMINISTIC_ERROR
        : WorkflowTaskFailedCause.WORKFLOW_WORKER_UNHANDLED_FAILURE;
      logger.warn('Workflow task failed', {
        workflowId: task.workflowId,
        runId: task.runId,
        attempt: start.attempt,
        cause,
        error: err.message,
      });
      await this.engine.failWorkflowTask(task, identity, cause, this.env.failures.errorToFailure(err.cause));
    }
  }

  /** Hands every cached run back to the task queue (graceful shutdown). */
  async releaseAll(): Promise<void> {
    const runtimes = this.cache.keys().map((runId) => this.cache.take(runId)!);
    await Promise.all(
      runtimes.map((runtime) =>
        this.engine.releaseSticky({ workflowId: runtime.info.workflowId, runId: runtime.info.runId }, this.settings.workerId),
      ),
    );
  }

  private newRuntime(runId: string, first: HistoryEvent | undefined): WorkflowRuntime {
    if (first?.eventType !== EventType.WorkflowExecutionStarted) {
      throw new WorkflowTaskFailure(new Error(`History of run ${runId} does not begin with WorkflowExecutionStarted`), false);
    }
    const workflowType = (first.attributes as { workflowType: string }).workflowType;
    const definition = this.workflows.get(workflowType);
    if (!definition) {
      const known = [...this.workflows.keys()].sort().join(', ') || '(none)';
      throw new WorkflowTaskFailure(
        new Error(`Workflow class ${workflowType} is not registered on this worker, available workflows: ${known}`),
        false,
      );
    }
    return new WorkflowRuntime(definition, first, runId, this.env);
  }
}
