import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import type { Failure, HistoryEvent, Payload, StartChildWorkflowExecutionInitiatedEventAttributes } from '@durabull/common';
import {
  EventType,
  ParentClosePolicy,
  ReplicationTimeoutError,
  StartChildWorkflowExecutionFailedCause,
  WorkflowAlreadyStartedError,
  WorkflowIdReusePolicy,
} from '@durabull/common';
import { CHILD_MESSAGES, childClosedEvent, childRunId } from './children';
import {
  activityCompletionArgs,
  activityCompletionReply,
  joinedCompletionReplies,
  workflowTaskCompletionArgs,
  workflowTaskCompletionReply,
} from './completions';
import type { ActivityCompletionReply, EagerWorkflowTask, WorkflowTaskCompletion, WorkflowTaskCompletionReply } from './completions';
import { crashPoint } from './crash-points';
import type { Durability, DurabilityOption } from './durability';
import { Dispatcher } from './dispatcher';
import { QueueNames } from './keys';
import type { NamespaceKeys } from './keys';
import { openNamespace } from './namespace';
import type { NamespaceLimits, NamespaceOptions } from './namespace';
import { decodeAttributes, encodeAttributes } from './history-encoding';
import { historyEventFromStreamEntry, parseActivityState, replyError, throwOnReply } from './replies';
import type { StreamEntry } from './replies';
import { RedisClock } from './redis-clock';
import { parseUpdateRequests, parseUpdateState, updateState } from './updates';
import type { UpdateRequest, UpdateState } from './updates';
import { handOverQueries, parseQueryRoute } from './queries';
import type { QueryRoute } from './queries';
import { ReplyCode, ScriptRunner, parseRunReply } from './scripts';
import type { RunReply, ScriptMode } from './scripts';
import type {
  ActivityOutcome,
  ActivityState,
  ActivityTaskStart,
  AsyncActivityReply,
  AsyncActivityReport,
  AsyncActivityTarget,
  RunDescription,
  RunRef,
  StartWorkflowRequest,
  SweepOptions,
  WorkflowTaskStart,
} from './types';
import { chainTemplate, luaRetryPolicy } from './types';
import type { MessageJobData, WorkflowTaskJobData } from './tasks';
import { Visibility } from './visibility';
import { Schedules } from './schedules';

/** The transitions a script commits, where it joins several: each one's crash point follows it. */
const COMMITTED: Record<string, string[]> = {
  completeActivityAndWorkflowTask: ['completeActivityTask', 'completeWorkflowTask'],
};

/**
 * The engine of one namespace: every state transition of a run is one fenced Lua script
 * (`./lua`), after which the tasks it committed are dispatched to BullMQ. Clients and workers
 * share it; it holds no state of its own besides connections.
 */
export class Engine {
  readonly dispatcher: Dispatcher;
  /** Listing and counting runs. */
  readonly visibility: Visibility;
  /** The namespace's schedules (schedules.ts). */
  readonly schedules: Schedules;
  private readonly scripts: ScriptRunner;
  /** The namespace's time as replies tell it: when a worker takes a task without a transition. */
  private readonly clock = new RedisClock();
  /** Replicas that must confirm each transition (WAIT), if any: see {@link requireReplicas}. */
  private durability?: Durability;

  private constructor(
    readonly redis: Redis | Cluster,
    readonly keys: NamespaceKeys,
    /** The namespace's limits. */
    readonly limits: Readonly<NamespaceLimits>,
    scriptMode: ScriptMode | undefined,
  ) {
    this.scripts = new ScriptRunner(redis, scriptMode);
    this.dispatcher = new Dispatcher(keys, redis);
    this.visibility = new Visibility(redis, keys);
    this.schedules = new Schedules(this, this.scripts);
  }

  /** Opens a namespace on a connection, creating its settings on first use. */
  static async open(redis: Redis | Cluster, options: NamespaceOptions): Promise<Engine> {
    const { keys, limits } = await openNamespace(redis, options);
    return new Engine(redis, keys, limits, options.scriptMode);
  }

  get namespace(): string {
    return this.keys.namespace;
  }

  // ---------------------------------------------------------------------------------------------
  // Transitions
  // ---------------------------------------------------------------------------------------------

  /**
   * Starts a run, as the id policies decide (TEMPORAL-SEMANTICS §19): resolves to `started` (a
   * new run, after terminating a running one under TERMINATE_EXISTING), or to the running run's
   * id when the conflict policy is USE_EXISTING. With `startSignal` (signal-with-start), that
   * running run is signalled: `signalled` is then true.
   * @throws WorkflowAlreadyStartedError (Temporal's message, the id's current run id) when the
   *   policies refuse the start
   */
  async startWorkflow(
    request: StartWorkflowRequest,
  ): Promise<{ started: true } | { started: false; runningRunId: string; signalled?: true }> {
    const startedJson = JSON.stringify(request.attributes);
    const reply = await this.transition('startWorkflow', request, [
      request.workflowId,
      request.workflowType,
      request.taskQueue,
      // Stored form, with its JSON's length below: the script writes it as it comes.
      encodeAttributes(startedJson),
      request.workflowTaskTimeout,
      request.runTimeout,
      this.limits.historyEvents,
      this.limits.historyBytes,
      request.startSignal ? JSON.stringify(request.startSignal) : '',
      request.idReusePolicy ?? '',
      request.idConflictPolicy ?? '',
      JSON.stringify(request.terminateDetails ?? []),
      request.identity ?? '',
      request.parent ? JSON.stringify(request.parent) : '',
      request.retryPolicy ? JSON.stringify(luaRetryPolicy(request.retryPolicy)) : '',
      request.cron?.schedule ?? '',
      request.cron ? JSON.stringify(request.cron.compiled) : '',
      request.startDelay ?? 0,
      request.executionTimeout ?? 0,
      request.retryPolicy || request.cron ? JSON.stringify(request.chainTemplate ?? chainTemplate(request.attributes)) : '',
      // On a single Redis the script queues the first task itself (its list is on the same server).
      this.redis instanceof Cluster ? '' : this.keys.firstTasks(request.taskQueue),
      Buffer.byteLength(startedJson),
    ], true);
    if (reply.code === ReplyCode.AlreadyStarted) {
      const [runId, status] = reply.extra as [string, string];
      throwOnReply(reply.code, {
        ...request,
        transition: 'startWorkflow',
        existing: { runId, status, idReusePolicy: request.idReusePolicy ?? WorkflowIdReusePolicy.ALLOW_DUPLICATE },
      });
    }
    if (reply.extra[0]) {
      const runningRunId = String(reply.extra[0]);
      return request.startSignal ? { started: false, runningRunId, signalled: true } : { started: false, runningRunId };
    }
    return { started: true };
  }

  /**
   * Takes a workflow task; undefined when the task is stale (a duplicate job, or the run moved on).
   * With `taken`, a task from {@link workflowTaskFromJob} that the worker began to run is taken as
   * it saw it (its WorkflowTaskStarted at `taken.at`), and no events come back.
   */
  async startWorkflowTask(
    ref: RunRef & { token: string; queue: string },
    identity: string,
    seenEventId: number,
    taken?: { at: number; startedEventId: number },
  ): Promise<WorkflowTaskStart | undefined> {
    const args = [ref.token, ref.queue, identity, seenEventId];
    if (taken) args.push(taken.at, taken.startedEventId);
    const reply = await this.transition('startWorkflowTask', ref, args);
    if (reply.code !== ReplyCode.Ok) return undefined;
    const [attempt, startedEventId, entries, scheduledTime, updates] = reply.extra as [string, string, StreamEntry[], string, string[]];
    return {
      attempt: Number(attempt),
      startedEventId: Number(startedEventId),
      now: reply.now,
      scheduledTime: Number(scheduledTime) || reply.now,
      events: entries.map(historyEventFromStreamEntry),
      updates: parseUpdateRequests(updates),
    };
  }

  /**
   * A run's first task as its job carries it ({@link WorkflowTaskJobData.history}), to run without
   * starting it: its WorkflowTaskStarted is the worker's to propose, at the namespace's time as
   * far as this process can tell ({@link RedisClock}), and is written by the completion
   * (`takenAt`). Undefined when the job carries no history to run.
   */
  workflowTaskFromJob(task: WorkflowTaskJobData, identity: string): WorkflowTaskStart | undefined {
    const events = task.history?.map(historyEventFromStreamEntry);
    const scheduled = events?.at(-1);
    if (!events || scheduled?.eventType !== EventType.WorkflowTaskScheduled) return undefined;
    const scheduledTime = Date.parse(scheduled.eventTime);
    const takenAt = Math.max(scheduledTime, this.clock.now() ?? 0);
    const startedEventId = scheduled.eventId + 1;
    events.push({
      eventId: startedEventId,
      eventTime: new Date(takenAt).toISOString(),
      eventType: EventType.WorkflowTaskStarted,
      attributes: { scheduledEventId: scheduled.eventId, identity },
    });
    return { attempt: 1, startedEventId, now: takenAt, scheduledTime, events, updates: [], takenAt };
  }

  /**
   * Takes up to `max` first workflow tasks off `taskQueue`'s first-task list (on a single Redis,
   * where {@link startWorkflow} queues a new run's first task there instead of adding a job),
   * waiting up to `blockSeconds` for one when the list is empty. `connection` is the caller's
   * own: the wait blocks it. A task taken here is run as its job would be; one whose worker dies
   * before the task is taken in Redis is dispatched again as a job by a sweep.
   */
  async takeFirstTasks(connection: Redis, taskQueue: string, max: number, blockSeconds: number): Promise<WorkflowTaskJobData[]> {
    const key = this.keys.firstTasks(taskQueue);
    let entries = await connection.lpop(key, max);
    if (!entries) {
      const popped = await connection.blpop(key, blockSeconds);
      entries = popped ? [popped[1]] : [];
    }
    return entries.map((entry) => JSON.parse(entry) as WorkflowTaskJobData);
  }

  /**
   * Commits a workflow task's commands. Activities whose `meta.eager` is set start at once on
   * `workerId` (no job): their states come back in `startedActivities`. With `heartbeat` (local
   * activities still running in this worker), the next workflow task is scheduled even without new
   * events and taken at once by this worker: it comes back as `nextTask`, its events starting at
   * this task's WorkflowTaskCompleted. With `takenAt`, the task (from {@link workflowTaskFromJob})
   * is taken by this same transition: `Stale` when it is no longer the run's first task as its job
   * saw it (then start it with {@link startWorkflowTask}).
   */
  completeWorkflowTask(
    ref: RunRef & { token: string; queue?: string },
    options: WorkflowTaskCompletion,
  ): Promise<WorkflowTaskCompletionReply> {
    // Without an async frame, as transition (a promise less); what throws here still rejects.
    try {
      return this.transition('completeWorkflowTask', ref, workflowTaskCompletionArgs(ref.token, ref.queue, options)).then(
        workflowTaskCompletionReply,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Fails a started workflow task. With `taken`, a task from {@link workflowTaskFromJob} is taken
   * by this same transition (`Stale` when it no longer can be: then start it the ordinary way).
   */
  async failWorkflowTask(
    ref: RunRef & { token: string; queue?: string },
    identity: string,
    cause: string,
    failure: Failure,
    taken?: { at: number; startedEventId: number },
  ): Promise<ReplyCode> {
    const args: Array<string | number> = [ref.token, identity, cause, JSON.stringify(failure)];
    if (taken) args.push(taken.at, ref.queue ?? '', taken.startedEventId);
    return (await this.transition('failWorkflowTask', ref, args)).code;
  }

  /**
   * Takes an activity attempt. Undefined when it must not run (stale, closed run); `{ early }`
   * with the ms left when its delayed job was promoted before its time.
   */
  async startActivityTask(
    ref: RunRef & { scheduledEventId: number; attempt: number; taskQueue: string },
    identity: string,
    workerId: string,
  ): Promise<ActivityTaskStart | { early: number } | undefined> {
    const reply = await this.transition('startActivityTask', ref, [
      ref.scheduledEventId,
      ref.attempt,
      ref.taskQueue,
      identity,
      workerId,
    ]);
    if (reply.code === ReplyCode.Early) return { early: Number(reply.extra[0]) };
    if (reply.code !== ReplyCode.Ok) return undefined;
    const [state, scheduled, workflowType] = reply.extra as [string, string, string];
    return { now: reply.now, activity: parseActivityState(state), scheduled: JSON.parse(decodeAttributes(scheduled)), workflowType };
  }

  /**
   * Reports an attempt's outcome; `recorded` is false when the attempt was no longer current
   * (discarded). With `eager`, when the run's next workflow task would go to this worker's sticky
   * queue, the worker takes it at once: it comes back as `workflowTask`.
   */
  async completeActivityTask(
    ref: RunRef & { scheduledEventId: number; attempt: number },
    workerId: string,
    outcome: ActivityOutcome,
    heartbeatDetails?: Payload[],
    eager?: EagerWorkflowTask,
  ): Promise<ActivityCompletionReply> {
    return activityCompletionReply(
      await this.transition('completeActivityTask', ref, activityCompletionArgs(ref, workerId, outcome, heartbeatDetails, eager)),
    );
  }

  /**
   * The run's next workflow task as {@link completeActivityTask} would hand it to `identity` when
   * attempt 1 of activity `ref` completes with `result` (encoded), predicted by a worker that
   * completed the run's previous task `token` at `committedAt`, writing the events `written`
   * (its WorkflowTaskCompleted and command events, as stored, which end the run's history): those,
   * then ActivityTaskStarted, ActivityTaskCompleted, WorkflowTaskScheduled and WorkflowTaskStarted,
   * as stored (encoded), at the namespace's time as far as this process can tell. The worker runs
   * the task on them and commits both with {@link completeActivityWithNextTask}.
   */
  activityCompletedTask(
    ref: RunRef & { scheduledEventId: number },
    run: { taskQueue: string; taskTimeout: number; token: string; committedAt: number; written: HistoryEvent[] },
    activity: ActivityState,
    result: Payload[],
    identity: string,
  ): WorkflowTaskStart & { token: string } {
    // Never before the previous commit, which wrote the run's last event: the script keeps event
    // times in order on that without reading the event (includes/activity-completion.lua).
    const at = Math.max(this.clock.now() ?? 0, run.committedAt, activity.startedTime);
    const sid = ref.scheduledEventId;
    const id = run.written.at(-1)!.eventId;
    const time = new Date(at).toISOString();
    // The attributes in the order the scripts write them (includes/activity.lua, workflow-task.lua).
    const events: HistoryEvent[] = [
      ...run.written,
      {
        eventId: id + 1,
        eventTime: new Date(activity.startedTime).toISOString(),
        eventType: EventType.ActivityTaskStarted,
        attributes: { scheduledEventId: sid, identity, attempt: 1 },
      },
      {
        eventId: id + 2,
        eventTime: time,
        eventType: EventType.ActivityTaskCompleted,
        attributes: { startedEventId: id + 1, result, scheduledEventId: sid, identity },
      },
      {
        eventId: id + 3,
        eventTime: time,
        eventType: EventType.WorkflowTaskScheduled,
        attributes: { taskQueue: run.taskQueue, startToCloseTimeout: run.taskTimeout, attempt: 1 },
      },
      {
        eventId: id + 4,
        eventTime: time,
        eventType: EventType.WorkflowTaskStarted,
        attributes: { scheduledEventId: id + 3, identity },
      },
    ];
    return { token: String(Number(run.token) + 1), attempt: 1, startedEventId: id + 4, now: at, scheduledTime: at, events, updates: [] };
  }

  /**
   * Records a completed attempt (as {@link completeActivityTask}, taking the next workflow task
   * eagerly at `task.now`) and, in the same call, completes that task, which the worker ran on the
   * events {@link activityCompletedTask} predicted. Both are fenced: when the events or the time
   * were not as predicted, the completion is `Stale` and writes nothing, and the activity's reply
   * carries the task actually taken (if it was; without its events) to run the ordinary way.
   */
  completeActivityWithNextTask(
    ref: RunRef & { scheduledEventId: number; attempt: number },
    workerId: string,
    result: Payload[],
    heartbeatDetails: Payload[] | undefined,
    task: WorkflowTaskStart & { token: string },
    completion: WorkflowTaskCompletion,
  ): Promise<{ activity: ActivityCompletionReply; workflowTask: WorkflowTaskCompletionReply }> {
    // Without an async frame, as completeWorkflowTask.
    try {
      const eager = { identity: completion.identity, seenEventId: task.startedEventId };
      const args = [
        ...activityCompletionArgs(ref, workerId, { kind: 'completed', result }, heartbeatDetails, eager),
        task.now,
        // The four events the result writes end at the task's WorkflowTaskStarted.
        task.startedEventId - 4,
        ...workflowTaskCompletionArgs(task.token, undefined, completion),
      ];
      return this.transition('completeActivityAndWorkflowTask', ref, args).then(joinedCompletionReplies);
    } catch (error) {
      return Promise.reject(error);
    }
  }


  /** Records a heartbeat; undefined when the attempt is no longer current (it should stop). */
  async recordHeartbeat(
    ref: RunRef & { scheduledEventId: number; attempt: number },
    workerId: string,
    details: Payload[],
  ): Promise<{ cancelRequested: boolean } | undefined> {
    const reply = await this.transition('recordHeartbeat', ref, [
      ref.scheduledEventId,
      ref.attempt,
      workerId,
      JSON.stringify(details),
    ]);
    if (reply.code !== ReplyCode.Ok) return undefined;
    return { cancelRequested: Number(reply.extra[0]) === 1 };
  }

  /**
   * Async activity completion (`respondActivityAsync`): completes, fails, cancels or heartbeats
   * an activity for whoever holds its task token (or its id), fenced on the attempt but not on
   * the worker that started it. Completing by id an activity not started yet starts it for the
   * caller first, as Temporal's server does.
   */
  async respondActivityAsync(
    ref: RunRef,
    target: AsyncActivityTarget,
    identity: string,
    report: AsyncActivityReport,
  ): Promise<AsyncActivityReply> {
    const body =
      report.kind === 'completed' ? report.result : report.kind === 'failed' ? report.failure : report.details;
    const reply = await this.transition('respondActivityAsync', ref, [
      'scheduledEventId' in target ? target.scheduledEventId : '',
      'scheduledEventId' in target ? target.attempt : 0,
      target.activityId,
      identity,
      report.kind,
      JSON.stringify(body),
      JSON.stringify(report.kind === 'failed' ? report.facts : {}),
    ]);
    switch (reply.code) {
      case ReplyCode.Ok:
        return report.kind === 'heartbeat'
          ? { ok: true, cancelRequested: Number(reply.extra[0]) === 1 }
          : { ok: true, retryState: String(reply.extra[0] ?? '') || undefined };
      case ReplyCode.NotFound:
        return { ok: false, reason: 'runNotFound' };
      case ReplyCode.NotRunning:
        return { ok: false, reason: 'runClosed' };
      case ReplyCode.Stale: {
        const why = String(reply.extra[0]);
        return { ok: false, reason: why === 'activityId' ? 'activityIdNotFound' : why === 'cancel' ? 'notCancelRequested' : 'attemptNotFound' };
      }
      default:
        throw replyError(reply.code, { ...ref, transition: 'respondActivityAsync' })!;
    }
  }

  /** Routes a run's workflow tasks away from a worker that is shutting down. */
  async releaseSticky(ref: RunRef, workerId: string): Promise<void> {
    await this.transition('releaseSticky', ref, [workerId]);
  }

  /**
   * Requests a run's cancellation (again: a no-op).
   * @throws WorkflowNotFoundError when there is no such run, or it has closed
   */
  async requestCancelWorkflow(ref: RunRef, reason: string, identity: string): Promise<void> {
    await this.requiredTransition('requestCancelWorkflow', ref, [reason, identity]);
  }

  /**
   * Requests an update (`requestUpdate`): a new id is admitted and a workflow task scheduled to
   * deliver it; a known id is not admitted again. Resolves to where the update stands.
   * @throws WorkflowNotFoundError when there is no such run, or it has closed and does not know
   *   the id
   */
  async requestUpdate(ref: RunRef, request: UpdateRequest): Promise<UpdateState> {
    const reply = await this.requiredTransition('requestUpdate', ref, [
      request.updateId,
      request.name,
      JSON.stringify(request.input),
      request.identity,
    ]);
    const [stage, failure, completedEventId] = reply.extra as [string, string, string];
    return updateState(stage, failure, completedEventId);
  }

  /**
   * Where an update stands: its state, and the run's status (undefined when the run does not
   * exist); `update` is undefined when the run does not know the id.
   */
  async readUpdate(ref: RunRef, updateId: string): Promise<{ runStatus?: string; update?: UpdateState }> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    const [status, raw] = await this.redis.hmget(keys.state, 'status', `u:${updateId}`);
    return { runStatus: status ?? undefined, update: raw ? parseUpdateState(raw) : undefined };
  }

  /**
   * Signals a run: `WorkflowExecutionSignaled` with these attributes (`signalName`, `input`,
   * `identity`, `header`), and a workflow task to deliver it.
   * @throws WorkflowNotFoundError when there is no such run, or it has closed
   */
  async signalWorkflow(ref: RunRef, attributes: Record<string, unknown>): Promise<void> {
    await this.requiredTransition('signalWorkflow', ref, [JSON.stringify(attributes)]);
  }

  /**
   * Delivers a message one run sent another (includes/messages.lua): reads what and to whom from
   * the sender's initiating event, applies it to the target run (a signal with a request id the
   * target remembers, or a cancellation request, which is a state), then resolves it on the
   * sender. Every step is idempotent, so a message delivered again after a crash changes nothing.
   * Child workflows (includes/children.lua) add the start of a child, its parent close policy and
   * the report of its close to its parent: see {@link deliverChildMessage}.
   */
  async deliverMessage(message: MessageJobData): Promise<void> {
    const sender: RunRef = { workflowId: message.workflowId, runId: message.runId };
    const keys = this.keys.run(sender.workflowId, sender.runId);
    const id = message.initiatedEventId;
    const [kind, entries] = await Promise.all([
      this.redis.hget(keys.state, `x:${id}`),
      this.redis.xrange(keys.history, `${id}-0`, `${id}-0`) as Promise<StreamEntry[]>,
    ]);
    const initiated = entries[0] && historyEventFromStreamEntry(entries[0]);
    if (kind && CHILD_MESSAGES.has(kind)) {
      await this.deliverChildMessage(sender, id, kind, initiated);
      return;
    }
    const attrs = initiated?.attributes as
      | { workflowExecution: { workflowId: string; runId?: string }; signalName?: string; input?: Payload[]; header?: unknown; reason?: string }
      | undefined;
    let outcome = 'not_found';
    let target = { workflowId: attrs?.workflowExecution?.workflowId ?? '', runId: attrs?.workflowExecution?.runId ?? '' };
    if (kind && attrs) {
      target = { ...target, runId: target.runId || ((await this.currentRunId(target.workflowId)) ?? '') };
      if (target.runId) {
        const identity = `workflow ${sender.workflowId}`;
        const reply =
          kind === 'signal'
            ? await this.transition('signalWorkflow', target, [
                JSON.stringify({
                  signalName: attrs.signalName,
                  input: attrs.input ?? [],
                  identity,
                  header: attrs.header,
                  externalWorkflowExecution: sender,
                  requestId: `${sender.runId}:${id}`,
                }),
              ])
            : await this.transition('requestCancelWorkflow', target, [attrs.reason ?? '', identity]);
        // Cancelling a run that has closed is a success, as in Temporal (it has finished anyway).
        if (reply.code === ReplyCode.Ok || (kind === 'cancel' && reply.code === ReplyCode.NotRunning)) outcome = 'delivered';
      }
    }
    await this.transition('resolveExternal', sender, [id, outcome, sender.workflowId, JSON.stringify(target)]);
  }

  /**
   * The messages of child workflows (includes/children.lua), each applied then resolved on its
   * sender:
   * - 'start' (from the parent, `id` its StartChildWorkflowExecutionInitiated): starts the child
   *   as the run {@link childRunId} (a repeat finds it started), unless the parent closed and the
   *   child would not outlive it; resolves to ChildWorkflowExecutionStarted or
   *   StartChildWorkflowExecutionFailed (WORKFLOW_ALREADY_EXISTS).
   * - 'terminate' / 'cancelchild' (from the parent, the parent close policy): terminates, or asks
   *   to cancel, the child's current run when it is of the child's chain (its `par`).
   * - 'parent' (from the child's last run, `id` its close event): records the close on the parent.
   */
  private async deliverChildMessage(sender: RunRef, id: number, kind: string, event: HistoryEvent | undefined): Promise<void> {
    const resolve = (outcome: string, target: RunRef | { workflowId: string; runId: string }, attrs?: unknown) =>
      this.transition('resolveExternal', sender, [
        id,
        outcome,
        sender.workflowId,
        JSON.stringify(target),
        attrs === undefined ? '' : JSON.stringify(attrs),
      ]);
    const senderKeys = this.keys.run(sender.workflowId, sender.runId);
    if (kind === 'start') {
      const attrs = event?.attributes as StartChildWorkflowExecutionInitiatedEventAttributes | undefined;
      if (!attrs) {
        await resolve('skipped', { workflowId: '', runId: '' });
        return;
      }
      const child: RunRef = { workflowId: attrs.workflowId, runId: childRunId(sender.runId, id) };
      const status = await this.redis.hget(senderKeys.state, 'status');
      let outcome = 'skipped';
      // A closed parent's child starts only if it would outlive it anyway (ABANDON).
      if (status === 'RUNNING' || attrs.parentClosePolicy === ParentClosePolicy.ABANDON) {
        outcome = (await this.startChildRun(sender, id, child, attrs)) ? 'started' : 'exists';
      }
      const reply =
        outcome === 'exists'
          ? await resolve(outcome, child, {
              workflowId: attrs.workflowId,
              workflowType: attrs.workflowType,
              cause: StartChildWorkflowExecutionFailedCause.WORKFLOW_ALREADY_EXISTS,
              initiatedEventId: id,
              workflowTaskCompletedEventId: attrs.workflowTaskCompletedEventId,
            })
          : await resolve(outcome, child, {
              initiatedEventId: id,
              workflowExecution: child,
              workflowType: attrs.workflowType,
              ...(attrs.header ? { header: attrs.header } : {}),
            });
      // The parent closed while the child started: its close policy is the next message.
      if ((reply.code as number) === 2) await this.deliverMessage({ ...sender, initiatedEventId: id });
      return;
    }
    if (kind === 'terminate' || kind === 'cancelchild') {
      const raw = await this.redis.hget(senderKeys.state, `c:${id}`);
      const pending = raw ? (JSON.parse(raw) as { wid: string; rid?: string }) : undefined;
      const runId = pending && (await this.currentRunId(pending.wid));
      if (pending && runId) {
        // Only the child's chain: a later run of the id that is not its continuation is left alone.
        const par = await this.redis.hget(this.keys.run(pending.wid, runId).state, 'par');
        const parent = par ? (JSON.parse(par) as { runId: string; initiatedEventId: number }) : undefined;
        if (parent?.runId === sender.runId && parent.initiatedEventId === id) {
          const target = { workflowId: pending.wid, runId };
          await (kind === 'terminate'
            ? this.transition('terminateWorkflow', target, ['by parent close policy', '[]', 'history-service'])
            : this.transition('requestCancelWorkflow', target, ['by parent close policy', 'history-service']));
        }
      }
      await resolve('delivered', { workflowId: pending?.wid ?? '', runId: runId ?? '' });
      return;
    }
    // 'parent': this closed child run tells its parent. A child deleted since (or by the deletion
    // that closed it) has no history left: deleting a running run terminates it.
    const par = await this.redis.hget(senderKeys.state, 'par');
    if (par) {
      const parent = JSON.parse(par) as { workflowId: string; runId: string; initiatedEventId: number };
      const workflowType = (await this.redis.hget(senderKeys.state, 'type')) ?? '';
      const closed = event
        ? childClosedEvent(event)
        : { eventType: EventType.ChildWorkflowExecutionTerminated, attributes: {} };
      if (closed) {
        const common = { workflowExecution: sender, workflowType, initiatedEventId: parent.initiatedEventId };
        await this.transition('recordChildClosed', parent, [
          parent.initiatedEventId,
          closed.eventType,
          JSON.stringify({ ...common, ...closed.attributes }),
          JSON.stringify({ initiatedEventId: parent.initiatedEventId, workflowExecution: sender, workflowType }),
          sender.runId,
        ]);
      }
    }
    await resolve('delivered', sender);
  }

  /**
   * Starts a child run (the 'start' message): its WorkflowExecutionStarted names its parent and
   * its state holds it (`par`). False when the id is taken (running, or the reuse policy refuses).
   */
  private async startChildRun(
    parent: RunRef,
    initiatedEventId: number,
    child: RunRef,
    attrs: StartChildWorkflowExecutionInitiatedEventAttributes,
  ): Promise<boolean> {
    const runTimeout = attrs.workflowRunTimeout || attrs.workflowExecutionTimeout || 0;
    try {
      await this.startWorkflow({
        ...child,
        workflowType: attrs.workflowType,
        taskQueue: attrs.taskQueue,
        workflowTaskTimeout: attrs.workflowTaskTimeout,
        runTimeout,
        attributes: {
          workflowType: attrs.workflowType,
          workflowId: attrs.workflowId,
          taskQueue: attrs.taskQueue,
          input: attrs.input,
          workflowExecutionTimeout: attrs.workflowExecutionTimeout,
          workflowRunTimeout: attrs.workflowRunTimeout,
          workflowTaskTimeout: attrs.workflowTaskTimeout,
          attempt: 1,
          identity: `workflow ${parent.workflowId}`,
          firstExecutionRunId: child.runId,
          // Derived, so that a start delivered again is the same start.
          randomnessSeed: child.runId.replace(/-/g, '').slice(0, 16),
          parentWorkflowExecution: parent,
          parentInitiatedEventId: initiatedEventId,
          ...(attrs.retryPolicy ? { retryPolicy: attrs.retryPolicy } : {}),
          ...(attrs.header ? { header: attrs.header } : {}),
          ...(attrs.memo ? { memo: attrs.memo } : {}),
        },
        idReusePolicy: (attrs.workflowIdReusePolicy || undefined) as WorkflowIdReusePolicy | undefined,
        identity: `workflow ${parent.workflowId}`,
        parent: { ...parent, initiatedEventId },
        ...(attrs.retryPolicy ? { retryPolicy: attrs.retryPolicy } : {}),
        ...(attrs.workflowExecutionTimeout ? { executionTimeout: attrs.workflowExecutionTimeout } : {}),
      });
      return true;
    } catch (error) {
      if (error instanceof WorkflowAlreadyStartedError) return false;
      throw error;
    }
  }

  /**
   * Terminates a run.
   * @throws WorkflowNotFoundError when there is no such run, or it has closed
   */
  async terminateWorkflow(ref: RunRef, reason: string, details: Payload[], identity: string): Promise<void> {
    await this.requiredTransition('terminateWorkflow', ref, [reason, JSON.stringify(details), identity]);
  }

  /**
   * Deletes a run now (history, state, index entries; the workflow id when it names this run),
   * terminating it first if it runs.
   * @throws WorkflowNotFoundError when there is no such run
   */
  async deleteWorkflow(ref: RunRef, identity: string): Promise<void> {
    await this.requiredTransition('deleteWorkflow', ref, ['Delete workflow execution', identity]);
  }

  /**
   * Fires a shard's due deadlines (a wake-up job, or a sweep when `wakeAt` is undefined).
   * Returns the ms left when the wake-up came before its time.
   */
  async fireDueDeadlines(shard: number, wakeAt?: number): Promise<{ early?: number }> {
    const keys = this.keys.shard(shard);
    for (;;) {
      const [code, , rest] = (await this.scripts.call('dueDeadlines', [keys.deadlines, keys.wakes, keys.outbox], [
        wakeAt === undefined ? '' : wakeAt,
        200,
      ])) as [number, number, string[] | number];
      if (code === ReplyCode.Early) return { early: Number(rest) };
      const members = rest as string[];
      await Promise.all(members.map((member) => this.fireDeadline(member)));
      if (members.length < 200) return {};
      wakeAt = undefined;
    }
  }

  private async fireDeadline(member: string): Promise<void> {
    // A schedule's next fire time, "sch|<scheduleId>", or its next look at a run, "scp|..." (schedules.ts).
    if (member.startsWith('sch|') || member.startsWith('scp|')) return this.schedules.fire(member.slice(4));
    const [, , , runId, ...rest] = member.split('|');
    await this.transition('fireDeadline', { runId: runId!, workflowId: rest.join('|') }, [member]);
  }

  /**
   * Visits every shard (`sweepShard`): records the sweeping worker as live, collects the workers
   * whose liveness expired, fires overdue deadlines, and (with `recover`) dispatches again the
   * tasks that crashed processes left behind: a committed task whose job is gone, or whose job a
   * dead worker fetched and never started. Resolves to the dead workers' ids, each leased to this
   * sweeper for `deadWorkerLeaseMs`: see {@link recoverDeadWorker}.
   */
  async sweep(options: SweepOptions): Promise<string[]> {
    const recover = options.recover ?? true;
    const dead = new Set<string>();
    await Promise.all(
      Array.from({ length: this.keys.shardCount }, async (_, shard) => {
        const keys = this.keys.shard(shard);
        const [now, members, overdue, deadWorkers] = (await this.scripts.call(
          'sweepShard',
          [keys.outbox, keys.deadlines, keys.workers],
          [
            options.graceMs,
            options.limit ?? 500,
            options.worker?.id ?? '',
            recover ? 1 : 0,
            options.worker?.liveMs ?? 0,
            options.deadlineGraceMs ?? 200,
            options.deadWorkerLeaseMs ?? 10_000,
          ],
        )) as [number, string[], number, string[]];
        for (const worker of deadWorkers) dead.add(worker);
        if (members.length > 0) await this.dispatcher.recover(shard, members, Number(now), options.graceMs);
        if (overdue === 1) await this.fireDueDeadlines(shard);
      }),
    );
    return [...dead];
  }

  /**
   * Moves the workflow tasks waiting on a dead worker's sticky queue (or fetched by it and never
   * started) to their task queues now, rather than after the sticky schedule-to-start timeout,
   * deletes the queue (and its sticky query queue, whose waiting queries go to their task
   * queues), and then the worker's (leased) liveness entries.
   */
  async recoverDeadWorker(workerId: string): Promise<void> {
    const queue = this.dispatcher.queue(this.keys.stickyPrefix(workerId), QueueNames.workflow);
    const jobs = await queue.getJobs(['wait', 'active', 'delayed', 'prioritized']);
    await Promise.all(
      jobs.map((job) => {
        const { runId, workflowId } = job.data as { runId: string; workflowId: string };
        return this.releaseSticky({ runId, workflowId }, workerId);
      }),
    );
    await queue.obliterate({ force: true });
    // Queries sent to the dead worker and not taken go to their runs' task queues.
    await handOverQueries(this, workerId);
    await this.forgetWorker(workerId);
  }

  /** Removes a worker's liveness entries, so that nothing is routed to it any more (shutdown). */
  async forgetWorker(workerId: string): Promise<void> {
    await Promise.all(Array.from({ length: this.keys.shardCount }, (_, shard) => this.redis.hdel(this.keys.shard(shard).workers, workerId)));
  }

  // ---------------------------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------------------------

  /**
   * Where a query of the run goes (`routeQuery`, read-only): the sticky queue of the live worker
   * that caches the run, else the run's task queue; undefined when the run does not exist.
   */
  async routeQuery(ref: RunRef): Promise<QueryRoute | undefined> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    return parseQueryRoute(await this.scripts.call('routeQuery', [keys.state, keys.workers], []));
  }

  async currentRunId(workflowId: string): Promise<string | undefined> {
    const keys = this.keys.run(workflowId, '');
    return (await this.redis.hget(keys.workflowId, 'run')) ?? undefined;
  }

  /** History of a run, from `afterEventId + 1` on. */
  async readHistory(ref: RunRef, afterEventId = 0): Promise<HistoryEvent[]> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    const entries = (await this.redis.xrange(keys.history, `${afterEventId + 1}-0`, '+')) as StreamEntry[];
    return entries.map(historyEventFromStreamEntry);
  }

  /** The last event of a run's history (its close event, once closed). */
  async lastEvent(ref: RunRef): Promise<HistoryEvent | undefined> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    const [entry] = (await this.redis.xrevrange(keys.history, '+', '-', 'COUNT', 1)) as StreamEntry[];
    return entry && historyEventFromStreamEntry(entry);
  }

  async describeRun(ref: RunRef): Promise<RunDescription | undefined> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    const [status, workflowType, taskQueue, start, close, last] = await this.redis.hmget(
      keys.state,
      'status',
      'type',
      'tq',
      'start',
      'close',
      'last',
    );
    if (!status) return undefined;
    return {
      ...ref,
      workflowType: workflowType!,
      taskQueue: taskQueue!,
      status,
      startTime: Number(start),
      closeTime: close ? Number(close) : undefined,
      historyLength: Number(last),
    };
  }

  /**
   * Deletes every key of the namespace (runs, histories, queues). For tests and tools: running
   * workers of the namespace must be stopped first.
   */
  async purge(): Promise<number> {
    const nodes = 'nodes' in this.redis ? this.redis.nodes('master') : [this.redis];
    let deleted = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', this.keys.pattern, 'COUNT', 1000);
        cursor = next;
        // One key per DEL: keys of a batch may live in different slots of a cluster.
        for (const key of keys) deleted += await node.del(key);
      } while (cursor !== '0');
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  // ---------------------------------------------------------------------------------------------

  /** Runs a run script, then dispatches and withdraws what it committed. */
  private transition(
    script: string,
    ref: RunRef,
    args: Array<string | number>,
    /** The reply's extra[1] is the history the first task's job carries (startWorkflow). */
    firstTaskHistory = false,
  ): Promise<RunReply> {
    const { shard, keys: keyList } = this.keys.runScriptKeys(ref.workflowId, ref.runId);
    const argv = [ref.runId, this.keys.channelPrefix, ...args];
    // One promise derived from the call's, not an async frame (two): every promise costs a worker
    // (BENCHMARKS.md, "Two keys per transition, and fewer promises in the worker").
    const call = this.durability ? this.replicated(script, ref, keyList, argv) : this.scripts.call(script, keyList, argv);
    return call.then((raw) => this.afterCommit(script, shard, parseRunReply(raw), firstTaskHistory));
  }

  /** What follows a committed transition: the clock, crash points, and the tasks it queued or withdrew. */
  private afterCommit(script: string, shard: number, reply: RunReply, firstTaskHistory: boolean): RunReply | Promise<RunReply> {
    this.clock.observe(reply.now);
    for (const committed of COMMITTED[script] ?? [script]) crashPoint(`afterCommit:${committed}`);
    if (reply.dispatch.length === 0 && reply.withdraw.length === 0) return reply;
    return this.dispatchCommitted(shard, reply, firstTaskHistory);
  }

  private async dispatchCommitted(shard: number, reply: RunReply, firstTaskHistory: boolean): Promise<RunReply> {
    if (reply.dispatch.length > 0) {
      const history = firstTaskHistory ? (reply.extra[1] as StreamEntry[] | undefined) : undefined;
      await this.dispatcher.dispatch(shard, reply.dispatch, reply.now, history);
    }
    if (reply.withdraw.length > 0) await this.dispatcher.withdraw(shard, reply.withdraw);
    return reply;
  }

  /**
   * A transition that must take effect: any reply but `Ok` or `Noop` becomes the typed error
   * {@link throwOnReply} names (the run and the transition).
   */
  private async requiredTransition(script: string, ref: RunRef, args: Array<string | number>): Promise<RunReply> {
    const reply = await this.transition(script, ref, args);
    throwOnReply(reply.code, { ...ref, transition: script });
    return reply;
  }

  /**
   * Replica acknowledgement of every transition from now on (the client's `durability` option,
   * see {@link DurabilityOption}); undefined turns it off.
   */
  requireReplicas(durability: Durability | undefined): void {
    this.durability = durability;
  }

  /** A script call followed by WAIT: its reply once enough replicas hold it, else ReplicationTimeoutError. */
  private async replicated(script: string, ref: RunRef, keys: string[], args: Array<string | number>): Promise<unknown> {
    const { replicas, timeout } = this.durability!;
    const { reply, acknowledged } = await this.scripts.callAndWait(script, keys, args, replicas, timeout);
    if (acknowledged < replicas) throw new ReplicationTimeoutError(ref.workflowId, ref.runId, script, replicas, acknowledged, timeout);
    return reply;
  }
}
