import { EventType, PayloadSizeError, RetryState, ServerError, WORKFLOW_CLOSE_EVENT_TYPES, WorkflowTaskFailedCause } from '@durabull/common';
import type { CodecChain, Failure, HistoryEvent, Payload } from '@durabull/common';
import { ReplyCode, chainTemplate } from '@durabull/engine';
import type { ActivityTaskJobData, ActivityTaskStart, CommandRecord, Engine, WorkflowTaskJobData, WorkflowTaskStart } from '@durabull/engine';
import type { WorkflowDefinition } from '../definitions/workflow';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../observability/worker-metrics';
import { WorkflowRuntime, WorkflowTaskFailure } from '../workflow/runtime';
import type { RuntimeEnvironment } from '../workflow/runtime';
import { checkPayloadSize } from '../payload-limits';
import { failedLocalActivityError } from '../workflow/local-activities';
import type { LocalActivityMarker, LocalActivityRequest } from '../workflow/local-activities';
import type { LocalActivityExecutor } from './local-activities';
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

/** A workflow task this worker gives up without completing or failing it (it times out and runs elsewhere). */
class TaskLeftToTimeOut extends Error {}

/** How a local activity run by this worker ended: the marker to record, none when it was forgotten. */
interface LocalActivityResolution {
  request: LocalActivityRequest;
  marker?: LocalActivityMarker;
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
  /** Runs the local activities of the workflows (this worker's registered activities). */
  localActivities?: LocalActivityExecutor;

  constructor(
    private readonly engine: Engine,
    private readonly workflows: ReadonlyMap<string, WorkflowDefinition>,
    private readonly env: RuntimeEnvironment,
    private readonly settings: WorkflowTaskSettings,
    readonly slots: Slots,
  ) {
    this.cache = new LruCache(settings.maxCachedWorkflows);
  }

  /**
   * A task from a queue: waits for a slot, takes the task, runs it. A run's first task whose job
   * carries its history runs straight away and is taken by its completion, one transition for
   * both; if that finds the task moved on (a signal came first, another worker took it), the task
   * is started as any other.
   */
  async run(task: WorkflowTaskJobData): Promise<void> {
    // A free slot is taken without a promise.
    if (!this.slots.tryAcquire()) await this.slots.acquire();
    try {
      const fromJob = task.history && !this.cache.peek(task.runId) && this.engine.workflowTaskFromJob(task, this.settings.identity);
      if (fromJob && (await this.execute(task, fromJob, undefined)) !== 'stale') return;
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

  /**
   * The first attempt of an activity of a run cached here completed with `result` (encoded): runs
   * the run's next workflow task on the events recording the result writes, as predicted
   * (`Engine.activityCompletedTask`), and commits the result and the task in one round trip
   * (`Engine.completeActivityWithNextTask`). False, with nothing done, when the run is not cached
   * here (the caller records the result itself, and keeps the workflow task slot it reserved).
   * Otherwise the result is recorded and the task run, the ordinary way when the prediction could
   * not be used, and the slot is released, also when this throws.
   */
  async completeActivityAndRun(
    task: ActivityTaskJobData,
    start: ActivityTaskStart,
    result: Payload[],
    heartbeatDetails: Payload[] | undefined,
  ): Promise<boolean> {
    const runtime = this.cache.peek(task.runId);
    const last = runtime?.lastTask;
    if (!runtime || !last) return false;
    this.cache.take(task.runId);
    const { identity, workerId } = this.settings;
    try {
      const next = this.engine.activityCompletedTask(
        task,
        { taskQueue: runtime.info.taskQueue, taskTimeout: runtime.info.taskTimeout, ...last },
        start.activity,
        result,
        identity,
      );
      const wft: WorkflowTaskJobData = { runId: task.runId, workflowId: task.workflowId, token: next.token, queue: `@${workerId}` };
      // Object.assign, not a spread followed by properties: V8's slow path in Node 20 (keys.ts).
      const outcome = await this.execute(wft, Object.assign({}, next, { afterActivity: { task, result, heartbeatDetails } }), runtime);
      if (outcome !== 'stale') return true;
      // Nothing committed (the task needs local activities, or failed): the result alone, and the
      // task it hands over run from the run's whole history (the runtime ran ahead of it).
      const reply = await this.engine.completeActivityTask(task, workerId, { kind: 'completed', result }, heartbeatDetails, {
        identity,
        seenEventId: 0,
      });
      if (reply.workflowTask) await this.execute(takenTask(task, workerId, reply.workflowTask), reply.workflowTask, undefined);
      return true;
    } finally {
      this.slots.release();
    }
  }

  /**
   * Runs a task and commits its outcome. 'stale' when nothing was committed for a task that was
   * not taken yet: one taken by its completion ({@link WorkflowTaskStart.takenAt}) that was not,
   * or one predicted after an activity's result (`afterActivity`) that cannot be committed with it.
   */
  private async execute(
    task: WorkflowTaskJobData,
    start: WorkflowTaskStart & { afterActivity?: ActivityResult },
    runtime: WorkflowRuntime | undefined,
  ): Promise<'stale' | undefined> {
    const { identity, workerId, maxCachedWorkflows, stickyTimeout, logger, codecs, metrics } = this.settings;
    let fence = start.events.at(-1)?.eventId ?? runtime?.lastEventId ?? 0;
    // A task whose WorkflowTaskStarted is not written yet (a retry attempt, or a speculative task
    // delivering updates) writes Scheduled, Started and Completed on completion.
    let completedEventId = fence + (start.startedEventId === 0 ? 3 : 1);
    const startedAt = performance.now();
    // No await for the usual task, whose events are all the worker needs (a promise less each).
    const history = this.hasHistoryFor(start, runtime) ? start.events : await this.readHistoryFor(task, start);
    // Events from the start of history rebuild the run: a runtime at hand is not theirs to continue.
    if (history[0]?.eventId === 1) runtime = undefined;
    const workflowType =
      runtime?.info.workflowType ?? (history[0]?.attributes as { workflowType?: string } | undefined)?.workflowType ?? 'unknown';
    const labels = metrics.workflow(workflowType);
    metrics.workflowTaskScheduleToStart.observe(labels, Math.max(0, start.now - start.scheduledTime) / 1000);
    if (runtime) metrics.cacheHits.inc(labels);
    else if (history.some((e) => e.eventType === EventType.WorkflowTaskCompleted)) metrics.cacheMisses.inc(labels);
    let reserved = 0;
    // Local activities running for this run, by sequence number: what each resolves with.
    const localActivities = new Map<number, Promise<LocalActivityResolution>>();
    try {
      // No awaits where there is nothing to decode (no codecs, no updates: most tasks).
      const events = codecs.empty ? history : await codecs.decodeEvents(history);
      // The events the latest activation ran on (the task's WorkflowTaskStarted among them).
      let taskEvents = events;
      runtime ??= this.newRuntime(task.runId, events[0]);
      const decodeUpdates = (updates: WorkflowTaskStart['updates']) =>
        Promise.all(updates.map(async (u) => ({ ...u, input: await codecs.decode(u.input) })));
      await runtime.activateTask(events, start.now, start.updates.length === 0 ? start.updates : await decodeUpdates(start.updates));
      // Local activities would hold the activity's result back while they run.
      if (start.afterActivity && runtime.pendingLocalActivities > 0) return 'stale';
      if (start.takenAt !== undefined && runtime.pendingLocalActivities > 0) {
        // Local activities may run for long: the task is taken now, its timeout armed.
        if (!(await this.engine.startWorkflowTask(task, identity, 0, taken(start)))) return 'stale';
        start = { ...start, takenAt: undefined };
      }
      // Temporal core's workflow task heartbeat: at 80 % of the task timeout with local activities
      // still running, the task completes with what it has and the next one is taken at once.
      let heartbeatAt = startedAt + runtime.info.taskTimeout * 0.8;
      let commands: CommandRecord[];
      let reply: Awaited<ReturnType<Engine['completeWorkflowTask']>>;
      for (;;) {
        const heartbeat = runtime.pendingLocalActivities > 0 && (await this.runLocalActivities(runtime, localActivities, heartbeatAt));
        commands = runtime.takeCommands(completedEventId, identity);
        this.warnOnLongHistory(runtime);
        for (const command of commands) {
          if (!codecs.empty) command.attributes = await codecs.encodeEvent(command.attributes);
          this.checkPayloads(command, runtime.info.workflowType);
          if (command.meta['start']) await encodeNextRun(command, codecs);
        }
        reserved = this.markEager(commands);
        const completion = {
          identity,
          workerId,
          stickyTimeout: maxCachedWorkflows > 0 ? stickyTimeout : 0,
          fence,
          commands,
          heartbeat,
          takenAt: start.takenAt,
        };
        const after = start.afterActivity;
        let handedOver: (WorkflowTaskStart & { token: string }) | undefined;
        if (after) {
          const replies = await this.engine.completeActivityWithNextTask(after.task, workerId, after.result, after.heartbeatDetails, Object.assign({}, start, { token: task.token }), completion);
          reply = replies.workflowTask;
          handedOver = replies.activity.workflowTask;
        } else {
          reply = await this.engine.completeWorkflowTask(task, completion);
        }
        this.runEagerActivities(task, runtime.info.workflowType, commands, reply);
        reserved = 0;
        if (start.takenAt !== undefined && reply.code === ReplyCode.Stale) return 'stale';
        if (after && reply.code === ReplyCode.Stale) {
          // The result is recorded, but the run had moved on: the task it handed over (if any) is
          // run from the whole history, as this runtime ran ahead on events that were not written.
          if (!handedOver) return undefined;
          const handed = takenTask(after.task, workerId, handedOver);
          const events = (await this.engine.readHistory(handed)).filter((e) => e.eventId <= handedOver.startedEventId);
          return this.execute(handed, { ...handedOver, events }, undefined);
        }
        start = Object.assign({}, start, { takenAt: undefined, afterActivity: undefined });
        const next = reply.nextTask;
        if (!heartbeat || !next) break;
        // The next task, taken by this worker: its events start at the WorkflowTaskCompleted just written.
        runtime.lastEventId = completedEventId - 1;
        task = { ...task, token: next.token, queue: `@${workerId}` };
        fence = next.events.at(-1)?.eventId ?? fence;
        completedEventId = fence + (next.startedEventId === 0 ? 3 : 1);
        heartbeatAt = performance.now() + runtime.info.taskTimeout * 0.8;
        taskEvents = await codecs.decodeEvents(next.events);
        await runtime.activateTask(taskEvents, next.now, await decodeUpdates(next.updates));
      }
      if (reply.code === ReplyCode.UnhandledCommand) {
        metrics.workflowTaskFailures.inc({ ...labels, cause: WorkflowTaskFailedCause.UNHANDLED_COMMAND });
      }
      // Handlers still running and signals never delivered are reported once the close holds.
      if (reply.code === ReplyCode.Ok && commands.some((c) => WORKFLOW_CLOSE_EVENT_TYPES.has(c.eventType))) runtime.reportClose();
      // A run this task closed gets no more tasks: it is not kept.
      if (reply.code === ReplyCode.Ok && !runtime.closed && !commands.some((c) => WORKFLOW_CLOSE_EVENT_TYPES.has(c.eventType))) {
        // Next time, history is read from the WorkflowTaskCompleted just written (a discarded
        // speculative task wrote none: the runtime has seen everything up to the fence).
        if (!reply.discarded) runtime.lastEventId = completedEventId - 1;
        runtime.lastTask = reply.discarded ? undefined : writtenBy(task.token, completedEventId, commands, reply, identity, taskEvents);
        this.cache.put(task.runId, runtime);
      }
    } catch (err) {
      if (err instanceof TaskLeftToTimeOut) {
        logger.info(err.message, { workflowId: task.workflowId, runId: task.runId, workflowType });
        return;
      }
      if (!(err instanceof WorkflowTaskFailure)) throw err;
      // Predicted after an activity's result: the task is failed once it is really taken.
      if (start.afterActivity) return 'stale';
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
      const code = await this.engine.failWorkflowTask(task, identity, cause, failure, taken(start));
      if (start.takenAt !== undefined && code === ReplyCode.Stale) return 'stale';
    } finally {
      for (; reserved > 0; reserved--) this.eagerActivities?.release();
      // Local activities not waited for any more (the run closed, the task failed or went
      // elsewhere) stop; a later task runs them again.
      for (const request of runtime?.abandonLocalActivities() ?? []) request.cancel?.('try');
      for (const running of localActivities.values()) running.catch(() => undefined);
      metrics.workflowTaskExecution.observe(labels, (performance.now() - startedAt) / 1000);
      metrics.setCacheSize(this.cache.size);
    }
  }

  /**
   * Runs the run's local activities (those its code started, as they come) and hands each
   * resolution to the code, until none is left, the commands close the run, or `heartbeatAt`
   * (performance.now() time) comes first: then returns true (the task must heartbeat).
   */
  private async runLocalActivities(
    runtime: WorkflowRuntime,
    running: Map<number, Promise<LocalActivityResolution>>,
    heartbeatAt: number,
  ): Promise<boolean> {
    const { info } = runtime;
    const run = { workflowId: info.workflowId, runId: info.runId, workflowType: info.workflowType, taskQueue: info.taskQueue };
    for (;;) {
      for (const request of runtime.takeLocalActivityRequests()) {
        const executor = this.localActivities;
        const resolution = executor
          ? executor.run(request, run).then((marker) => ({ request, marker }))
          : Promise.reject(new WorkflowTaskFailure(new Error('This worker cannot run local activities')));
        running.set(request.seq, resolution);
      }
      if (runtime.pendingLocalActivities === 0 || runtime.closing) return false;
      // Waited for but run by nobody: a bug, which must not heartbeat the task for ever.
      if (running.size === 0) throw new WorkflowTaskFailure(new Error('Local activities are pending but none is running in this worker'));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, heartbeatAt - performance.now()))));
      const next = await Promise.race([...running.values(), deadline]).finally(() => clearTimeout(timer));
      if (!next) return true;
      running.delete(next.request.seq);
      if (!next.marker && runtime.localActivityPending(next.request.seq)) {
        // Stopped by the worker's shutdown: the task is neither completed nor failed; it times out
        // and runs elsewhere, where replay runs the local activity again.
        throw new TaskLeftToTimeOut('Worker shutting down while local activities run: the workflow task is left to time out');
      }
      if (next.marker) await runtime.resolveLocalActivity(next.request.seq, await this.withinPayloadLimit(next.request, next.marker));
    }
  }

  /**
   * A local activity's result over the payload limit fails it for good, as an activity's does: a
   * non-retryable ServerError saying so (measured encoded, as stored).
   */
  private async withinPayloadLimit(request: LocalActivityRequest, marker: LocalActivityMarker): Promise<LocalActivityMarker> {
    if (!marker.result) return marker;
    try {
      const encoded = await this.settings.codecs.encode([marker.result]);
      checkPayloadSize(encoded, `Activity ${request.activityType} result`, this.engine.limits, this.settings.logger);
      return marker;
    } catch (error) {
      if (!(error instanceof PayloadSizeError)) throw error;
      const cause = new ServerError(error.message, { nonRetryable: true });
      const failure = this.env.failures.errorToFailure(failedLocalActivityError(request, RetryState.NON_RETRYABLE_FAILURE, cause));
      return { data: marker.data, failure };
    }
  }

  /**
   * Whether a task's own events are the events to run it with. The engine sends those after the
   * event id the worker said it held, but by the time the task runs, the run's runtime may have
   * left the cache (evicted) or come back to it (a stale task held it meanwhile): events that
   * neither continue the runtime at hand nor start the history are completed from its start
   * ({@link readHistoryFor}), to rebuild the run by replay.
   */
  private hasHistoryFor(start: WorkflowTaskStart, runtime: WorkflowRuntime | undefined): boolean {
    const first = start.events[0]?.eventId;
    return first === undefined || first === 1 || first === (runtime?.lastEventId ?? 0) + 1;
  }

  /** The run's history up to the task's last event. */
  private async readHistoryFor(task: WorkflowTaskJobData, start: WorkflowTaskStart): Promise<HistoryEvent[]> {
    const fence = start.events.at(-1)!.eventId;
    return (await this.engine.readHistory(task)).filter((event) => event.eventId <= fence);
  }

  /** Refuses a command whose payloads are over the namespace's limit (the task fails, naming it). */
  private checkPayloads(command: CommandRecord, workflowType: string): void {
    const attrs = command.attributes as { input?: Payload[]; result?: Payload[]; failure?: Failure; activityType?: string };
    // Names built only for the payloads a command has (most have one or none).
    if (attrs.input) this.checkPayload(attrs.input, `Activity ${attrs.activityType} input`);
    if (attrs.result) this.checkPayload(attrs.result, `Workflow ${workflowType} result`);
    if (attrs.failure) this.checkPayload(attrs.failure, `Workflow ${workflowType} failure`);
  }

  private checkPayload(value: Payload[] | Failure, what: string): void {
    try {
      checkPayloadSize(value, what, this.engine.limits, this.settings.logger);
    } catch (error) {
      throw new WorkflowTaskFailure(error, WorkflowTaskFailedCause.PAYLOADS_TOO_LARGE);
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

/**
 * A command that starts the next run (continue-as-new) carries that run's WorkflowExecutionStarted
 * in its meta: encoded like the command's own payloads, and sent as the JSON the engine records
 * (`attrs`), with its chain template (`tpl`) when a retry or cron run may follow it.
 */
async function encodeNextRun(command: CommandRecord, codecs: CodecChain): Promise<void> {
  const start = command.meta['start'] as Record<string, unknown> | undefined;
  if (!start) return;
  const encoded = await codecs.encodeEvent(start);
  command.meta['attrs'] = JSON.stringify(encoded);
  if (command.meta['chain']) command.meta['tpl'] = JSON.stringify(chainTemplate(encoded));
  delete command.meta['start'];
  delete command.meta['chain'];
}

/** What a worker that ran a task without starting it tells the transition that takes it. */
function taken(start: WorkflowTaskStart): { at: number; startedEventId: number } | undefined {
  return start.takenAt === undefined ? undefined : { at: start.takenAt, startedEventId: start.startedEventId };
}

/** An activity's result that a predicted workflow task commits with (`completeActivityAndRun`). */
interface ActivityResult {
  task: ActivityTaskJobData;
  result: Payload[];
  heartbeatDetails?: Payload[];
}

/** The job data of a workflow task this worker took without a job (eagerly). */
function takenTask(activity: ActivityTaskJobData, workerId: string, taken: { token: string }): WorkflowTaskJobData {
  return { runId: activity.runId, workflowId: activity.workflowId, token: taken.token, queue: `@${workerId}` };
}

/**
 * What a completed task wrote, as {@link WorkflowRuntime.lastTask} keeps it: its
 * WorkflowTaskCompleted and command events (at the completion's time, attributes as sent), when
 * that is all it wrote (no buffered event came after them) and the task was an ordinary first
 * attempt (its WorkflowTaskStarted, among `events`, written when it started); else undefined.
 */
function writtenBy(
  token: string,
  completedEventId: number,
  commands: CommandRecord[],
  reply: { now: number; lastEventId: number },
  identity: string,
  events: HistoryEvent[],
): WorkflowRuntime['lastTask'] {
  const started = events.find((e) => e.eventId === completedEventId - 1 && e.eventType === EventType.WorkflowTaskStarted);
  const recorded = commands.filter((c) => c.eventType !== EventType.WorkflowExecutionUpdateRejected);
  if (!started || reply.lastEventId !== completedEventId + recorded.length) return undefined;
  const eventTime = new Date(reply.now).toISOString();
  const { scheduledEventId } = started.attributes as { scheduledEventId: number };
  const written: HistoryEvent[] = [
    {
      eventId: completedEventId,
      eventTime,
      eventType: EventType.WorkflowTaskCompleted,
      attributes: { scheduledEventId, startedEventId: completedEventId - 1, identity },
    },
    ...recorded.map((c, i) => ({ eventId: completedEventId + 1 + i, eventTime, eventType: c.eventType, attributes: c.attributes })),
  ];
  return { token, committedAt: reply.now, written };
}
