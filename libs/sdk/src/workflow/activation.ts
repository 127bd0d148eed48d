// What each history event does to a run, as one handler per event type (Temporal's
// `ActivationHandler`): the table is keyed by every EventType, so a new event type does not
// compile until it has an entry. Events that carry nothing for the code have an explicit no-op
// entry; events recorded for a command are paired with that command (MATCH_COMMAND). An event
// type this table does not know at run time (a foreign or corrupt history) fails the workflow
// task instead of being skipped.

import { ActivityError, ApplicationError, CancelledError, EventType, ExternalWorkflowExecutionFailedCause, RetryState, validateValue } from '@durabull/common';
import type { FailureConverter, HistoryEvent, HistoryEventOf, Payload, PayloadConverter } from '@durabull/common';
import type { ChildOutcome, ChildSlot, ChildWorkflowEvents } from './children';
import type { ActivitySlot, CommandEventType, CommandKind, CommandOf, ExternalSlot, TimerSlot } from './commands';

/** What event handlers may do to a run (the runtime implements it). */
export interface ActivationTarget {
  readonly payloads: PayloadConverter;
  readonly failures: FailureConverter;
  /**
   * Queues work for the code; the queue runs when the activation starts: `init` jobs first, then
   * `message` jobs (signals, updates), then the others (`other`, the default), each phase in
   * history order.
   */
  enqueue(job: () => void, phase?: 'init' | 'message' | 'other'): void;
  /**
   * Pairs a command event with the next command the code produced.
   * @throws NondeterminismError when they disagree.
   */
  matchCommand(event: HistoryEvent): void;
  /** The command of kind `kind` that was matched with history event `eventId`, if any. */
  matchedCommand<K extends CommandKind>(eventId: number, kind: K): CommandOf<K> | undefined;
  /** Creates the workflow instance and its message handlers. */
  initializeWorkflow(): void;
  /** Runs the workflow's run method with its encoded input. */
  startWorkflow(input: Payload[]): void;
  /** Hands a signal to its handler, or keeps it until one is set. */
  deliverSignal(name: string, input: Payload[]): void;
  /** Cancels everything the code waits on, once: the run was asked to cancel. */
  deliverCancellation(): void;
  /** Marks an activity settled and forgets it; false when it was settled already (leave it alone). */
  settleActivity(slot: ActivitySlot): boolean;
  /** Marks a timer settled and forgets it; false when it was settled already (leave it alone). */
  settleTimer(slot: TimerSlot): boolean;
  /** Marks a signal or cancel request to another run settled; false when it was settled already. */
  settleExternal(slot: ExternalSlot): boolean;
  /** The run was closed from outside (terminated, timed out): it takes no more workflow tasks. */
  markClosed(): void;
  /** What child events do to the run's children (children.ts). */
  readonly children: ChildWorkflowEvents;
}

/** Handles one event type. */
export type EventHandler<E extends EventType> = (target: ActivationTarget, event: HistoryEventOf<E>) => void;

/** The entry of an event recorded for a command: the runtime pairs it with that command. */
export const MATCH_COMMAND: unique symbol = Symbol('matchCommand');

/**
 * One entry per event type: MATCH_COMMAND for the events commands are recorded as (and only for
 * them), a handler for the others.
 */
export type EventHandlers = {
  readonly [E in EventType]: E extends CommandEventType ? typeof MATCH_COMMAND : EventHandler<E>;
};

/** Nothing for the code (workflow task bookkeeping, ActivityTaskStarted). */
const nothing = (): void => undefined;

/**
 * An event type this runtime cannot act on yet (its command does not exist in this version):
 * the workflow task fails, and the history is left as it is.
 */
const notSupported = (_target: ActivationTarget, event: HistoryEvent): void => {
  throw new Error(`History event ${event.eventId} (${event.eventType}) is not supported by this worker's runtime`);
};

/** The run was closed without the code: terminated, or timed out. */
const closed = (target: ActivationTarget): void => target.markClosed();

type ActivityCloseEventType =
  | EventType.ActivityTaskCompleted
  | EventType.ActivityTaskFailed
  | EventType.ActivityTaskTimedOut
  | EventType.ActivityTaskCanceled;

/**
 * An activity's closing event: `settle` runs when the activation starts, unless the code gave up
 * on the activity first (cancelled with TRY_CANCEL or ABANDON). Events of activities the code
 * did not schedule in this run are ignored.
 */
function activityClosed<E extends ActivityCloseEventType>(
  settle: (target: ActivationTarget, slot: ActivitySlot, event: HistoryEventOf<E>) => void,
): EventHandler<E> {
  return (target, event) => {
    const command = target.matchedCommand(event.attributes.scheduledEventId, 'scheduleActivity');
    if (!command) return;
    const { slot } = command;
    target.enqueue(() => {
      if (target.settleActivity(slot)) settle(target, slot, event);
    });
  };
}

/** The fields of an ActivityError that come from the activity and its closing event. */
function activityFields(slot: ActivitySlot, attrs: { scheduledEventId: number; startedEventId?: number; identity?: string }) {
  return {
    activityId: slot.activityId,
    activityType: slot.activityType,
    scheduledEventId: attrs.scheduledEventId,
    startedEventId: attrs.startedEventId ?? 0,
    identity: attrs.identity,
  };
}

/** The error a cancelled activity's handle rejects with. */
export function cancelledActivityError(slot: ActivitySlot, details: unknown[], startedEventId = 0): ActivityError {
  return new ActivityError('Activity cancelled', {
    activityId: slot.activityId,
    activityType: slot.activityType,
    scheduledEventId: slot.scheduledEventId ?? 0,
    startedEventId,
    retryState: RetryState.CANCEL_REQUESTED,
    cause: new CancelledError('Cancelled', details),
  });
}

const NOT_FOUND = ExternalWorkflowExecutionFailedCause.EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND;

type ExternalOutcomeEventType =
  | EventType.ExternalWorkflowExecutionSignaled
  | EventType.SignalExternalWorkflowExecutionFailed
  | EventType.ExternalWorkflowExecutionCancelRequested
  | EventType.RequestCancelExternalWorkflowExecutionFailed;

/**
 * The outcome of a signal or cancel request to another run: resolves its promise, or rejects it
 * with `failed`'s error (Temporal core's ApplicationFailure whose type is the cause).
 */
function externalOutcome<E extends ExternalOutcomeEventType>(
  kind: 'signalExternal' | 'cancelExternal',
  failed?: (attributes: HistoryEventOf<E>['attributes']) => Error,
): EventHandler<E> {
  return (target, event) => {
    const command = target.matchedCommand(event.attributes.initiatedEventId, kind);
    if (!command) return;
    const { slot } = command;
    target.enqueue(() => {
      if (!target.settleExternal(slot)) return;
      if (failed) slot.reject(failed(event.attributes));
      else slot.resolve();
    });
  };
}

type ChildCloseEventType =
  | EventType.ChildWorkflowExecutionCompleted
  | EventType.ChildWorkflowExecutionFailed
  | EventType.ChildWorkflowExecutionCanceled
  | EventType.ChildWorkflowExecutionTimedOut
  | EventType.ChildWorkflowExecutionTerminated;

/**
 * A child's event (children.ts), for the child the code started with the event's
 * `initiatedEventId`; `apply` runs when the activation starts. Events of children the code did
 * not start in this run are ignored.
 */
function childEvent<E extends ChildCloseEventType | EventType.ChildWorkflowExecutionStarted | EventType.StartChildWorkflowExecutionFailed>(
  apply: (target: ActivationTarget, slot: ChildSlot, event: HistoryEventOf<E>) => void,
): EventHandler<E> {
  return (target, event) => {
    const command = target.matchedCommand(event.attributes.initiatedEventId, 'startChildWorkflow');
    if (!command) return;
    target.enqueue(() => apply(target, command.slot, event));
  };
}

/** A child's close event: the outcome the parent's code gets. */
function childClosed<E extends ChildCloseEventType>(outcome: (attributes: HistoryEventOf<E>['attributes']) => ChildOutcome): EventHandler<E> {
  return childEvent<E>((target, slot, event) =>
    target.children.closed(slot, outcome(event.attributes), event.attributes.workflowExecution.runId),
  );
}

/** What every event type does to the run. */
export const EVENT_HANDLERS: EventHandlers = {
  // The instance exists before the first activation's signals are delivered, and the run method
  // starts after them (as Temporal's SDKs do).
  [EventType.WorkflowExecutionStarted]: (target, event) => {
    target.enqueue(() => target.initializeWorkflow(), 'init');
    target.enqueue(() => target.startWorkflow(event.attributes.input));
  },
  [EventType.WorkflowExecutionCompleted]: MATCH_COMMAND,
  [EventType.WorkflowExecutionFailed]: MATCH_COMMAND,
  [EventType.WorkflowExecutionTimedOut]: closed,
  [EventType.WorkflowExecutionCanceled]: MATCH_COMMAND,
  [EventType.WorkflowExecutionTerminated]: closed,
  [EventType.WorkflowExecutionCancelRequested]: (target) => target.enqueue(() => target.deliverCancellation()),
  [EventType.WorkflowExecutionSignaled]: (target, { attributes: attrs }) =>
    target.enqueue(() => target.deliverSignal(attrs.signalName, attrs.input), 'message'),

  // Updates: their jobs come from the look-ahead of the task that accepted them (runtime.ts).
  [EventType.WorkflowExecutionUpdateAccepted]: MATCH_COMMAND,
  [EventType.WorkflowExecutionUpdateCompleted]: MATCH_COMMAND,
  // Never written: a rejected update leaves no event.
  [EventType.WorkflowExecutionUpdateRejected]: nothing,

  [EventType.WorkflowTaskScheduled]: nothing,
  // The runtime runs an activation after each WorkflowTaskStarted that a WorkflowTaskCompleted follows.
  [EventType.WorkflowTaskStarted]: nothing,
  [EventType.WorkflowTaskCompleted]: nothing,
  [EventType.WorkflowTaskTimedOut]: nothing,
  [EventType.WorkflowTaskFailed]: nothing,

  [EventType.ActivityTaskScheduled]: MATCH_COMMAND,
  // Written just before the closing event; its attempt and identity are repeated there.
  [EventType.ActivityTaskStarted]: nothing,
  [EventType.ActivityTaskCompleted]: activityClosed((target, slot, event) => {
    try {
      const [payload] = event.attributes.result;
      const value = payload ? target.payloads.fromPayload(payload, slot.resultType) : undefined;
      validateValue(value, slot.resultType, `${slot.activityType} result`);
      slot.resolve(value);
    } catch (error) {
      slot.reject(error);
    }
  }),
  [EventType.ActivityTaskFailed]: activityClosed((target, slot, { attributes: attrs }) =>
    slot.reject(
      new ActivityError('Activity task failed', {
        ...activityFields(slot, attrs),
        retryState: attrs.retryState,
        cause: target.failures.failureToError(attrs.failure),
      }),
    ),
  ),
  [EventType.ActivityTaskTimedOut]: activityClosed((target, slot, { attributes: attrs }) =>
    slot.reject(
      new ActivityError('Activity task timed out', {
        ...activityFields(slot, attrs),
        retryState: attrs.retryState,
        cause: target.failures.failureToError(attrs.failure),
      }),
    ),
  ),
  [EventType.ActivityTaskCancelRequested]: MATCH_COMMAND,
  [EventType.ActivityTaskCanceled]: activityClosed((target, slot, { attributes: attrs }) =>
    slot.reject(cancelledActivityError(slot, target.payloads.fromPayloads(attrs.details), attrs.startedEventId ?? 0)),
  ),

  [EventType.TimerStarted]: MATCH_COMMAND,
  [EventType.TimerFired]: (target, event) => {
    const command = target.matchedCommand(event.attributes.startedEventId, 'startTimer');
    if (!command) return;
    const { slot } = command;
    target.enqueue(() => {
      if (target.settleTimer(slot)) slot.resolve();
    });
  },
  [EventType.TimerCanceled]: MATCH_COMMAND,

  // Patch markers (patches.ts); local activities' markers share the type, told apart by name.
  [EventType.MarkerRecorded]: MATCH_COMMAND,
  [EventType.WorkflowExecutionContinuedAsNew]: MATCH_COMMAND,
  // Child workflows (children.ts).
  [EventType.StartChildWorkflowExecutionInitiated]: MATCH_COMMAND,
  [EventType.StartChildWorkflowExecutionFailed]: childEvent((target, slot) => target.children.startFailed(slot)),
  [EventType.ChildWorkflowExecutionStarted]: childEvent((target, slot, event) =>
    target.children.started(slot, event.eventId, event.attributes.workflowExecution),
  ),
  [EventType.ChildWorkflowExecutionCompleted]: childClosed(({ result }) => ({ kind: 'completed', result })),
  [EventType.ChildWorkflowExecutionFailed]: childClosed(({ failure, retryState }) => ({ kind: 'failed', failure, retryState })),
  [EventType.ChildWorkflowExecutionCanceled]: childClosed(({ details }) => ({ kind: 'canceled', details })),
  [EventType.ChildWorkflowExecutionTimedOut]: childClosed(({ retryState }) => ({ kind: 'timedOut', retryState })),
  [EventType.ChildWorkflowExecutionTerminated]: childClosed(() => ({ kind: 'terminated' })),

  // Other runs (`workflow.getExternalWorkflowHandle`): the outcome settles the handle's promise.
  [EventType.SignalExternalWorkflowExecutionInitiated]: MATCH_COMMAND,
  [EventType.ExternalWorkflowExecutionSignaled]: externalOutcome('signalExternal'),
  [EventType.SignalExternalWorkflowExecutionFailed]: externalOutcome('signalExternal', ({ cause }) =>
    new ApplicationError(`Unable to signal external workflow because ${cause === NOT_FOUND ? 'it was not found' : cause}`, { type: cause }),
  ),
  [EventType.RequestCancelExternalWorkflowExecutionInitiated]: MATCH_COMMAND,
  [EventType.ExternalWorkflowExecutionCancelRequested]: externalOutcome('cancelExternal'),
  [EventType.RequestCancelExternalWorkflowExecutionFailed]: externalOutcome('cancelExternal', ({ cause }) =>
    new ApplicationError(`Unable to cancel external workflow because ${cause === NOT_FOUND ? 'not found' : cause}`, { type: cause }),
  ),
};

/**
 * Applies one history event to the run through its entry in {@link EVENT_HANDLERS}.
 * @throws NondeterminismError from matching a command event; Error for an event type this
 *   runtime does not know (the workflow task fails, the history is left as it is).
 */
export function applyEvent(target: ActivationTarget, event: HistoryEvent): void {
  const handler: EventHandlers[EventType] | undefined = Object.hasOwn(EVENT_HANDLERS, event.eventType)
    ? EVENT_HANDLERS[event.eventType]
    : undefined;
  if (handler === undefined) {
    throw new Error(
      `History event ${event.eventId} has an unknown event type ${JSON.stringify(event.eventType)}: ` +
        'this worker cannot run this history (recorded by a newer Durabull, or corrupt)',
    );
  }
  if (handler === MATCH_COMMAND) {
    target.matchCommand(event);
    return;
  }
  // The entry is the one for the event's type, so the attributes are that type's.
  (handler as EventHandler<EventType>)(target, event as HistoryEventOf<EventType>);
}
