// The commands workflow code produces, and everything the runtime knows about each kind in one
// descriptor: the event it is recorded as, how a recorded event is checked against it on replay
// (the nondeterminism messages), how it becomes a CommandRecord for the engine (attributes and
// the meta completeWorkflowTask's Lua reads), and how errors describe it. Adding a command kind
// is one member of `Command` plus one entry of COMMANDS, which the compiler asks for.

import { EventType, NondeterminismError, RetryState } from '@durabull/common';
import type {
  ActivityCancellationType,
  EventAttributesMap,
  Failure,
  HistoryEvent,
  HistoryEventOf,
  Payload,
  WorkflowExecutionContinuedAsNewEventAttributes,
} from '@durabull/common';
import type { CommandRecord } from '@durabull/engine';
import { headerAttribute } from '../interceptors';
import type { Headers } from '../interceptors';
import type { NormalizedActivityOptions } from './activity-options';
import { startChildRecord } from './children';
import type { StartChildCommand } from './children';
import { PATCH_MARKER_NAME, patchMarkerData, patchMarkerDetails } from './patches';
import { LOCAL_ACTIVITY_MARKER_NAME, localActivityMarkerDetails, localActivityMarkerOf } from './local-activities';
import type { LocalActivityMarker, LocalActivitySlot } from './local-activities';

/** An activity of the run, from `startActivity` until its promise settles. */
export interface ActivitySlot {
  seq: number;
  activityId: string;
  activityType: string;
  cancellationType: ActivityCancellationType;
  resultType?: Function;
  /** Event id of its ActivityTaskScheduled, once matched. */
  scheduledEventId?: number;
  settled: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A durable timer of the run, from `sleep` until its promise settles. */
export interface TimerSlot {
  seq: number;
  timerId: string;
  ms: number;
  /** Event id of its TimerStarted, once matched. */
  startedEventId?: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** An accepted update of the run (updates.ts). */
export interface UpdateSlot {
  updateId: string;
  name: string;
  /** Who sent it. */
  identity: string;
  /** Event id of its WorkflowExecutionUpdateAccepted, once recorded or matched. */
  acceptedEventId?: number;
}

/** A signal or cancellation request to another run, from its command until its outcome event. */
export interface ExternalSlot {
  seq: number;
  /** The other run: its workflow id, and its run id or '' for the id's current run. */
  workflowExecution: { workflowId: string; runId: string };
  /** Event id of its ...Initiated, once matched. */
  initiatedEventId?: number;
  /** A message to a child of this run, through its handle (the events' `childWorkflowOnly`). */
  childWorkflowOnly?: boolean;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** A command produced by workflow code, matched against its event on replay. */
export type Command =
  | StartChildCommand
  | { kind: 'scheduleActivity'; slot: ActivitySlot; input: Payload[]; options: NormalizedActivityOptions; headers: Headers }
  | { kind: 'startTimer'; slot: TimerSlot }
  | { kind: 'requestCancelActivity'; slot: ActivitySlot }
  | { kind: 'cancelTimer'; slot: TimerSlot }
  | { kind: 'completeWorkflow'; result: Payload[] }
  | { kind: 'failWorkflow'; failure: Failure }
  | {
      kind: 'continueAsNew';
      /** WorkflowExecutionContinuedAsNew's attributes but the workflow task's event id. */
      attributes: Omit<WorkflowExecutionContinuedAsNewEventAttributes, 'workflowTaskCompletedEventId'>;
      /** The next run's WorkflowExecutionStarted attributes (payloads decoded: the worker encodes them). */
      start: Record<string, unknown>;
      /** Whether a retry or cron run may follow the next run (the engine keeps its chain template). */
      chain: boolean;
    }
  | { kind: 'cancelWorkflow' }
  | { kind: 'acceptUpdate'; slot: UpdateSlot; input: Payload[]; sequencingEventId: number }
  | { kind: 'completeUpdate'; slot: UpdateSlot; outcome: { success: Payload[] } | { failure: Failure } }
  | { kind: 'signalExternal'; slot: ExternalSlot; signalName: string; input: Payload[]; headers: Headers }
  | { kind: 'cancelExternal'; slot: ExternalSlot; reason: string }
  | { kind: 'recordPatchMarker'; patchId: string; deprecated: boolean }
  | { kind: 'recordLocalActivityMarker'; slot: LocalActivitySlot; marker: LocalActivityMarker };

export type CommandKind = Command['kind'];

/** The command of one kind. */
export type CommandOf<K extends CommandKind> = Extract<Command, { kind: K }>;

/** How a command appears in nondeterminism errors: Temporal's command type and the fields that identify it. */
export interface CommandDescription {
  type: string;
  [key: string]: unknown;
}

/** What a command's record needs from the workflow task that produced it. */
export interface RecordContext {
  /** Event id of the WorkflowTaskCompleted the command's event follows. */
  workflowTaskCompletedEventId: number;
  /** The worker's identity. */
  identity: string;
  /** The event id the command's event gets (its place after WorkflowTaskCompleted). */
  eventId: number;
}

/** Everything the runtime knows about one command kind `C`, recorded as events of type `E`. */
export interface CommandDescriptor<C extends Command, E extends EventType> {
  /** The event the command is recorded as, and that replay pairs with it. */
  readonly eventType: E;
  /**
   * Whether the command closes the run: the code's later commands are dropped, and its event
   * marks the run closed.
   */
  readonly closesRun: boolean;
  /** The command in nondeterminism errors. */
  describe(command: C): CommandDescription;
  /**
   * Compares a recorded event of this command's type with the command: what differs (the detail
   * of the NondeterminismError's message), or undefined when they match.
   */
  mismatch(command: C, attributes: EventAttributesMap[E]): string | undefined;
  /** Ties the command to its matched event (the event id later events refer to). */
  bind?(command: C, event: HistoryEventOf<E>): void;
  /** The event's attributes and the engine's meta (read by completeWorkflowTask's Lua). */
  record(command: C, context: RecordContext): { attributes: EventAttributesMap[E]; meta: Record<string, unknown> };
}

/** A descriptor of command `C`, whichever event type it is recorded as. */
type DescriptorOf<C extends Command> = { [E in EventType]: CommandDescriptor<C, E> }[EventType];

/** The descriptor of every command kind; a kind without one does not compile. */
export const COMMANDS = {
  scheduleActivity: {
    eventType: EventType.ActivityTaskScheduled,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'ScheduleActivityTask', activityId: slot.activityId, activityType: slot.activityType }),
    mismatch: ({ slot }, attrs) => {
      if (attrs.activityId !== slot.activityId) {
        return `Activity id of scheduled event '${attrs.activityId}' does not match activity id of activity command '${slot.activityId}'`;
      }
      if (attrs.activityType !== slot.activityType) {
        return `Activity type of scheduled event '${attrs.activityType}' does not match activity type of activity command '${slot.activityType}'`;
      }
      return undefined;
    },
    bind: ({ slot }, event) => {
      slot.scheduledEventId = event.eventId;
    },
    record: ({ slot, options: o, input, headers }, { workflowTaskCompletedEventId }) => ({
      attributes: {
        activityId: slot.activityId,
        activityType: slot.activityType,
        taskQueue: o.taskQueue,
        input,
        scheduleToCloseTimeout: o.scheduleToCloseTimeout,
        scheduleToStartTimeout: o.scheduleToStartTimeout,
        startToCloseTimeout: o.startToCloseTimeout,
        heartbeatTimeout: o.heartbeatTimeout,
        retryPolicy: o.retryPolicy,
        header: headerAttribute(headers),
        workflowTaskCompletedEventId,
      },
      meta: {
        id: slot.activityId,
        type: slot.activityType,
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
    }),
  },
  startTimer: {
    eventType: EventType.TimerStarted,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'StartTimer', timerId: slot.timerId }),
    mismatch: ({ slot }, attrs) =>
      attrs.timerId === slot.timerId
        ? undefined
        : `Timer id of started event '${attrs.timerId}' does not match timer id of timer command '${slot.timerId}'`,
    bind: ({ slot }, event) => {
      slot.startedEventId = event.eventId;
    },
    record: ({ slot }, { workflowTaskCompletedEventId }) => ({
      attributes: { timerId: slot.timerId, startToFireTimeout: slot.ms, workflowTaskCompletedEventId },
      meta: { ms: slot.ms, timerId: slot.timerId },
    }),
  },
  requestCancelActivity: {
    eventType: EventType.ActivityTaskCancelRequested,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'RequestCancelActivityTask', scheduledEventId: slot.scheduledEventId }),
    mismatch: ({ slot }, attrs) =>
      attrs.scheduledEventId === slot.scheduledEventId
        ? undefined
        : `Cancel request for scheduled event ${attrs.scheduledEventId} does not match the command's activity (event ${slot.scheduledEventId})`,
    // A cancel request is only sent for an activity whose ActivityTaskScheduled was matched (one
    // cancelled in the task that scheduled it is dropped instead), so the event id is known.
    record: ({ slot }, { workflowTaskCompletedEventId }) => ({
      attributes: { scheduledEventId: slot.scheduledEventId!, workflowTaskCompletedEventId },
      meta: { sid: slot.scheduledEventId },
    }),
  },
  cancelTimer: {
    eventType: EventType.TimerCanceled,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'CancelTimer', timerId: slot.timerId }),
    mismatch: ({ slot }, attrs) =>
      attrs.timerId === slot.timerId
        ? undefined
        : `Timer id of canceled event '${attrs.timerId}' does not match timer id of cancel command '${slot.timerId}'`,
    // Like a cancel request: only sent for a timer whose TimerStarted was matched.
    record: ({ slot }, { workflowTaskCompletedEventId, identity }) => ({
      attributes: { timerId: slot.timerId, startedEventId: slot.startedEventId!, workflowTaskCompletedEventId, identity },
      meta: { sid: slot.startedEventId },
    }),
  },
  completeWorkflow: {
    eventType: EventType.WorkflowExecutionCompleted,
    closesRun: true,
    describe: () => ({ type: 'CompleteWorkflowExecution' }),
    mismatch: () => undefined,
    record: ({ result }, { workflowTaskCompletedEventId }) => ({
      attributes: { result, workflowTaskCompletedEventId },
      meta: {},
    }),
  },
  failWorkflow: {
    eventType: EventType.WorkflowExecutionFailed,
    closesRun: true,
    describe: () => ({ type: 'FailWorkflowExecution' }),
    mismatch: () => undefined,
    // retryState last: the engine sets it (the workflow's retry policy decides) and adds
    // newExecutionRunId when a retry or cron run follows (lua/includes/run-start.lua).
    record: ({ failure }, { workflowTaskCompletedEventId }) => ({
      attributes: { failure, workflowTaskCompletedEventId, retryState: RetryState.RETRY_POLICY_NOT_SET },
      meta: {
        kind: failure.applicationFailureInfo ? 'application' : 'other',
        type: failure.applicationFailureInfo?.type,
        nonRetryable: failure.applicationFailureInfo?.nonRetryable === true,
      },
    }),
  },
  continueAsNew: {
    eventType: EventType.WorkflowExecutionContinuedAsNew,
    closesRun: true,
    describe: ({ attributes }) => ({ type: 'ContinueAsNewWorkflowExecution', workflowType: attributes.workflowType }),
    mismatch: () => undefined,
    // The engine creates the next run from the meta in the same step (run-start.lua finish_run);
    // the worker turns `start` (encoded) into `attrs` and `tpl` before it commits.
    record: ({ attributes, start, chain }, { workflowTaskCompletedEventId }) => ({
      attributes: { ...attributes, workflowTaskCompletedEventId },
      meta: {
        rid: attributes.newExecutionRunId,
        type: attributes.workflowType,
        tq: attributes.taskQueue,
        wfto: attributes.workflowTaskTimeout,
        rto: attributes.workflowRunTimeout,
        bof: attributes.backoffStartInterval,
        start,
        chain,
      },
    }),
  },
  cancelWorkflow: {
    eventType: EventType.WorkflowExecutionCanceled,
    closesRun: true,
    describe: () => ({ type: 'CancelWorkflowExecution' }),
    mismatch: () => undefined,
    record: (_command, { workflowTaskCompletedEventId }) => ({
      attributes: { details: [], workflowTaskCompletedEventId },
      meta: {},
    }),
  },
  acceptUpdate: {
    eventType: EventType.WorkflowExecutionUpdateAccepted,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'AcceptWorkflowUpdate', updateId: slot.updateId, name: slot.name }),
    mismatch: ({ slot }, attrs) =>
      attrs.protocolInstanceId === slot.updateId
        ? undefined
        : `Update id of accepted event '${attrs.protocolInstanceId}' does not match the update the code accepted '${slot.updateId}'`,
    bind: ({ slot }, event) => {
      slot.acceptedEventId = event.eventId;
    },
    // The update's completion, which may be sent with it, names the event id it gets.
    record: ({ slot, input, sequencingEventId }, { eventId }) => {
      slot.acceptedEventId = eventId;
      return {
        attributes: {
          protocolInstanceId: slot.updateId,
          acceptedRequestMessageId: slot.updateId,
          acceptedRequestSequencingEventId: sequencingEventId,
          acceptedRequest: { meta: { updateId: slot.updateId, identity: slot.identity }, input: { name: slot.name, args: input } },
        },
        meta: { uid: slot.updateId },
      };
    },
  },
  completeUpdate: {
    eventType: EventType.WorkflowExecutionUpdateCompleted,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'CompleteWorkflowUpdate', updateId: slot.updateId }),
    mismatch: ({ slot }, attrs) =>
      attrs.meta.updateId === slot.updateId
        ? undefined
        : `Update id of completed event '${attrs.meta.updateId}' does not match the update the code completed '${slot.updateId}'`,
    record: ({ slot, outcome }) => ({
      attributes: { meta: { updateId: slot.updateId, identity: slot.identity }, acceptedEventId: slot.acceptedEventId!, outcome },
      meta: { uid: slot.updateId },
    }),
  },
  signalExternal: {
    eventType: EventType.SignalExternalWorkflowExecutionInitiated,
    closesRun: false,
    describe: ({ slot, signalName }) => ({ type: 'SignalExternalWorkflowExecution', ...slot.workflowExecution, signalName }),
    mismatch: ({ slot, signalName }, attrs) => {
      if (attrs.workflowExecution.workflowId !== slot.workflowExecution.workflowId) {
        return `Workflow id of signal initiated event '${attrs.workflowExecution.workflowId}' does not match workflow id of signal command '${slot.workflowExecution.workflowId}'`;
      }
      if (attrs.signalName !== signalName) {
        return `Signal name of signal initiated event '${attrs.signalName}' does not match signal name of signal command '${signalName}'`;
      }
      return undefined;
    },
    bind: ({ slot }, event) => {
      slot.initiatedEventId = event.eventId;
    },
    record: ({ slot, signalName, input, headers }, { workflowTaskCompletedEventId }) => ({
      attributes: {
        workflowTaskCompletedEventId,
        workflowExecution: slot.workflowExecution,
        signalName,
        input,
        childWorkflowOnly: slot.childWorkflowOnly ?? false,
        header: headerAttribute(headers),
      },
      meta: {},
    }),
  },
  cancelExternal: {
    eventType: EventType.RequestCancelExternalWorkflowExecutionInitiated,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'RequestCancelExternalWorkflowExecution', ...slot.workflowExecution }),
    mismatch: ({ slot }, attrs) =>
      attrs.workflowExecution.workflowId === slot.workflowExecution.workflowId
        ? undefined
        : `Workflow id of cancel initiated event '${attrs.workflowExecution.workflowId}' does not match workflow id of cancel command '${slot.workflowExecution.workflowId}'`,
    bind: ({ slot }, event) => {
      slot.initiatedEventId = event.eventId;
    },
    record: ({ slot, reason }, { workflowTaskCompletedEventId }) => ({
      attributes: { workflowTaskCompletedEventId, workflowExecution: slot.workflowExecution, childWorkflowOnly: slot.childWorkflowOnly ?? false, reason },
      meta: {},
    }),
  },
  // `workflow.patched` / `deprecatePatch` (patches.ts). Local activities record MarkerRecorded
  // too: the marker name tells them apart.
  recordPatchMarker: {
    eventType: EventType.MarkerRecorded,
    closesRun: false,
    describe: ({ patchId, deprecated }) => ({ type: 'RecordMarker', markerName: PATCH_MARKER_NAME, patchId, deprecated }),
    mismatch: ({ patchId }, attrs) => {
      if (attrs.markerName !== PATCH_MARKER_NAME) {
        return `Marker name of recorded event '${attrs.markerName}' does not match marker name of patch command '${PATCH_MARKER_NAME}'`;
      }
      const recorded = patchMarkerData(attrs);
      return recorded?.id === patchId ? undefined : `Change id ${recorded?.id} does not match expected id ${patchId}`;
    },
    record: ({ patchId, deprecated }, { workflowTaskCompletedEventId }) => ({
      attributes: { markerName: PATCH_MARKER_NAME, details: patchMarkerDetails(patchId, deprecated), workflowTaskCompletedEventId },
      meta: {},
    }),
  },
  // A local activity's resolution (local-activities.ts), with Temporal core's nondeterminism messages.
  recordLocalActivityMarker: {
    eventType: EventType.MarkerRecorded,
    closesRun: false,
    describe: ({ slot: { request } }) => ({
      type: 'RecordMarker',
      markerName: LOCAL_ACTIVITY_MARKER_NAME,
      seq: request.seq,
      activityId: request.activityId,
      activityType: request.activityType,
    }),
    mismatch: ({ slot: { request }, marker }, attrs) => {
      if (attrs.markerName !== LOCAL_ACTIVITY_MARKER_NAME) {
        return `Marker name of recorded event '${attrs.markerName}' does not match marker name of local activity command '${LOCAL_ACTIVITY_MARKER_NAME}'`;
      }
      const recorded = localActivityMarkerOf(attrs);
      if (!recorded) return 'Local activity machine encountered an unparsable marker';
      if (recorded.data.seq !== request.seq) {
        return `Local activity marker data has sequence number ${recorded.data.seq} but matched against LA command with sequence number ${request.seq}`;
      }
      if (recorded.data.activity_id !== request.activityId) {
        return `Activity id of recorded marker '${recorded.data.activity_id}' does not match activity id of local activity command '${request.activityId}'`;
      }
      if (recorded.data.activity_type !== request.activityType) {
        return `Activity type of recorded marker '${recorded.data.activity_type}' does not match activity type of local activity command '${request.activityType}'`;
      }
      if (marker.failure && !recorded.failure) return `Local activity (seq ${request.seq}) failed locally, but history said it completed!`;
      if (!marker.failure && recorded.failure) return `Local activity (seq ${request.seq}) completed successfully locally, but history said it failed!`;
      return undefined;
    },
    record: ({ marker }, { workflowTaskCompletedEventId }) => ({
      attributes: {
        markerName: LOCAL_ACTIVITY_MARKER_NAME,
        details: localActivityMarkerDetails(marker),
        workflowTaskCompletedEventId,
        ...(marker.failure ? { failure: marker.failure } : {}),
      },
      meta: {},
    }),
  },
  // A child workflow (children.ts): resolved by ChildWorkflowExecutionStarted or StartChildWorkflowExecutionFailed.
  startChildWorkflow: {
    eventType: EventType.StartChildWorkflowExecutionInitiated,
    closesRun: false,
    describe: ({ slot }) => ({ type: 'StartChildWorkflowExecution', workflowId: slot.workflowId, workflowType: slot.workflowType }),
    mismatch: ({ slot }, attrs) => {
      if (attrs.workflowId !== slot.workflowId) {
        return `Child workflow id of scheduled event '${attrs.workflowId}' does not match child workflow id of command '${slot.workflowId}'`;
      }
      if (attrs.workflowType !== slot.workflowType) {
        return `Child workflow type of scheduled event '${attrs.workflowType}' does not match child workflow type of command '${slot.workflowType}'`;
      }
      return undefined;
    },
    bind: ({ slot }, event) => {
      slot.initiatedEventId = event.eventId;
    },
    record: (command, { workflowTaskCompletedEventId }) => startChildRecord(command, workflowTaskCompletedEventId),
  },
} as const satisfies { readonly [K in CommandKind]: DescriptorOf<CommandOf<K>> };

/** The event types commands are recorded as: the events replay pairs with a command. */
export type CommandEventType = (typeof COMMANDS)[CommandKind]['eventType'];

/** The descriptor of `command`'s kind, typed for it. */
export function descriptorOf<C extends Command>(command: C): CommandDescriptor<C, CommandEventType> {
  // The table is keyed by kind, so the entry is `C`'s; TypeScript cannot follow that correlation.
  return COMMANDS[command.kind] as unknown as CommandDescriptor<C, CommandEventType>;
}

/** The command in nondeterminism errors. */
export function describeCommand(command: Command): CommandDescription {
  return descriptorOf(command).describe(command);
}

/** Whether the command closes the run. */
export function closesRun(command: Command): boolean {
  return COMMANDS[command.kind].closesRun;
}

/** The command as the engine appends it after WorkflowTaskCompleted. */
export function commandRecord(command: Command, context: RecordContext): CommandRecord {
  const descriptor = descriptorOf(command);
  return { eventType: descriptor.eventType, ...descriptor.record(command, context) };
}

/**
 * Pairs a command event of history with the command the code produced for it (the next one in
 * order, or undefined when the code produced none), and ties them together.
 * @throws NondeterminismError when there is no command, or it is another kind or disagrees.
 */
export function matchCommand(command: Command | undefined, event: HistoryEvent): void {
  if (!command) {
    throw new NondeterminismError(`Nondeterminism error: No command scheduled for event ${event.eventType} (event ${event.eventId})`, {
      event,
    });
  }
  const descriptor = descriptorOf(command);
  const mismatch = (detail: string) =>
    new NondeterminismError(`Nondeterminism error: ${detail} (event ${event.eventId} ${event.eventType})`, {
      event,
      command: descriptor.describe(command),
    });
  if (descriptor.eventType !== event.eventType) {
    throw mismatch(`Workflow code produced ${descriptor.describe(command).type} where history has ${event.eventType}`);
  }
  // The event types are equal, so the attributes are this command's event's.
  const typed = event as HistoryEventOf<CommandEventType>;
  const detail = descriptor.mismatch(command, typed.attributes);
  if (detail !== undefined) throw mismatch(detail);
  descriptor.bind?.(command, typed);
}
