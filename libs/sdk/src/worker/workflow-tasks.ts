import { EventType, WORKFLOW_CLOSE_EVENT_TYPES, WorkflowTaskFailedCause } from '@durabull/common';
import type { CodecChain, Failure, HistoryEvent, Payload } from '@durabull/common';
import { ReplyCode } from '@durabull/engine';
import type { ActivityTaskJobData, ActivityTaskStart, CommandRecord, Engine, WorkflowTaskJobData, WorkflowTaskStart } from '@durabull/engine';
import type { WorkflowDefinition } from '../definitions/workflow';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../observability/worker-metrics';
import { WorkflowRuntime, WorkflowTaskFailure } from '../workflow/runtime';
import type { RuntimeEnvironment } from '../workflow/runtime';
import { checkPayloadSize } from '../payload-limits';
import { LruCache } from './lru';
import type { Slots } from './slots';

export interface WorkflowTaskSettings {
  identity: string;
  workerId: string;
  /** 0 disables the cache and sticky routing. */
  maxCachedWorkflows: number;
  stickyTimeout: number;
  logger: Logger;
  /** Payload codecs: history is decoded before the code sees it, commands encoded before commit. */
  codecs: CodecChain;
  metrics: WorkerMetrics;
}

/** Where a workflow task hands the activities it starts itself (eager execution). */
export interface EagerActivities {
  /** Takes a slot for an attempt of `activityType` on `taskQueue`, if this worker can run it now. */
  reserve(taskQueue: string, activityType: string): boolean;
  release(): void;
  /** Runs a started attempt in the background; its slot is released when it ends. */
  run(task: ActivityTaskJobData, start: ActivityTaskStart): void;
}

/**
 * Runs workflow tasks: takes the task (getting the history the worker has not seen), drives the
 * run's {@link WorkflowRuntime} (cached, or rebuilt by replaying the whole history), and commits
 * the commands it produced; a task that cannot complete is reported as failed.
 */
export class WorkflowTaskRunner {
  readonly cache: LruCache<string, WorkflowRuntime>;
  /** Set when activities scheduled here may start here at once. */
  eagerActivities?: EagerActivities;

  constructor(
    private readonly engine: Engine,
    private readonly workflows: ReadonlyMap<string, WorkflowDefinition>,
    private readonly env: RuntimeEnvironment,
    private readonly settings: WorkflowTaskSettings,
    readonly slots: Slots,
  ) {
    this.cache = new LruCache(settings.maxCachedWorkflows);
  }

  /** A task from a queue: waits for a slot, takes the task, runs it. */
  async run(task: WorkflowTaskJobData): Promise<void> {
    await this.slots.acquire();
    try {
      const runtime = this.cache.take(task.runId);
      const start = await this.engine.startWorkflowTask(task, this.settings.identity, runtime?.lastEventId ?? 0);
      if (start) await this.execute(task, start, runtime);
      else if (runtime) this.cache.put(task.runId, runtime);
    } finally {
      this.slots.release();
    }
  }

  /** A task this worker already took (eagerly, with its slot); runs it and frees the slot. */
  async runTaken(task: WorkflowTaskJobData, start: WorkflowTaskStart): Promise<void> {
    try {
      await this.execute(task, start, this.cache.take(task.runId));
    } finally {
      this.slots.release();
    }
  }

  /** The last event id this worker holds of a run (0 when it is not cached). */
  seenEventId(runId: string): number {
    return this.cache.peek(runId)?.lastEventId ?? 0;
  }

  private async execute(task: WorkflowTaskJobData, start: WorkflowTaskStart, runtime: WorkflowRuntime | undefined): Promise<void> {
    const { identity, workerId, maxCachedWorkflows, stickyTimeout, logger, codecs, metrics } = this.settings;
    const fence = start.events.at(-1)?.eventId ?? runtime?.lastEventId ?? 0;
    const completedEventId = fence + (start.attempt > 1 ? 3 : 1);
    const startedAt = performance.now();
    const history = await this.historyFor(task, start, runtime);
    // Events from the start of history rebuild the run: a runtime at hand is not theirs to continue.
    if (history[0]?.eventId === 1) runtime = undefined;
    const workflowType =
      runtime?.info.workflowType ?? (history[0]?.attributes as { workflowType?: string } | undefined)?.workflowType ?? 'unknown';
    const labels = metrics.workflow(workflowType);
    metrics.workflowTaskScheduleToStart.observe(labels, Math.max(0, start.now - start.scheduledTime) / 1000);
    if (runtime) metrics.cacheHits.inc(labels);
    else if (history.some((e) => e.eventType === EventType.WorkflowTaskCompleted)) metrics.cacheMisses.inc(labels);
    let reserved = 0;
    try {
      const events = await codecs.decodeEvents(history);
      runtime ??= this.newRuntime(task.runId, events[0]);
      const commands = await runtime.runTask(events, start.now, completedEventId, identity);
      this.warnOnLongHistory(runtime);
      for (const command of commands) {
        command.attributes = await codecs.encodeEvent(command.attributes);
        this.checkPayloads(command, runtime.info.workflowType);
      }
      reserved = this.markEager(commands);
      const reply = await this.engine.completeWorkflowTask(task, {
        identity,
        workerId,
        stickyTimeout: maxCachedWorkflows > 0 ? stickyTimeout : 0,
        fence,
        commands,
      });
      this.runEagerActivities(task, runtime.info.workflowType, commands, reply);
      reserved = 0;
      if (reply.code === ReplyCode.UnhandledCommand) {
        metrics.workflowTaskFailures.inc({ ...labels, cause: WorkflowTaskFailedCause.UNHANDLED_COMMAND });
      }
      // A run this task closed gets no more tasks: it is not kept.
      if (reply.code === ReplyCode.Ok && !runtime.closed && !commands.some((c) => WORKFLOW_CLOSE_EVENT_TYPES.has(c.eventType))) {
        // Next time, history is read from the WorkflowTaskCompleted just written.
        runtime.lastEventId = completedEventId - 1;
        this.cache.put(task.runId, runtime);
      }
    } catch (err) {
      if (!(err instanceof WorkflowTaskFailure)) throw err;
      const cause = err.failedCause;
      metrics.workflowTaskFailures.inc({ ...labels, cause });
      logger.warn('Workflow task failed', {
        workflowId: task.workflowId,
        runId: task.runId,
        workflowType,
        attempt: start.attempt,
        cause,
        error: err.message,
      });
      const failure = await codecs.encodeFailure(this.env.failures.errorToFailure(err.cause));
      await this.engine.failWorkflowTask(task, identity, cause, failure);
    } finally {
      for (; reserved > 0; reserved--) this.eagerActivities?.release();
      metrics.workflowTaskExecution.observe(labels, (performance.now() - startedAt) / 1000);
      metrics.setCacheSize(this.cache.size);
    }
  }

  /**
   * The events to run a task with. The engine sends those after the event id the worker said it
   * held, but by the time the task runs, the run's runtime may have left the cache (evicted) or
   * come back to it (a stale task held it meanwhile): events that neither continue the runtime at
   * hand nor start the history are completed from its start, to rebuild the run by replay.
   */
  private async historyFor(task: WorkflowTaskJobData, start: WorkflowTaskStart, runtime: WorkflowRuntime | undefined): Promise<HistoryEvent[]> {
    const first = start.events[0]?.eventId;
    if (first === undefined || first === 1 || first === (runtime?.lastEventId ?? 0) + 1) return start.events;
    const fence = start.events.at(-1)!.eventId;
    return (await this.engine.readHistory(task)).filter((event) => event.eventId <= fence);
  }

  /** Refuses a command whose payloads are over the namespace's limit (the task fails, naming it). */
  private checkPayloads(command: CommandRecord, workflowType: string): void {
    const attrs = command.attributes as { input?: Payload[]; result?: Payload[]; failure?: Failure; activityType?: string };
    const checks: Array<[Payload[] | Failure | undefined, string]> = [
      [attrs.input, `Activity ${attrs.activityType} input`],
      [attrs.result, `Workflow ${workflowType} result`],
      [attrs.failure, `Workflow ${workflowType} failure`],
    ];
    for (const [value, what] of checks) {
      if (!value) continue;
      try {
        checkPayloadSize(value, what, this.engine.limits, this.settings.logger);
      } catch (error) {
        throw new WorkflowTaskFailure(error, WorkflowTaskFailedCause.PAYLOADS_TOO_LARGE);
      }
    }
  }

  private warnOnLongHistory(runtime: WorkflowRuntime): void {
    const { historyEventsWarning, historyEvents } = this.engine.limits;
    if (runtime.historyWarned || historyEventsWarning === 0 || runtime.info.historyLength < historyEventsWarning) return;
    runtime.historyWarned = true;
    this.settings.logger.warn(
      `Workflow history has ${runtime.info.historyLength} events; the run is terminated when it reaches ${historyEvents}`,
      { workflowId: runtime.info.workflowId, runId: runtime.info.runId, workflowType: runtime.info.workflowType },
    );
  }

  /** Flags the scheduled activities this worker can start itself; returns how many slots it took. */
  private markEager(commands: CommandRecord[]): number {
    let reserved = 0;
    for (const command of commands) {
      if (command.eventType !== EventType.ActivityTaskScheduled) continue;
      const { taskQueue, activityType } = command.attributes as { taskQueue: string; activityType: string };
      if (this.eagerActivities?.reserve(taskQueue, activityType)) {
        command.meta['eager'] = 1;
        reserved++;
      }
    }
    return reserved;
  }

  private runEagerActivities(
    task: WorkflowTaskJobData,
    workflowType: string,
    commands: CommandRecord[],
    reply: Awaited<ReturnType<Engine['completeWorkflowTask']>>,
  ): void {
    const eager = commands.filter((c) => c.meta['eager'] === 1);
    // A commit that did not happen started nothing: give the slots back.
    for (let i = reply.startedActivities.length; i < eager.length; i++) this.eagerActivities!.release();
    for (const { scheduledEventId, activity } of reply.startedActivities) {
      const command = eager.find((c) => (c.attributes as { activityId: string }).activityId === activity.activityId)!;
      this.eagerActivities!.run(
        { runId: task.runId, workflowId: task.workflowId, scheduledEventId, attempt: activity.attempt, taskQueue: activity.taskQueue },
        { now: reply.now, activity, scheduled: command.attributes, workflowType },
      );
    }
  }

  /** Hands every cached run back to the task queue (graceful shutdown). */
  async releaseAll(): Promise<void> {
    const runtimes = this.cache.keys().map((runId) => this.cache.take(runId)!);
    this.settings.metrics.setCacheSize(this.cache.size);
    await Promise.all(
      runtimes.map((runtime) =>
        this.engine.releaseSticky({ workflowId: runtime.info.workflowId, runId: runtime.info.runId }, this.settings.workerId),
      ),
    );
  }

  private newRuntime(runId: string, first: HistoryEvent | undefined): WorkflowRuntime {
    if (first?.eventType !== EventType.WorkflowExecutionStarted) {
      throw new WorkflowTaskFailure(new Error(`History of run ${runId} does not begin with WorkflowExecutionStarted`));
    }
    const workflowType = (first.attributes as { workflowType: string }).workflowType;
    const definition = this.workflows.get(workflowType);
    if (!definition) {
      const known = [...this.workflows.keys()].sort().join(', ') || '(none)';
      throw new WorkflowTaskFailure(
        new Error(`Workflow class ${workflowType} is not registered on this worker, available workflows: ${known}`),
      );
    }
    return new WorkflowRuntime(definition, first, runId, this.env);
  }
}
