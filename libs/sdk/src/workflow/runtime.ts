import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  ActivityCancellationType,
  ChildWorkflowCancellationType,
  CancelledError,
  ContinueAsNewInitiator,
  EventType,
  FailureError,
  IllegalStateError,
  NondeterminismError,
  WorkflowTaskFailedCause,
  decodeAndValidateSync,
  isCancellation,
  validateValue,
} from '@durabull/common';
import type { FailureConverter, HistoryEvent, Memo, Payload, PayloadConverter } from '@durabull/common';
import type { CommandRecord, UpdateRequest } from '@durabull/engine';
import { chainTemplate } from '@durabull/engine';
import { DYNAMIC } from '../definitions/workflow';
import type { MessageKind, WorkflowDefinition } from '../definitions/workflow';
import { headerAttribute, headersOf } from '../interceptors';
import type { Headers, WorkflowInterceptor } from '../interceptors';
import type { Logger } from '../logger';
import { applyEvent, cancelledActivityError } from './activation';
import type { ActivationTarget } from './activation';
import type { NormalizedActivityOptions } from './activity-options';
import { closesRun, commandRecord, describeCommand, matchCommand } from './commands';
import type { ActivitySlot, Command, CommandKind, CommandOf, ExternalSlot, TimerSlot } from './commands';
import { patchesOfTask, skipsPatchMarker } from './patches';
import { cancelledLocalActivityError, durationMs, localActivityMarkerData, localActivityMarkersOfTask } from './local-activities';
import type { LocalActivityMarker, LocalActivityRequest, LocalActivitySlot, NormalizedLocalActivityOptions } from './local-activities';
import { ChildWorkflowEvents, cancelledChildError, normalizeChildOptions } from './children';
import type { ChildSlot, ChildWorkflowOptions } from './children';
import { MessageHandlers } from './message-handlers';
import type { MessageHandlerFunction } from './message-handlers';
import { SignalInbox } from './signals';
import { WorkflowUpdates } from './updates';
import type { UpdateDelivery } from './updates';
import { Prng } from './prng';
import { answerQuery } from './queries';
import type { QueryOutcome } from './queries';
import type { WorkflowInfo } from './types';
import { ContinueAsNewError } from './continue-as-new';
import type { ContinueAsNewRequest } from './continue-as-new';
import { newRandomnessSeed } from '../randomness-seed';

export type { WorkflowInfo } from './types';

/** Raised by a workflow task that cannot complete, with the WorkflowTaskFailed cause to record. */
export class WorkflowTaskFailure extends Error {
  readonly failedCause: WorkflowTaskFailedCause;

  constructor(
    override readonly cause: unknown,
    failedCause?: WorkflowTaskFailedCause,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.failedCause =
      failedCause ??
      (cause instanceof NondeterminismError
        ? WorkflowTaskFailedCause.NON_DETERMINISTIC_ERROR
        : WorkflowTaskFailedCause.WORKFLOW_WORKER_UNHANDLED_FAILURE);
  }
}

const storage = new AsyncLocalStorage<WorkflowRuntime>();

/** Whether `events[i]` is the WorkflowTaskStarted of a task that completed (WorkflowTaskCompleted follows). */
const completesTask = (events: readonly HistoryEvent[], i: number) =>
  events[i]!.eventType === EventType.WorkflowTaskStarted && events[i + 1]?.eventType === EventType.WorkflowTaskCompleted;

let turnEnd: Promise<void> | undefined;
/**
 * Resolves at the next macrotask (setImmediate), once every microtask queued before it has run.
 * The activations of one turn of the event loop share it: a promise and an Immediate each less.
 */
function endOfTurn(): Promise<void> {
  return (turnEnd ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turnEnd = undefined;
      resolve();
    }),
  ));
}

/** What a workflow task's activation threw, as the task's failure. */
function asTaskFailure(err: unknown): WorkflowTaskFailure {
  return err instanceof WorkflowTaskFailure ? err : new WorkflowTaskFailure(err);
}

/**
 * When a queued job runs within an activation: `init` (the workflow instance is created) first,
 * then `message` (signals and updates, in history order, so that handlers run before the run
 * method goes on), then everything else in history order.
 */
export type JobPhase = 'init' | 'message' | 'other';
const JOB_PHASES: readonly JobPhase[] = ['init', 'message', 'other'];

/** A `workflow.waitCondition` the code waits on. */
interface Condition {
  fn: () => boolean;
  resolve(value: boolean): void;
  reject(error: unknown): void;
  /** Its timeout's durable timer, if it has one. */
  timer?: TimerSlot;
}

/** A message handler that has not finished (its promise is pending). */
interface RunningHandler {
  kind: MessageKind;
  name: string;
  /** Updates: the update id. */
  id?: string;
}

/** The runtime of the workflow whose code is running, or undefined outside workflow code. */
export function currentWorkflowRuntime(): WorkflowRuntime | undefined {
  return storage.getStore();
}

export interface RuntimeEnvironment {
  namespace: string;
  payloads: PayloadConverter;
  failures: FailureConverter;
  logger: Logger;
  /** Hooks around the commands of workflow code (the worker option `interceptors.workflow`). */
  interceptors?: readonly WorkflowInterceptor[];
}

/** Temporal's thresholds for `continueAsNewSuggested` (history.historyCountSuggestContinueAsNew, history.historySizeSuggestContinueAsNew). */
const SUGGEST_CONTINUE_AS_NEW_EVENTS = 4096;
const SUGGEST_CONTINUE_AS_NEW_BYTES = 4 * 1024 * 1024;

/**
 * One workflow execution in a worker: its instance of the user's class and the state machines of
 * its activities and timers. History drives it: each workflow task's new events resolve
 * promises (an *activation*), the code runs until it blocks, and the commands it produced are
 * returned to be committed. On replay the same activations are rebuilt from history and each
 * command must match the event recorded for it, or {@link NondeterminismError} fails the task.
 *
 * What each event does is in `activation.ts` (one handler per event type), what each command is
 * in `commands.ts` (one descriptor per command kind).
 */
export class WorkflowRuntime {
  readonly info: WorkflowInfo;
  /** Last history event this runtime has applied. */
  lastEventId = 0;
  replaying = false;
  cancelRequested = false;
  closed = false;
  /** Whether the worker warned already that this run's history is long. */
  historyWarned = false;
  /**
   * The workflow task this worker completed last for the run: its token, that completion's time
   * and the events it wrote (WorkflowTaskCompleted and the command events, as stored), which end
   * the run's history as far as the worker knows: what predicting the next task takes.
   */
  lastTask?: { token: string; committedAt: number; written: HistoryEvent[] };
  /** The run's start headers (`WorkflowExecutionStarted`'s `header.fields`). */
  readonly headers: Readonly<Headers>;
  /** WorkflowExecutionStarted's attributes (payloads decoded): what a continue-as-new carries over. */
  private readonly startAttributes: Record<string, unknown>;

  private now = 0;
  private readonly prng: Prng;
  private activitySeq = 0;
  private timerSeq = 0;
  /** Activities and timers whose promises have not settled, by sequence number. */
  private readonly activities = new Map<number, ActivitySlot>();
  private readonly timers = new Map<number, TimerSlot>();
  private externalSeq = 0;
  /** Signals and cancellation requests to other runs whose outcome has not come, by sequence number. */
  private readonly externals = new Map<number, ExternalSlot>();
  private childSeq = 0;
  /** Child workflows whose result has not settled, by sequence number (children.ts). */
  private readonly children = new Map<number, ChildSlot>();
  /** `patched` / `deprecatePatch`: the first answer for each patch id of the run. */
  private readonly patches = new Map<string, boolean>();
  /** Patch ids whose markers the replayed workflow tasks recorded (core's NotifyHasPatch). */
  private readonly notifiedPatches = new Set<string>();
  /** Local activities whose promises have not settled, by sequence number (shared with activities). */
  private readonly localActivities = new Map<number, LocalActivitySlot>();
  /** The local activity markers of the workflow task being replayed, in history order (looked ahead). */
  private localActivityMarkers: LocalActivityMarker[] = [];
  /** Commands matched with their history events, by event id (the id later events refer to). */
  private readonly matched = new Map<number, Command>();
  /** Commands of the activation in progress (not sent yet). */
  private pending: Command[] = [];
  /** Commands sent (or replayed) whose events have not been seen yet, in order. */
  private readonly unmatched: Command[] = [];
  private jobs: Record<JobPhase, Array<() => void>> = { init: [], message: [], other: [] };
  /** While the workflow's constructor runs: handler settings it made, applied once it returns. */
  private constructing?: Array<() => void>;
  /** The run's workflow instance (the user's class), once created. */
  private instance?: Record<string | symbol, (...a: unknown[]) => unknown>;
  /** The run's signal, query and update handlers, once its workflow instance exists. */
  handlers?: MessageHandlers;
  /** Signals delivered, and those waiting for a handler. */
  private readonly signals: SignalInbox;
  /** Updates waiting for a handler, and the current activation's rejections. */
  private readonly updates: WorkflowUpdates;
  /** Message handlers still running, by a sequence number. */
  private readonly runningHandlers = new Map<number, RunningHandler>();
  private handlerSeq = 0;
  /** `waitCondition`s not yet resolved, in the order they were made. */
  private readonly conditions = new Set<Condition>();
  private taskFailure: unknown;
  /** Set while a query handler runs: nothing may be recorded (see {@link assertWritable}). */
  private readOnly = false;
  /** What the event handlers may do to this run. */
  private readonly target: ActivationTarget;

  constructor(
    readonly definition: WorkflowDefinition,
    started: HistoryEvent,
    runId: string,
    private readonly env: RuntimeEnvironment,
  ) {
    const attrs = started.attributes as {
      workflowId: string;
      taskQueue: string;
      workflowRunTimeout?: number;
      workflowExecutionTimeout?: number;
      workflowTaskTimeout?: number;
      randomnessSeed?: string;
      attempt?: number;
      continuedExecutionRunId?: string;
      firstExecutionRunId?: string;
      cronSchedule?: string;
      parentWorkflowExecution?: { workflowId: string; runId: string };
    };
    this.startAttributes = started.attributes as Record<string, unknown>;
    this.info = {
      workflowId: attrs.workflowId,
      runId,
      workflowType: definition.name,
      taskQueue: attrs.taskQueue,
      namespace: env.namespace,
      attempt: attrs.attempt ?? 1,
      ...(attrs.continuedExecutionRunId ? { continuedRunId: attrs.continuedExecutionRunId } : {}),
      firstExecutionRunId: attrs.firstExecutionRunId ?? runId,
      ...(attrs.cronSchedule ? { cronSchedule: attrs.cronSchedule } : {}),
      ...(attrs.parentWorkflowExecution ? { parent: { ...attrs.parentWorkflowExecution, namespace: env.namespace } } : {}),
      startTime: new Date(started.eventTime),
      runTimeout: attrs.workflowRunTimeout ?? 0,
      executionTimeout: attrs.workflowExecutionTimeout ?? 0,
      taskTimeout: attrs.workflowTaskTimeout ?? 10_000,
      historyLength: 0,
      historySize: 0,
      continueAsNewSuggested: false,
    };
    this.prng = new Prng(attrs.randomnessSeed ?? runId);
    this.headers = Object.freeze(headersOf(started.attributes as Record<string, unknown>));
    this.target = {
      payloads: env.payloads,
      failures: env.failures,
      enqueue: (job, phase = 'other') => this.jobs[phase].push(job),
      matchCommand: (event) => this.match(event),
      matchedCommand: <K extends CommandKind>(eventId: number, kind: K) => {
        const command = this.matched.get(eventId);
        return command?.kind === kind ? (command as CommandOf<K>) : undefined;
      },
      initializeWorkflow: () => this.initialize(),
      startWorkflow: (input) => this.start(input),
      deliverSignal: (name, input) => this.signals.deliver(name, input),
      deliverCancellation: () => this.deliverCancellation(),
      settleActivity: (slot) => this.settle(slot, this.activities),
      settleTimer: (slot) => this.settle(slot, this.timers),
      settleExternal: (slot) => this.settle(slot, this.externals),
      markClosed: () => {
        this.closed = true;
      },
      children: new ChildWorkflowEvents(env.payloads, env.failures, (slot) => this.requestChildCancel(slot)),
    };
    this.signals = new SignalInbox({
      payloads: env.payloads,
      handlers: () => this.handlers,
      runHandler: (kind, name, call) => this.runHandler(kind, name, call),
      warn: (message, attributes) => this.log('warn', message, attributes),
    });
    this.updates = new WorkflowUpdates({
      payloads: env.payloads,
      failures: env.failures,
      handlers: () => this.handlers,
      lastEventId: () => this.lastEventId,
      addCommand: (command) => this.addCommand(command),
      runReadOnly: (fn) => this.runReadOnly(fn),
      runHandler: (kind, name, call, id) => this.runHandler(kind, name, call, id),
      failTask: (error) => {
        this.taskFailure ??= error;
      },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Driving from history
  // ---------------------------------------------------------------------------------------------

  /**
   * Applies the events of a workflow task (all of history for a new runtime, the new part for a
   * cached one), replaying every completed task on the way, then runs the current activation.
   * @returns the commands of the current task, as events to append after WorkflowTaskCompleted.
   * @throws WorkflowTaskFailure (nondeterminism, a bug in workflow code, an unknown event type).
   */
  async runTask(
    events: HistoryEvent[],
    taskStartTime: number,
    completedEventId: number,
    identity: string,
    updates: readonly UpdateRequest[] = [],
  ): Promise<CommandRecord[]> {
    await this.activateTask(events, taskStartTime, updates);
    return this.takeCommands(completedEventId, identity);
  }

  /**
   * The first half of {@link runTask}: applies the task's events and runs its activation. The
   * commands stay pending (local activities may add to them) until {@link takeCommands}.
   * @throws WorkflowTaskFailure (nondeterminism, a bug in workflow code, an unknown event type).
   */
  activateTask(events: HistoryEvent[], taskStartTime: number, updates: readonly UpdateRequest[] = []): Promise<void> {
    this.updates.takeRejections();
    try {
      // A cached run's next task shows no completed task to replay: its events apply at once, and
      // the activation's promise is returned with one catch, not awaited in an async frame (two).
      if (events.some((_, i) => completesTask(events, i))) return this.replayAndActivate(events, taskStartTime, updates);
      for (const event of events) this.applyHistoryEvent(event);
      this.enqueueUpdates(updates);
      return this.activate(taskStartTime, false).catch((err: unknown) => {
        throw asTaskFailure(err);
      });
    } catch (err) {
      return Promise.reject(asTaskFailure(err));
    }
  }

  private async replayAndActivate(events: HistoryEvent[], taskStartTime: number, updates: readonly UpdateRequest[]): Promise<void> {
    try {
      await this.replayHistory(events);
      this.enqueueUpdates(updates);
      await this.activate(taskStartTime, false);
    } catch (err) {
      throw asTaskFailure(err);
    }
  }

  /** The update requests a task delivers (input decoded), after its events' messages. */
  private enqueueUpdates(updates: readonly UpdateRequest[]): void {
    for (const request of updates) this.enqueueUpdate({ ...request, live: true });
  }

  /** The second half of {@link runTask}: the task's commands, as events to append after WorkflowTaskCompleted. */
  takeCommands(completedEventId: number, identity: string): CommandRecord[] {
    const commands = this.pending;
    this.pending = [];
    this.unmatched.push(...commands);
    const records = commands.map((command, i) =>
      commandRecord(command, { workflowTaskCompletedEventId: completedEventId, identity, eventId: completedEventId + 1 + i }),
    );
    // Rejected updates: no event, so after every command (their order does not matter).
    return [...records, ...this.updates.takeRejections()];
  }

  /** Queues an update's delivery with the activation's message jobs (after the events' signals). */
  private enqueueUpdate(update: UpdateDelivery): void {
    this.target.enqueue(() => this.updates.deliver(update), 'message');
  }

  /**
   * The updates that the completed workflow task starting at `events[started]` accepted: their
   * WorkflowExecutionUpdateAccepted events follow its WorkflowTaskCompleted (up to the next task),
   * but the updates were delivered during its activation, which replay runs before reaching them.
   */
  private lookAheadUpdates(events: HistoryEvent[], started: number): void {
    for (let j = started + 2; j < events.length && events[j]!.eventType !== EventType.WorkflowTaskStarted; j++) {
      const event = events[j]!;
      if (event.eventType !== EventType.WorkflowExecutionUpdateAccepted) continue;
      const { protocolInstanceId, acceptedRequest } = event.attributes as {
        protocolInstanceId: string;
        acceptedRequest: { meta: { identity: string }; input: { name: string; args: Payload[] } };
      };
      this.enqueueUpdate({
        updateId: protocolInstanceId,
        name: acceptedRequest.input.name,
        input: acceptedRequest.input.args,
        identity: acceptedRequest.meta.identity,
        live: false,
      });
    }
  }

  /**
   * Applies events, replaying the activation of every workflow task they show completed.
   * @returns how many completed workflow tasks were replayed.
   */
  private async replayHistory(events: HistoryEvent[]): Promise<number> {
    let replayed = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      this.applyHistoryEvent(event);
      // A completed workflow task: replay the activation it ran.
      if (completesTask(events, i)) {
        this.lookAheadUpdates(events, i);
        for (const id of patchesOfTask(events, i)) this.notifiedPatches.add(id);
        this.localActivityMarkers = localActivityMarkersOfTask(events, i);
        await this.activate(Date.parse(event.eventTime), true);
        replayed++;
      }
    }
    return replayed;
  }

  /** Applies one event of history: its effect on the code's state machines, and the run's history figures. */
  private applyHistoryEvent(event: HistoryEvent): void {
    this.lastEventId = event.eventId;
    this.info.historyLength = event.eventId;
    this.info.historySize += JSON.stringify(event.attributes).length;
    this.info.continueAsNewSuggested =
      this.info.historyLength >= SUGGEST_CONTINUE_AS_NEW_EVENTS || this.info.historySize >= SUGGEST_CONTINUE_AS_NEW_BYTES;
    applyEvent(this.target, event);
  }

  /**
   * Rebuilds the run from its whole history to answer queries: every completed workflow task is
   * replayed, and nothing runs after the last one (the events that follow it were never processed
   * by the code) and nothing is committed. The state is the run's as of its last completed
   * workflow task.
   * @returns whether any workflow task completed (otherwise the code never ran: no state to query).
   * @throws WorkflowTaskFailure (nondeterminism, a bug in workflow code, an unknown event type).
   */
  async replayForQuery(events: HistoryEvent[]): Promise<boolean> {
    let replayed: number;
    try {
      replayed = await this.replayHistory(events);
    } catch (err) {
      throw err instanceof WorkflowTaskFailure ? err : new WorkflowTaskFailure(err);
    }
    // Query handlers are not a replay: their logs are written.
    this.replaying = false;
    return replayed > 0;
  }

  /** Pairs a command event of history with the next command the code produced. */
  private match(event: HistoryEvent): void {
    // A deprecated patch marker the code no longer asks for is passed over.
    if (skipsPatchMarker(this.unmatched[0], event)) return;
    const command = this.unmatched.shift();
    matchCommand(command, event);
    this.matched.set(event.eventId, command!);
    if (closesRun(command!)) this.closed = true;
  }

  /** Runs queued jobs, then lets the code run until every promise it waits on is pending. */
  private async activate(now: number, replaying: boolean): Promise<void> {
    if (this.unmatched.length > 0) {
      const command = describeCommand(this.unmatched[0]!);
      throw new NondeterminismError(
        `Nondeterminism error: Workflow code produced ${command.type} that history does not have (after event ${this.lastEventId})`,
        { command },
      );
    }
    this.now = now;
    this.replaying = replaying;
    const jobs = this.jobs;
    this.jobs = { init: [], message: [], other: [] };
    storage.run(this, () => {
      for (const phase of JOB_PHASES) for (const job of jobs[phase]) job();
    });
    // Microtasks (every continuation of workflow code) all run before the next macrotask; then
    // the conditions the code waits on are checked, and the code runs again while one holds.
    // On replay, local activities resolve from their markers once the code waits, as they did.
    do {
      await endOfTurn();
    } while (this.taskFailure === undefined && (this.checkConditions() || (replaying && this.resolveFromMarker())));
    // Live updates whose handler is still not set are rejected.
    if (!replaying) this.updates.endActivation();
    if (this.taskFailure !== undefined) {
      const failure = this.taskFailure;
      this.taskFailure = undefined;
      throw new WorkflowTaskFailure(failure);
    }
    if (replaying) {
      this.unmatched.push(...this.pending);
      this.pending = [];
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Jobs
  // ---------------------------------------------------------------------------------------------

  /** Creates the workflow instance and its message handlers (before any signal is delivered). */
  private initialize(): void {
    this.constructing = [];
    try {
      const instance = new this.definition.cls() as Record<string | symbol, (...a: unknown[]) => unknown>;
      this.handlers = new MessageHandlers(this.definition, instance);
      this.instance = instance;
      // Handlers the constructor set, now that there is a table to set them in.
      for (const set of this.constructing) set();
    } catch (error) {
      this.onRunError(error);
    } finally {
      this.constructing = undefined;
    }
  }

  private start(input: Payload[]): void {
    const definition = this.definition;
    const instance = this.instance;
    // The constructor threw: that was reported already.
    if (!instance) return;
    const run = async () => {
      const args = decodeAndValidateSync(input, [...definition.paramTypes], `workflow ${definition.name}`, this.env.payloads);
      return await instance[definition.runMethod]!(...args);
    };
    run().then(
      (result) => this.addCommand({ kind: 'completeWorkflow', result: [this.env.payloads.toPayload(result)] }),
      (error) => this.onRunError(error),
    );
  }

  /**
   * The failure rule: a {@link FailureError} (ApplicationError, ActivityError, CancelledError,
   * TimeoutError, TerminatedError, ServerError) fails the workflow; anything else, Durabull
   * errors outside that branch included, fails the workflow task.
   */
  private onRunError(error: unknown): void {
    if (error instanceof ContinueAsNewError) {
      try {
        this.addCommand(this.continueAsNewCommand(error.request));
      } catch (err) {
        this.taskFailure ??= err;
      }
    } else if (this.cancelRequested && isCancellation(error)) {
      this.addCommand({ kind: 'cancelWorkflow' });
    } else if (error instanceof FailureError) {
      this.addCommand({ kind: 'failWorkflow', failure: this.env.failures.errorToFailure(error) });
    } else {
      // Not a workflow failure (a bug, a TypeError, an IllegalStateError): fail the task, which
      // is retried until fixed.
      this.taskFailure ??= error;
    }
  }

  /**
   * The continue-as-new command: its WorkflowExecutionContinuedAsNew attributes and the next run's
   * WorkflowExecutionStarted, which carries over this run's (workflow type, task queue, timeouts,
   * memo, retry policy, cron schedule, parent, first run id) unless the request changes them; its
   * input and headers are not reused (TEMPORAL-SEMANTICS §15): the request brings its own.
   */
  private continueAsNewCommand(request: ContinueAsNewRequest): CommandOf<'continueAsNew'> {
    const start = this.startAttributes;
    const workflowType = request.workflowType ?? this.info.workflowType;
    const taskQueue = request.taskQueue ?? this.info.taskQueue;
    const workflowRunTimeout = request.runTimeout ?? this.info.runTimeout;
    const workflowTaskTimeout = request.taskTimeout ?? this.info.taskTimeout;
    const input = request.args.map((arg) => this.env.payloads.toPayload(arg));
    const memo = request.memo
      ? { fields: Object.fromEntries(Object.entries(request.memo).map(([key, value]) => [key, this.env.payloads.toPayload(value)])) }
      : (start['memo'] as Memo | undefined);
    const header = headerAttribute(request.headers ?? {});
    const newRunId = randomUUID();
    const next: Record<string, unknown> = {
      ...chainTemplate(start),
      workflowType,
      taskQueue,
      input,
      workflowRunTimeout,
      workflowTaskTimeout,
      attempt: 1,
      firstExecutionRunId: this.info.firstExecutionRunId,
      randomnessSeed: newRandomnessSeed(),
      originalExecutionRunId: newRunId,
      continuedExecutionRunId: this.info.runId,
      initiator: ContinueAsNewInitiator.WORKFLOW,
    };
    if (header) next['header'] = header;
    else delete next['header'];
    if (memo) next['memo'] = memo;
    else delete next['memo'];
    return {
      kind: 'continueAsNew',
      attributes: {
        newExecutionRunId: newRunId,
        workflowType,
        taskQueue,
        input,
        workflowRunTimeout,
        workflowTaskTimeout,
        backoffStartInterval: 0,
        initiator: ContinueAsNewInitiator.WORKFLOW,
        ...(header ? { header } : {}),
        ...(memo ? { memo } : {}),
      },
      start: next,
      chain: start['retryPolicy'] !== undefined || start['cronSchedule'] !== undefined,
    };
  }

  /** Marks an activity or timer settled and forgets it; false when it already was. */
  private settle<S extends ActivitySlot | TimerSlot | ExternalSlot>(slot: S, open: Map<number, S>): boolean {
    if (slot.settled) return false;
    slot.settled = true;
    open.delete(slot.seq);
    return true;
  }

  /**
   * Calls a message handler (a signal's, or an update's with its `id`) and follows what it
   * returns: it counts as running until its promise settles ({@link allHandlersFinished}), and an
   * error it throws, at once or later, goes through the run method's failure rule.
   */
  runHandler(kind: MessageKind, name: string, call: () => unknown, id?: string): void {
    const seq = ++this.handlerSeq;
    let result: unknown;
    try {
      result = call();
    } catch (error) {
      this.onRunError(error);
      return;
    }
    if (!isThenable(result)) return;
    this.runningHandlers.set(seq, { kind, name, id });
    result.then(
      () => this.runningHandlers.delete(seq),
      (error: unknown) => {
        this.runningHandlers.delete(seq);
        this.onRunError(error);
      },
    );
  }

  /**
   * Resolves the conditions that hold now (cancelling their timeout timers), in the order they
   * were made. Returns whether any did, so the code runs again.
   */
  private checkConditions(): boolean {
    if (this.conditions.size === 0) return false;
    let progressed = false;
    storage.run(this, () => {
      for (const condition of [...this.conditions]) {
        let holds: boolean;
        try {
          holds = Boolean(condition.fn());
        } catch (error) {
          this.settleCondition(condition);
          condition.reject(error);
          progressed = true;
          continue;
        }
        if (!holds) continue;
        this.settleCondition(condition);
        condition.resolve(true);
        progressed = true;
      }
    });
    return progressed;
  }

  /** Forgets a condition, cancelling its timeout timer if it has one. */
  private settleCondition(condition: Condition): void {
    this.conditions.delete(condition);
    if (condition.timer) this.cancelTimer(condition.timer, new CancelledError('Timer cancelled'));
  }

  /** A cancellation request reaches the code: everything it waits on is cancelled. */
  private deliverCancellation(): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    for (const condition of [...this.conditions]) {
      this.settleCondition(condition);
      condition.reject(new CancelledError('Condition cancelled'));
    }
    for (const slot of [...this.activities.values()]) this.cancelActivity(slot);
    for (const slot of [...this.localActivities.values()]) this.cancelLocalActivity(slot);
    for (const slot of [...this.timers.values()]) this.cancelTimer(slot, new CancelledError('Timer cancelled'));
    for (const slot of [...this.children.values()]) this.cancelChild(slot);
    // A signal to another run not sent yet is dropped (Temporal core); one sent waits for its outcome.
    for (const slot of [...this.externals.values()]) {
      const unsent = this.pending.findIndex((c) => c.kind === 'signalExternal' && c.slot === slot);
      if (unsent < 0) continue;
      this.pending.splice(unsent, 1);
      this.settle(slot, this.externals);
      slot.reject(new CancelledError('Signal was cancelled before being sent'));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The `workflow.*` API
  // ---------------------------------------------------------------------------------------------

  currentTime(): number {
    return this.now;
  }

  random(): number {
    this.assertWritable('random');
    return this.prng.next();
  }

  uuid4(): string {
    this.assertWritable('uuid4');
    return this.prng.uuid4();
  }

  // ---------------------------------------------------------------------------------------------
  // Queries (read-only)
  // ---------------------------------------------------------------------------------------------

  /**
   * Throws when the code runs read-only (a query handler): `action` would record a command or
   * change the run's replayed state.
   * @throws IllegalStateError `While in read-only function, action attempted: <action>`
   */
  assertWritable(action: string): void {
    if (this.readOnly) throw new IllegalStateError(`While in read-only function, action attempted: ${action}`);
  }

  /** Runs `fn` as this run's code in read-only mode (see {@link assertWritable}). */
  runReadOnly<T>(fn: () => T): T {
    const previous = this.readOnly;
    this.readOnly = true;
    try {
      return storage.run(this, fn);
    } finally {
      this.readOnly = previous;
    }
  }

  /** Sets (or with `fn` undefined, removes) a query handler, or the dynamic one. */
  setQueryHandler(name: string | typeof DYNAMIC, fn: MessageHandlerFunction | undefined): void {
    this.assertWritable('set query handler');
    const handlers = this.handlers;
    if (!handlers) throw new IllegalStateError('workflow.setQueryHandler() may only be called once the workflow instance exists');
    handlers.set('query', name, fn);
  }

  /** Answers a query from the run's current state, synchronously and read-only (see `queries.ts`). */
  query(name: string, input: Payload[]): QueryOutcome {
    return answerQuery({ payloads: this.env.payloads, handlers: this.handlers, runReadOnly: (fn) => this.runReadOnly(fn) }, name, input);
  }

  get logger(): Logger {
    return this.env.logger;
  }

  get interceptors(): readonly WorkflowInterceptor[] {
    return this.env.interceptors ?? [];
  }

  scheduleActivity(
    activityType: string,
    args: unknown[],
    options: NormalizedActivityOptions,
    resultType: Function | undefined,
    headers: Headers = {},
  ): { promise: Promise<unknown>; activityId: string; cancel: () => void } {
    this.assertWritable('schedule activity');
    const seq = ++this.activitySeq;
    const activityId = options.activityId ?? String(seq);
    for (const open of this.activities.values()) {
      if (open.activityId === activityId) {
        throw new TypeError(`Activity id ${JSON.stringify(activityId)} is already used by an open activity of this workflow`);
      }
    }
    const input = this.env.payloads.toPayloads(args);
    let slot!: ActivitySlot;
    const promise = new Promise<unknown>((resolve, reject) => {
      slot = {
        seq,
        activityId,
        activityType,
        cancellationType: options.cancellationType,
        resultType,
        settled: false,
        resolve,
        reject,
      };
    });
    // A handle nobody awaits must not crash the worker with an unhandled rejection.
    promise.catch(() => undefined);
    this.activities.set(seq, slot);
    this.addCommand({ kind: 'scheduleActivity', slot, input, options, headers });
    return {
      promise,
      activityId,
      cancel: () => {
        this.assertWritable('request cancel activity');
        this.cancelActivity(slot);
      },
    };
  }

  private cancelActivity(slot: ActivitySlot): void {
    if (slot.settled) return;
    const unsent = this.pending.findIndex((c) => c.kind === 'scheduleActivity' && c.slot === slot);
    if (unsent >= 0) {
      // Cancelled in the task that scheduled it: the schedule is dropped and nothing is written.
      this.pending.splice(unsent, 1);
    } else if (slot.cancellationType !== ActivityCancellationType.ABANDON) {
      if (this.pending.some((c) => c.kind === 'requestCancelActivity' && c.slot === slot)) return;
      this.addCommand({ kind: 'requestCancelActivity', slot });
      if (slot.cancellationType === ActivityCancellationType.WAIT_CANCELLATION_COMPLETED) return;
    }
    this.settle(slot, this.activities);
    slot.reject(cancelledActivityError(slot, []));
  }

  // ---------------------------------------------------------------------------------------------
  // Local activities (local-activities.ts): run by the worker, resolved by their markers
  // ---------------------------------------------------------------------------------------------

  /** Schedules a local activity: no command, the worker runs it ({@link takeLocalActivityRequests}). */
  scheduleLocalActivity(
    activityType: string,
    args: unknown[],
    options: NormalizedLocalActivityOptions,
    resultType: Function | undefined,
    headers: Headers = {},
  ): { promise: Promise<unknown>; activityId: string; cancel: () => void } {
    this.assertWritable('schedule local activity');
    const input = this.env.payloads.toPayloads(args);
    let slot!: LocalActivitySlot;
    const promise = new Promise<unknown>((resolve, reject) => {
      slot = this.newLocalActivity({ activityType, input, headers, options, attempt: 1, originalScheduleTime: Date.now() }, resultType, resolve, reject);
    });
    promise.catch(() => undefined);
    const { chain } = slot;
    return {
      promise,
      activityId: slot.request.activityId,
      cancel: () => {
        this.assertWritable('request cancel local activity');
        if (chain.cancelBackoff) chain.cancelBackoff();
        else this.cancelLocalActivity(chain.slot);
      },
    };
  }

  /** A local activity slot with the next sequence number (its first attempts, or those after a backoff timer). */
  private newLocalActivity(
    request: Pick<LocalActivityRequest, 'activityType' | 'input' | 'headers' | 'options' | 'attempt' | 'originalScheduleTime'>,
    resultType: Function | undefined,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    chain?: LocalActivitySlot['chain'],
  ): LocalActivitySlot {
    const seq = ++this.activitySeq;
    const activityId = request.options.activityId ?? String(seq);
    const slot: LocalActivitySlot = {
      request: { ...request, seq, activityId, workflowTime: this.now },
      resultType,
      chain: chain ?? ({} as LocalActivitySlot['chain']),
      running: false,
      settled: false,
      resolve,
      reject,
    };
    slot.chain.slot = slot;
    slot.chain.cancelBackoff = undefined;
    this.localActivities.set(seq, slot);
    return slot;
  }

  /** The local activities the worker must start now (live only), marked as running. */
  takeLocalActivityRequests(): LocalActivityRequest[] {
    if (this.replaying) return [];
    const requests: LocalActivityRequest[] = [];
    for (const slot of this.localActivities.values()) {
      if (slot.running) continue;
      slot.running = true;
      requests.push(slot.request);
    }
    return requests;
  }

  /**
   * The worker stopped running the run's local activities: they are run again by a later task.
   * Returns their requests, to stop them.
   */
  abandonLocalActivities(): LocalActivityRequest[] {
    const requests: LocalActivityRequest[] = [];
    for (const slot of this.localActivities.values()) {
      if (!slot.running) continue;
      slot.running = false;
      requests.push(slot.request);
    }
    return requests;
  }

  /** Whether the code still waits for local activity `seq`. */
  localActivityPending(seq: number): boolean {
    return this.localActivities.has(seq);
  }

  /** Whether the commands of the task in progress close the run. */
  get closing(): boolean {
    return this.pending.some(closesRun);
  }

  /** How many local activities the code still waits for (the workflow task waits for them). */
  get pendingLocalActivities(): number {
    return this.localActivities.size;
  }

  /**
   * A local activity the worker ran resolved: its marker is recorded and the code runs on (its
   * commands join the task's), the workflow clock at the marker's complete time.
   * @throws WorkflowTaskFailure (a bug in workflow code).
   */
  async resolveLocalActivity(seq: number, marker: LocalActivityMarker): Promise<void> {
    const slot = this.localActivities.get(seq);
    if (!slot) return;
    storage.run(this, () => this.resolveLocal(slot, marker));
    try {
      await this.activate(this.now, false);
    } catch (err) {
      throw err instanceof WorkflowTaskFailure ? err : new WorkflowTaskFailure(err);
    }
  }

  /**
   * Replay: resolves the local activity of the next marker of the task being replayed, if the
   * code has scheduled it; markers of local activities settled otherwise (cancelled) are dropped.
   */
  private resolveFromMarker(): boolean {
    while (this.localActivityMarkers.length > 0) {
      const marker = this.localActivityMarkers[0]!;
      const slot = this.localActivities.get(marker.data.seq);
      if (!slot && marker.data.seq > this.activitySeq) return false;
      this.localActivityMarkers.shift();
      if (!slot) continue;
      storage.run(this, () => this.resolveLocal(slot, marker));
      return true;
    }
    return false;
  }

  /** Records a local activity's marker and settles its promise, or starts its backoff timer. */
  private resolveLocal(slot: LocalActivitySlot, marker: LocalActivityMarker): void {
    if (slot.settled) return;
    slot.settled = true;
    this.localActivities.delete(slot.request.seq);
    this.addCommand({ kind: 'recordLocalActivityMarker', slot, marker });
    const completeTime = marker.data.complete_time === null ? Number.NaN : Date.parse(marker.data.complete_time);
    if (completeTime > this.now) this.now = completeTime;
    if (marker.data.backoff !== null) {
      this.backOffLocal(slot, durationMs(marker.data.backoff), marker);
    } else if (marker.failure) {
      slot.reject(this.env.failures.failureToError(marker.failure));
    } else {
      try {
        const value = marker.result ? this.env.payloads.fromPayload(marker.result, slot.resultType) : undefined;
        validateValue(value, slot.resultType, `${slot.request.activityType} result`);
        slot.resolve(value);
      } catch (error) {
        slot.reject(error);
      }
    }
  }

  /** A retry too far off for the worker: a durable timer, then the next attempts as a new local activity. */
  private backOffLocal(slot: LocalActivitySlot, ms: number, marker: LocalActivityMarker): void {
    const { request, chain } = slot;
    const timer = this.newTimer(Math.max(1, ms));
    chain.cancelBackoff = () => this.cancelTimer(timer.slot, new CancelledError('Timer cancelled'));
    const originalScheduleTime = marker.data.original_schedule_time === null ? request.originalScheduleTime : Date.parse(marker.data.original_schedule_time);
    timer.promise.then(
      () => {
        this.newLocalActivity({ ...request, attempt: marker.data.attempt + 1, originalScheduleTime }, slot.resultType, slot.resolve, slot.reject, chain);
      },
      () => slot.reject(cancelledLocalActivityError(request)),
    );
  }

  /**
   * Cancels a local activity by its cancellation type: TRY_CANCEL and ABANDON resolve it at once
   * (a marker with the cancellation), TRY_CANCEL also stops the running attempt;
   * WAIT_CANCELLATION_COMPLETED stops the attempt and waits for its outcome.
   */
  private cancelLocalActivity(slot: LocalActivitySlot): void {
    if (slot.settled) return;
    const { request } = slot;
    const type = request.options.cancellationType;
    if (type === ActivityCancellationType.WAIT_CANCELLATION_COMPLETED) {
      // Its outcome comes from the worker (which does not start it if it has not yet), or on
      // replay from its marker.
      request.cancelRequested = true;
      request.cancel?.('wait');
      return;
    }
    request.cancel?.(type === ActivityCancellationType.ABANDON ? 'abandon' : 'try');
    this.resolveLocal(slot, {
      data: localActivityMarkerData(request, null),
      failure: this.env.failures.errorToFailure(cancelledLocalActivityError(request)),
    });
  }

  startTimer(ms: number): Promise<void> {
    return this.newTimer(ms).promise;
  }

  private newTimer(ms: number): { slot: TimerSlot; promise: Promise<void> } {
    this.assertWritable('start timer');
    const seq = ++this.timerSeq;
    let slot!: TimerSlot;
    const promise = new Promise<void>((resolve, reject) => {
      slot = { seq, timerId: String(seq), ms, settled: false, resolve, reject };
    });
    promise.catch(() => undefined);
    this.timers.set(seq, slot);
    this.addCommand({ kind: 'startTimer', slot });
    return { slot, promise };
  }

  /**
   * `workflow.waitCondition`: true once `fn()` holds (checked now, then after every activation
   * step), false when the durable timer of `timeoutMs` fires first (the timer is cancelled when
   * `fn` wins). Rejects with a CancelledError when the workflow is cancelled meanwhile.
   */
  waitCondition(fn: () => boolean, timeoutMs?: number): Promise<boolean> {
    this.assertWritable('wait condition');
    if (fn()) return Promise.resolve(true);
    if (timeoutMs === 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const condition: Condition = { fn, resolve, reject };
      this.conditions.add(condition);
      if (timeoutMs === undefined) return;
      const timer = this.newTimer(timeoutMs);
      condition.timer = timer.slot;
      timer.promise.then(
        () => {
          if (!this.conditions.delete(condition)) return;
          resolve(false);
        },
        (error: unknown) => {
          if (!this.conditions.delete(condition)) return;
          reject(error);
        },
      );
    });
  }

  /**
   * Signals another run (`workflowExecution.runId` '' for the id's current run): resolves once
   * the other run recorded it (ExternalWorkflowExecutionSignaled), rejects when it could not
   * (SignalExternalWorkflowExecutionFailed; activation.ts builds the error).
   */
  signalExternal(
    workflowExecution: ExternalSlot['workflowExecution'],
    signalName: string,
    args: unknown[],
    childWorkflowOnly = false,
    headers: Headers = {},
  ): Promise<void> {
    this.assertWritable('signal external workflow');
    const input = this.env.payloads.toPayloads(args);
    return this.newExternal(workflowExecution, (slot) => ({ kind: 'signalExternal', slot, signalName, input, headers }), childWorkflowOnly);
  }

  /** Asks another run to cancel: resolves once the request is recorded there, rejects when it could not be. */
  cancelExternal(workflowExecution: ExternalSlot['workflowExecution'], childWorkflowOnly = false): Promise<void> {
    this.assertWritable('cancel external workflow');
    // Temporal core's reason (the TypeScript handle's cancel() takes none).
    const reason = `Cancel requested by workflow with run id ${this.info.runId} with reason: `;
    return this.newExternal(workflowExecution, (slot) => ({ kind: 'cancelExternal', slot, reason }), childWorkflowOnly);
  }

  private newExternal(
    workflowExecution: ExternalSlot['workflowExecution'],
    command: (slot: ExternalSlot) => Command,
    childWorkflowOnly: boolean,
  ): Promise<void> {
    const seq = ++this.externalSeq;
    let slot!: ExternalSlot;
    const promise = new Promise<void>((resolve, reject) => {
      slot = { seq, workflowExecution: { ...workflowExecution }, settled: false, resolve, reject, ...(childWorkflowOnly ? { childWorkflowOnly } : {}) };
    });
    promise.catch(() => undefined);
    this.externals.set(seq, slot);
    this.addCommand(command(slot));
    return promise;
  }

  /**
   * `workflow.patched` / `deprecatePatch` (patches.ts): whether the code takes the patch's new
   * branch. The first answer for an id is kept for the rest of the run; it is true when not
   * replaying (a marker is recorded) or when the replayed workflow task recorded the marker.
   */
  patch(patchId: string, deprecated: boolean): boolean {
    this.assertWritable(deprecated ? 'deprecatePatch' : 'patched');
    const memo = this.patches.get(patchId);
    if (memo !== undefined) return memo;
    const use = !this.replaying || this.notifiedPatches.has(patchId);
    this.patches.set(patchId, use);
    if (use) this.addCommand({ kind: 'recordPatchMarker', patchId, deprecated });
    return use;
  }

  /** Sets (or with `fn` undefined, removes) a signal handler; signals kept for it are delivered now. */
  setSignalHandler(name: string | typeof DYNAMIC, fn: MessageHandlerFunction | undefined): void {
    this.assertWritable('set signal handler');
    const handlers = this.handlers;
    if (!handlers) {
      if (!this.constructing) throw new IllegalStateError('workflow.setSignalHandler() may only be called once the workflow instance exists');
      // Called by the workflow's constructor: set once the instance exists.
      this.constructing.push(() => this.setSignalHandler(name, fn));
      return;
    }
    handlers.set('signal', name, fn);
    if (fn !== undefined) this.signals.handlerSet(name);
  }

  /**
   * Sets (or with `fn` undefined, removes) an update handler and its validator; updates that
   * arrived in this activation without a handler are handled now.
   */
  setUpdateHandler(name: string | typeof DYNAMIC, fn: MessageHandlerFunction | undefined, validator?: MessageHandlerFunction): void {
    this.assertWritable('set update handler');
    const handlers = this.handlers;
    if (!handlers) throw new IllegalStateError('workflow.setUpdateHandler() may only be called once the workflow instance exists');
    handlers.set('update', name, fn, validator);
    if (fn !== undefined) this.updates.handlerSet(name);
  }

  /** Whether no signal or update handler is still running. */
  allHandlersFinished(): boolean {
    return this.runningHandlers.size === 0;
  }

  /**
   * What a run that this worker just closed leaves behind, logged once: signal handlers still
   * running (Temporal's unfinished-handlers warning) and signals that never found a handler.
   */
  reportClose(): void {
    const unfinished = new Map<string, number>();
    for (const { kind, name } of this.runningHandlers.values()) {
      if (kind === 'signal') unfinished.set(name, (unfinished.get(name) ?? 0) + 1);
    }
    if (unfinished.size > 0) {
      const signals = [...unfinished].map(([name, count]) => ({ name, count }));
      this.log(
        'warn',
        '[TMPRL1102] Workflow finished while signal handlers are still running. This may have interrupted work that the ' +
          'signal handler was doing. You can wait for all update and signal handlers to complete by using ' +
          '`await workflow.waitCondition(workflow.allHandlersFinished)`. The following signals were unfinished: ' +
          JSON.stringify(signals),
        { signals },
      );
    }
    const undelivered = this.signals.undelivered();
    if (undelivered.length > 0) {
      this.log(
        'warn',
        `Workflow closed with signals that no handler received (dropped): ${JSON.stringify(undelivered)}`,
        { signals: undelivered },
      );
    }
  }

  /** Logs through the worker's logger with the run's ids; silent during replay. */
  log(level: keyof Logger, message: string, attributes?: Record<string, unknown>): void {
    if (this.replaying) return;
    this.env.logger[level](message, {
      workflowId: this.info.workflowId,
      runId: this.info.runId,
      workflowType: this.info.workflowType,
      ...attributes,
    });
  }

  private cancelTimer(slot: TimerSlot, reason: unknown): void {
    if (!this.settle(slot, this.timers)) return;
    const unsent = this.pending.findIndex((c) => c.kind === 'startTimer' && c.slot === slot);
    if (unsent >= 0) this.pending.splice(unsent, 1);
    else this.addCommand({ kind: 'cancelTimer', slot });
    slot.reject(reason);
  }

  /**
   * `workflow.startChildWorkflow`: records the child's start command. `started` settles with
   * ChildWorkflowExecutionStarted (or StartChildWorkflowExecutionFailed), `result` with the
   * child's close event (children.ts).
   */
  startChild(
    workflowType: string,
    args: unknown[],
    options: ChildWorkflowOptions,
    resultType: Function | undefined,
    headers: Headers,
  ): { slot: ChildSlot; started: Promise<void>; result: Promise<unknown> } {
    this.assertWritable('start child workflow');
    const seq = this.childSeq + 1;
    const normalized = normalizeChildOptions(options, { workflowId: `${this.info.runId}-child-${seq}`, taskQueue: this.info.taskQueue });
    this.childSeq = seq;
    let resolveStart!: () => void;
    let rejectStart!: (error: unknown) => void;
    const started = new Promise<void>((resolve, reject) => {
      resolveStart = resolve;
      rejectStart = reject;
    });
    let slot!: ChildSlot;
    const result = new Promise<unknown>((resolve, reject) => {
      slot = {
        seq,
        workflowId: normalized.workflowId,
        workflowType,
        cancellationType: normalized.cancellationType,
        resultType,
        startSettled: false,
        settled: false,
        cancelRequested: false,
        resolveStart,
        rejectStart,
        resolve: (value) => {
          this.children.delete(seq);
          resolve(value);
        },
        reject: (error) => {
          this.children.delete(seq);
          reject(error);
        },
      };
    });
    // Promises nobody awaits must not crash the worker with unhandled rejections.
    started.catch(() => undefined);
    result.catch(() => undefined);
    this.children.set(seq, slot);
    const memo = normalized.memo && Object.fromEntries(Object.entries(normalized.memo).map(([key, value]) => [key, this.env.payloads.toPayload(value)]));
    this.addCommand({ kind: 'startChildWorkflow', slot, input: this.env.payloads.toPayloads(args), options: normalized, memo, headers });
    return { slot, started, result };
  }

  /**
   * Cancels a child as its cancellation type says (TEMPORAL-SEMANTICS §13.3): a start not sent yet
   * is dropped; otherwise a cancel request goes to the child (not for ABANDON) once it has started,
   * and the result rejects at once (TRY_CANCEL, ABANDON) or with the child's close event.
   */
  cancelChild(slot: ChildSlot): void {
    this.assertWritable('cancel child workflow');
    if (slot.settled || slot.cancelRequested) return;
    const unsent = this.pending.findIndex((c) => c.kind === 'startChildWorkflow' && c.slot === slot);
    if (unsent >= 0) {
      this.pending.splice(unsent, 1);
      const error = new CancelledError('Child Workflow Execution cancelled before scheduled');
      slot.startSettled = true;
      slot.settled = true;
      slot.rejectStart(error);
      slot.reject(error);
      return;
    }
    slot.cancelRequested = true;
    if (slot.runId !== undefined) this.requestChildCancel(slot);
    if (slot.cancellationType === ChildWorkflowCancellationType.TRY_CANCEL || slot.cancellationType === ChildWorkflowCancellationType.ABANDON) {
      const error = cancelledChildError(slot);
      if (!slot.startSettled) {
        slot.startSettled = true;
        slot.rejectStart(error);
      }
      slot.settled = true;
      slot.reject(error);
    }
  }

  /** The cancel request of a started child (once; none for ABANDON): a cancel-external command. */
  private requestChildCancel(slot: ChildSlot): void {
    if (slot.cancellationType === ChildWorkflowCancellationType.ABANDON || slot.cancelSent) return;
    slot.cancelSent = true;
    const requested = this.cancelExternal({ workflowId: slot.workflowId, runId: '' }, true);
    // WAIT_CANCELLATION_REQUESTED: the result rejects once the child recorded the request
    // (ExternalWorkflowExecutionCancelRequested), as Temporal's TypeScript SDK documents it.
    if (slot.cancellationType !== ChildWorkflowCancellationType.WAIT_CANCELLATION_REQUESTED) return;
    requested.then(
      () => {
        if (slot.settled) return;
        slot.settled = true;
        slot.reject(cancelledChildError(slot));
      },
      () => undefined,
    );
  }

  private addCommand(command: Command): void {
    this.assertWritable(describeCommand(command).type);
    // Nothing follows a command that closes the run.
    if (this.pending.some(closesRun)) return;
    this.pending.push(command);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
