import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ActivityCancellationType,
  ActivityError,
  CancelledError,
  DurabullError,
  EventType,
  NondeterminismError,
  RetryState,
  WorkflowTaskFailedCause,
  decodeAndValidateSync,
  isCancellation,
  validateValue,
} from '@durabull/common';
import type { Failure, FailureConverter, HistoryEvent, Payload, PayloadConverter } from '@durabull/common';
import type { CommandRecord } from '@durabull/engine';
import type { WorkflowDefinition } from '../definitions/workflow';
import { headerAttribute, headersOf } from '../interceptors';
import type { Headers, WorkflowInterceptor } from '../interceptors';
import type { Logger } from '../logger';
import type { NormalizedActivityOptions } from './activity-options';
import { Prng } from './prng';

/** What `workflow.info()` returns. */
export interface WorkflowInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  namespace: string;
  /** Attempt of the run (runs are not retried, so always 1). */
  attempt: number;
  startTime: Date;
  /** Run timeout in ms (0 = none). */
  runTimeout: number;
  /** Execution timeout in ms (0 = none). */
  executionTimeout: number;
  /** Workflow task timeout in ms. */
  taskTimeout: number;
  /** Number of events in the history the code has seen so far. */
  historyLength: number;
}

interface ActivitySlot {
  seq: number;
  activityId: string;
  activityType: string;
  cancellationType: ActivityCancellationType;
  resultType?: Function;
  scheduledEventId?: number;
  settled: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface TimerSlot {
  seq: number;
  timerId: string;
  ms: number;
  startedEventId?: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** A command produced by workflow code, matched against its event on replay. */
type Command =
  | { kind: 'scheduleActivity'; slot: ActivitySlot; input: Payload[]; options: NormalizedActivityOptions; headers: Headers }
  | { kind: 'startTimer'; slot: TimerSlot }
  | { kind: 'requestCancelActivity'; slot: ActivitySlot }
  | { kind: 'cancelTimer'; slot: TimerSlot }
  | { kind: 'completeWorkflow'; result: Payload[] }
  | { kind: 'failWorkflow'; failure: Failure }
  | { kind: 'cancelWorkflow' };

const COMMAND_EVENT: Record<Command['kind'], EventType> = {
  scheduleActivity: EventType.ActivityTaskScheduled,
  startTimer: EventType.TimerStarted,
  requestCancelActivity: EventType.ActivityTaskCancelRequested,
  cancelTimer: EventType.TimerCanceled,
  completeWorkflow: EventType.WorkflowExecutionCompleted,
  failWorkflow: EventType.WorkflowExecutionFailed,
  cancelWorkflow: EventType.WorkflowExecutionCanceled,
};
const COMMAND_EVENTS = new Set<string>(Object.values(COMMAND_EVENT));

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

/** The runtime of the workflow whose code is running, or undefined outside workflow code. */
export function currentWorkflowRuntime(): WorkflowRuntime | undefined {
  return storage.getStore();
}

export interface RuntimeEnvironment {
  namespace: string;
  payloads: PayloadConverter;
  failures: FailureConverter;
  logger: Logger;
  /** Hooks around scheduling activities (the worker option `interceptors.workflow`). */
  interceptors?: readonly WorkflowInterceptor[];
}

/**
 * One workflow execution in a worker: its instance of the user's class and the state machines of
 * its activities and timers. History drives it: each workflow task's new events resolve
 * promises (an *activation*), the code runs until it blocks, and the commands it produced are
 * returned to be committed. On replay the same activations are rebuilt from history and each
 * command must match the event recorded for it, or {@link NondeterminismError} fails the task.
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
  /** The run's start headers (`WorkflowExecutionStarted`'s `header.fields`). */
  readonly headers: Readonly<Headers>;

  private now = 0;
  private readonly prng: Prng;
  private activitySeq = 0;
  private timerSeq = 0;
  private readonly activities = new Map<number, ActivitySlot>();
  private readonly timers = new Map<number, TimerSlot>();
  private readonly activitiesByEvent = new Map<number, ActivitySlot>();
  private readonly timersByEvent = new Map<number, TimerSlot>();
  /** Commands of the activation in progress (not sent yet). */
  private pending: Command[] = [];
  /** Commands sent (or replayed) whose events have not been seen yet, in order. */
  private readonly unmatched: Command[] = [];
  private jobs: Array<() => void> = [];
  private taskFailure: unknown;

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
    };
    this.info = {
      workflowId: attrs.workflowId,
      runId,
      workflowType: definition.name,
      taskQueue: attrs.taskQueue,
      namespace: env.namespace,
      attempt: 1,
      startTime: new Date(started.eventTime),
      runTimeout: attrs.workflowRunTimeout ?? 0,
      executionTimeout: attrs.workflowExecutionTimeout ?? 0,
      taskTimeout: attrs.workflowTaskTimeout ?? 10_000,
      historyLength: 0,
    };
    this.prng = new Prng(attrs.randomnessSeed ?? runId);
    this.headers = Object.freeze(headersOf(started.attributes as Record<string, unknown>));
  }

  // ---------------------------------------------------------------------------------------------
  // Driving from history
  // ---------------------------------------------------------------------------------------------

  /**
   * Applies the events of a workflow task (all of history for a new runtime, the new part for a
   * cached one), replaying every completed task on the way, then runs the current activation.
   * @returns the commands of the current task, as events to append after WorkflowTaskCompleted.
   * @throws WorkflowTaskFailure (nondeterminism, a bug in workflow code).
   */
  async runTask(events: HistoryEvent[], taskStartTime: number, completedEventId: number, identity: string): Promise<CommandRecord[]> {
    try {
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        this.lastEventId = event.eventId;
        this.info.historyLength = event.eventId;
        if (event.eventType === EventType.WorkflowTaskStarted) {
          const next = events[i + 1];
          if (next?.eventType === EventType.WorkflowTaskCompleted) {
            await this.activate(Date.parse(event.eventTime), true);
          }
          continue;
        }
        this.apply(event);
      }
      await this.activate(taskStartTime, false);
    } catch (err) {
      throw err instanceof WorkflowTaskFailure ? err : new WorkflowTaskFailure(err);
    }
    const commands = this.pending;
    this.pending = [];
    this.unmatched.push(...commands);
    return commands.map((command) => this.toRecord(command, completedEventId, identity));
  }

  private apply(event: HistoryEvent): void {
    const attrs = event.attributes as Record<string, any>;
    if (COMMAND_EVENTS.has(event.eventType)) {
      this.match(event);
      return;
    }
    switch (event.eventType) {
      case EventType.WorkflowExecutionStarted:
        this.jobs.push(() => this.start(attrs['input'] as Payload[]));
        return;
      case EventType.ActivityTaskCompleted:
      case EventType.ActivityTaskFailed:
      case EventType.ActivityTaskTimedOut:
      case EventType.ActivityTaskCanceled: {
        const slot = this.activitiesByEvent.get(attrs['scheduledEventId']);
        if (slot) this.jobs.push(() => this.resolveActivity(slot, event));
        return;
      }
      case EventType.TimerFired: {
        const slot = this.timersByEvent.get(attrs['startedEventId']);
        if (slot) {
          this.jobs.push(() => {
            if (slot.settled) return;
            slot.settled = true;
            this.timers.delete(slot.seq);
            slot.resolve();
          });
        }
        return;
      }
      case EventType.WorkflowExecutionCancelRequested:
        this.jobs.push(() => this.deliverCancellation());
        return;
      case EventType.WorkflowExecutionTerminated:
      case EventType.WorkflowExecutionTimedOut:
        this.closed = true;
        return;
      default:
        // Workflow task bookkeeping and ActivityTaskStarted carry nothing for the code.
        return;
    }
  }

  /** Pairs a command event of history with the next command the code produced. */
  private match(event: HistoryEvent): void {
    const attrs = event.attributes as Record<string, any>;
    const command = this.unmatched.shift();
    if (!command) {
      throw new NondeterminismError(`Nondeterminism error: No command scheduled for event ${event.eventType} (event ${event.eventId})`, {
        event,
      });
    }
    const expected = COMMAND_EVENT[command.kind];
    const mismatch = (detail: string) =>
      new NondeterminismError(`Nondeterminism error: ${detail} (event ${event.eventId} ${event.eventType})`, {
        event,
        command: describeCommand(command),
      });
    if (expected !== event.eventType) {
      throw mismatch(`Workflow code produced ${describeCommand(command).type} where history has ${event.eventType}`);
    }
    switch (command.kind) {
      case 'scheduleActivity':
        if (attrs['activityId'] !== command.slot.activityId) {
          throw mismatch(`Activity id of scheduled event '${attrs['activityId']}' does not match activity id of activity command '${command.slot.activityId}'`);
        }
        if (attrs['activityType'] !== command.slot.activityType) {
          throw mismatch(`Activity type of scheduled event '${attrs['activityType']}' does not match activity type of activity command '${command.slot.activityType}'`);
        }
        command.slot.scheduledEventId = event.eventId;
        this.activitiesByEvent.set(event.eventId, command.slot);
        return;
      case 'startTimer':
        if (attrs['timerId'] !== command.slot.timerId) {
          throw mismatch(`Timer id of started event '${attrs['timerId']}' does not match timer id of timer command '${command.slot.timerId}'`);
        }
        command.slot.startedEventId = event.eventId;
        this.timersByEvent.set(event.eventId, command.slot);
        return;
      case 'requestCancelActivity':
        if (attrs['scheduledEventId'] !== command.slot.scheduledEventId) {
          throw mismatch(`Cancel request for scheduled event ${attrs['scheduledEventId']} does not match the command's activity (event ${command.slot.scheduledEventId})`);
        }
        return;
      case 'cancelTimer':
        if (attrs['timerId'] !== command.slot.timerId) {
          throw mismatch(`Timer id of canceled event '${attrs['timerId']}' does not match timer id of cancel command '${command.slot.timerId}'`);
        }
        return;
      default:
        this.closed = true;
    }
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
    this.jobs = [];
    await storage.run(this, async () => {
      for (const job of jobs) job();
    });
    // Microtasks (every continuation of workflow code) all run before the next macrotask.
    await new Promise<void>((resolve) => setImmediate(resolve));
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

  private start(input: Payload[]): void {
    const definition = this.definition;
    const run = async () => {
      const args = decodeAndValidateSync(input, [...definition.paramTypes], `workflow ${definition.name}`, this.env.payloads);
      const instance = new definition.cls() as Record<string | symbol, (...a: unknown[]) => unknown>;
      return await instance[definition.runMethod]!(...args);
    };
    run().then(
      (result) => this.addCommand({ kind: 'completeWorkflow', result: [this.env.payloads.toPayload(result)] }),
      (error) => this.onRunError(error),
    );
  }

  private onRunError(error: unknown): void {
    if (this.cancelRequested && isCancellation(error)) {
      this.addCommand({ kind: 'cancelWorkflow' });
    } else if (error instanceof DurabullError && !(error instanceof NondeterminismError)) {
      this.addCommand({ kind: 'failWorkflow', failure: this.env.failures.errorToFailure(error) });
    } else {
      // Not a workflow failure (a bug, a TypeError): fail the task, which is retried until fixed.
      this.taskFailure ??= error;
    }
  }

  private resolveActivity(slot: ActivitySlot, event: HistoryEvent): void {
    if (slot.settled) return;
    slot.settled = true;
    this.activities.delete(slot.seq);
    const attrs = event.attributes as Record<string, any>;
    const common = {
      activityId: slot.activityId,
      activityType: slot.activityType,
      scheduledEventId: attrs['scheduledEventId'] as number,
      startedEventId: (attrs['startedEventId'] as number) ?? 0,
      identity: attrs['identity'] as string | undefined,
    };
    switch (event.eventType) {
      case EventType.ActivityTaskCompleted:
        try {
          const [payload] = attrs['result'] as Payload[];
          const value = payload ? this.env.payloads.fromPayload(payload, slot.resultType) : undefined;
          validateValue(value, slot.resultType, `${slot.activityType} result`);
          slot.resolve(value);
        } catch (error) {
          slot.reject(error);
        }
        return;
      case EventType.ActivityTaskFailed:
        slot.reject(
          new ActivityError('Activity task failed', {
            ...common,
            retryState: attrs['retryState'] as RetryState,
            cause: this.env.failures.failureToError(attrs['failure'] as Failure),
          }),
        );
        return;
      case EventType.ActivityTaskTimedOut:
        slot.reject(
          new ActivityError('Activity task timed out', {
            ...common,
            retryState: attrs['retryState'] as RetryState,
            cause: this.env.failures.failureToError(attrs['failure'] as Failure),
          }),
        );
        return;
      default:
        slot.reject(this.cancelledActivityError(slot, this.env.payloads.fromPayloads(attrs['details'] as Payload[]), common.startedEventId));
    }
  }

  private cancelledActivityError(slot: ActivitySlot, details: unknown[], startedEventId = 0): ActivityError {
    return new ActivityError('Activity cancelled', {
      activityId: slot.activityId,
      activityType: slot.activityType,
      scheduledEventId: slot.scheduledEventId ?? 0,
      startedEventId,
      retryState: RetryState.CANCEL_REQUESTED,
      cause: new CancelledError('Cancelled', details),
    });
  }

  /** A cancellation request reaches the code: everything it waits on is cancelled. */
  private deliverCancellation(): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    for (const slot of [...this.activities.values()]) this.cancelActivity(slot);
    for (const slot of [...this.timers.values()]) this.cancelTimer(slot, new CancelledError('Timer cancelled'));
  }

  // ---------------------------------------------------------------------------------------------
  // The `workflow.*` API
  // ---------------------------------------------------------------------------------------------

  currentTime(): number {
    return this.now;
  }

  random(): number {
    return this.prng.next();
  }

  uuid4(): string {
    return this.prng.uuid4();
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
    return { promise, activityId, cancel: () => this.cancelActivity(slot) };
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
    slot.settled = true;
    this.activities.delete(slot.seq);
    slot.reject(this.cancelledActivityError(slot, []));
  }

  startTimer(ms: number): Promise<void> {
    const seq = ++this.timerSeq;
    let slot!: TimerSlot;
    const promise = new Promise<void>((resolve, reject) => {
      slot = { seq, timerId: String(seq), ms, settled: false, resolve, reject };
    });
    promise.catch(() => undefined);
    this.timers.set(seq, slot);
    this.addCommand({ kind: 'startTimer', slot });
    return promise;
  }

  private cancelTimer(slot: TimerSlot, reason: unknown): void {
    if (slot.settled) return;
    slot.settled = true;
    this.timers.delete(slot.seq);
    const unsent = this.pending.findIndex((c) => c.kind === 'startTimer' && c.slot === slot);
    if (unsent >= 0) this.pending.splice(unsent, 1);
    else this.addCommand({ kind: 'cancelTimer', slot });
    slot.reject(reason);
  }

  private addCommand(command: Command): void {
    // Nothing follows a command that closes the run.
    if (this.pending.some((c) => c.kind === 'completeWorkflow' || c.kind === 'failWorkflow' || c.kind === 'cancelWorkflow')) return;
    this.pending.push(command);
  }

  // ---------------------------------------------------------------------------------------------

  private toRecord(command: Command, completedEventId: number, identity: string): CommandRecord {
    const workflowTaskCompletedEventId = completedEventId;
    switch (command.kind) {
      case 'scheduleActivity': {
        const o = command.options;
        return {
          eventType: EventType.ActivityTaskScheduled,
          attributes: {
            activityId: command.slot.activityId,
            activityType: command.slot.activityType,
            taskQueue: o.taskQueue,
            input: command.input,
            scheduleToCloseTimeout: o.scheduleToCloseTimeout,
            scheduleToStartTimeout: o.scheduleToStartTimeout,
            startToCloseTimeout: o.startToCloseTimeout,
            heartbeatTimeout: o.heartbeatTimeout,
            retryPolicy: o.retryPolicy,
            header: headerAttribute(command.headers),
            workflowTaskCompletedEventId,
          },
          meta: {
            id: command.slot.activityId,
            type: command.slot.activityType,
            tq: o.taskQueue,
            s2c: o.scheduleToCloseTimeout,
            s2s: o.scheduleToStartTimeout,
            stc: o.startToCloseTimeout,
            hb: o.heartbeatTimeout,
            rp: {
              ii: o.retryPolicy.initialInterval,
              bc: o.retryPolicy.backoffCoefficient,
              mi: o.retryPolicy.maximumInterval,
              ma: o.retryPolicy.maximumAttempts,
              nr: o.retryPolicy.nonRetryableErrorTypes,
            },
          },
        };
      }
      case 'startTimer':
        return {
          eventType: EventType.TimerStarted,
          attributes: { timerId: command.slot.timerId, startToFireTimeout: command.slot.ms, workflowTaskCompletedEventId },
          meta: { ms: command.slot.ms, timerId: command.slot.timerId },
        };
      case 'requestCancelActivity':
        return {
          eventType: EventType.ActivityTaskCancelRequested,
          attributes: { scheduledEventId: command.slot.scheduledEventId, workflowTaskCompletedEventId },
          meta: { sid: command.slot.scheduledEventId },
        };
      case 'cancelTimer':
        return {
          eventType: EventType.TimerCanceled,
          attributes: {
            timerId: command.slot.timerId,
            startedEventId: command.slot.startedEventId,
            workflowTaskCompletedEventId,
            identity,
          },
          meta: { sid: command.slot.startedEventId },
        };
      case 'completeWorkflow':
        return {
          eventType: EventType.WorkflowExecutionCompleted,
          attributes: { result: command.result, workflowTaskCompletedEventId },
          meta: {},
        };
      case 'failWorkflow':
        return {
          eventType: EventType.WorkflowExecutionFailed,
          attributes: { failure: command.failure, retryState: RetryState.RETRY_POLICY_NOT_SET, workflowTaskCompletedEventId },
          meta: {},
        };
      case 'cancelWorkflow':
        return {
          eventType: EventType.WorkflowExecutionCanceled,
          attributes: { details: [], workflowTaskCompletedEventId },
          meta: {},
        };
    }
  }
}

function describeCommand(command: Command): { type: string; [key: string]: unknown } {
  switch (command.kind) {
    case 'scheduleActivity':
      return { type: 'ScheduleActivityTask', activityId: command.slot.activityId, activityType: command.slot.activityType };
    case 'startTimer':
      return { type: 'StartTimer', timerId: command.slot.timerId };
    case 'requestCancelActivity':
      return { type: 'RequestCancelActivityTask', scheduledEventId: command.slot.scheduledEventId };
    case 'cancelTimer':
      return { type: 'CancelTimer', timerId: command.slot.timerId };
    case 'completeWorkflow':
      return { type: 'CompleteWorkflowExecution' };
    case 'failWorkflow':
      return { type: 'FailWorkflowExecution' };
    case 'cancelWorkflow':
      return { type: 'CancelWorkflowExecution' };
  }
}
