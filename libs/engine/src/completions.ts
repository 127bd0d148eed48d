/**
 * The arguments and replies of the two completions a worker sends: an activity attempt's outcome
 * (`completeActivityTask`) and a workflow task's commands (`completeWorkflowTask`), also sent
 * together as one call (`completeActivityAndWorkflowTask`: `Engine.completeActivityWithNextTask`).
 */
import type { Payload } from '@durabull/common';
import { encodeAttributes } from './history-encoding';
import { historyEventFromStreamEntry, parseActivityState } from './replies';
import type { StreamEntry } from './replies';
import { ReplyCode } from './scripts';
import type { RunReply } from './scripts';
import type { ActivityOutcome, ActivityState, CommandRecord, RunRef, WorkflowTaskStart } from './types';
import { parseUpdateRequests } from './updates';
import type { UpdateRequest } from './updates';

/** A workflow task's completion (`Engine.completeWorkflowTask`). */
export interface WorkflowTaskCompletion {
  identity: string;
  workerId: string;
  stickyTimeout: number;
  fence: number;
  commands: CommandRecord[];
  heartbeat?: boolean;
  takenAt?: number;
}

/** What a workflow task's completion did. */
export interface WorkflowTaskCompletionReply {
  code: ReplyCode;
  now: number;
  startedActivities: Array<{ scheduledEventId: number; activity: ActivityState }>;
  /** True when the task left no trace: a speculative task that only rejected updates. */
  discarded: boolean;
  /** The run's last event id after the completion (0 when it was refused). */
  lastEventId: number;
  /** After a heartbeat: the next task, taken by this worker. */
  nextTask?: WorkflowTaskStart & { token: string };
}

/** A worker that takes the run's next workflow task where its activity's result is recorded. */
export interface EagerWorkflowTask {
  identity: string;
  /** The last event id the worker holds of the run. */
  seenEventId: number;
}

/** What an activity attempt's outcome did. */
export interface ActivityCompletionReply {
  /** False when the attempt was no longer current (discarded). */
  recorded: boolean;
  /** The run's next workflow task, taken for this worker. */
  workflowTask?: WorkflowTaskStart & { token: string };
}

/**
 * Commands whose attributes `completeWorkflowTask` reads as JSON (a run's close, which it
 * publishes; an update's rejection, which it keeps). The others it only appends: they go stored
 * already (encodeAttributes), with the length of their JSON (meta `bytes`, what the history size
 * counts), so that Redis does not encode them.
 */
const READ_AS_JSON = new Set([
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionContinuedAsNew',
  'WorkflowExecutionUpdateRejected',
]);

/** `completeWorkflowTask`'s ARGV[3..]. */
export function workflowTaskCompletionArgs(token: string, queue: string | undefined, options: WorkflowTaskCompletion): Array<string | number> {
  const args: Array<string | number> = [
    token,
    options.identity,
    options.workerId,
    options.stickyTimeout,
    options.fence,
    options.commands.length,
  ];
  for (const { eventType, attributes, meta } of options.commands) {
    const json = JSON.stringify(attributes);
    if (READ_AS_JSON.has(eventType)) args.push(eventType, json, JSON.stringify(meta));
    // Object.assign, not a spread followed by a property: V8's slow path in Node 20 (keys.ts).
    else args.push(eventType, encodeAttributes(json), JSON.stringify(Object.assign({}, meta, { bytes: Buffer.byteLength(json) })));
  }
  // The optional arguments, without trailing empty ones.
  const optional = [
    options.heartbeat ? '1' : '',
    options.takenAt ?? '',
    options.takenAt === undefined ? '' : (queue ?? ''),
  ];
  while (optional.at(-1) === '') optional.pop();
  args.push(...optional);
  return args;
}

/** A workflow task a script scheduled and took for the caller (the events: those after what the caller holds). */
type TakenTask = [token: string, attempt: string, startedEventId: string, events: StreamEntry[], ...rest: unknown[]];

function takenTask(raw: TakenTask, now: number, updates: UpdateRequest[]): WorkflowTaskStart & { token: string } {
  const [token, attempt, startedEventId, events] = raw;
  // Scheduled and taken in the same script: no time in a queue.
  return { token, attempt: Number(attempt), startedEventId: Number(startedEventId), now, scheduledTime: now, events: events.map(historyEventFromStreamEntry), updates };
}

/** What `completeWorkflowTask` replied. */
export function workflowTaskCompletionReply(reply: RunReply): WorkflowTaskCompletionReply {
  const started = (reply.extra[1] as string[] | undefined) ?? [];
  const startedActivities: Array<{ scheduledEventId: number; activity: ActivityState }> = [];
  for (let i = 0; i < started.length; i += 2) {
    startedActivities.push({ scheduledEventId: Number(started[i]), activity: parseActivityState(started[i + 1]!) });
  }
  // A speculative task that only rejected updates wrote nothing (updates.lua).
  const discarded = Number(reply.extra[2] ?? 0) === 1;
  // After a heartbeat: the task, then the update requests it delivers.
  const next = reply.extra[3] as TakenTask | undefined;
  const nextTask = next && takenTask(next, reply.now, parseUpdateRequests(next[4] as string[]));
  const lastEventId = reply.code === ReplyCode.Ok ? Number(reply.extra[0]) : 0;
  return { code: reply.code, now: reply.now, startedActivities, discarded, lastEventId, nextTask };
}

/** `completeActivityTask`'s ARGV[3..11]. */
export function activityCompletionArgs(
  ref: RunRef & { scheduledEventId: number; attempt: number },
  workerId: string,
  outcome: ActivityOutcome,
  heartbeatDetails: Payload[] | undefined,
  eager: EagerWorkflowTask | undefined,
): Array<string | number> {
  const body = outcome.kind === 'completed' ? outcome.result : outcome.kind === 'failed' ? outcome.failure : outcome.details;
  const facts = outcome.kind === 'failed' ? outcome.facts : {};
  return [
    ref.scheduledEventId,
    ref.attempt,
    workerId,
    outcome.kind,
    JSON.stringify(body),
    JSON.stringify(facts),
    heartbeatDetails ? JSON.stringify(heartbeatDetails) : '',
    eager?.identity ?? '',
    eager?.seenEventId ?? 0,
  ];
}

/** What `completeActivityTask` replied. */
export function activityCompletionReply(reply: RunReply): ActivityCompletionReply {
  const task = reply.extra[1] as TakenTask | undefined;
  return {
    recorded: reply.code === ReplyCode.Ok,
    // Taken eagerly only when no task was pending, so no update waits (updates.lua).
    workflowTask: task && takenTask(task, reply.now, []),
  };
}

/**
 * `completeActivityAndWorkflowTask`'s reply, `{ code, now, dispatch, withdraw, activityExtra,
 * workflowTaskCode, ...workflowTaskExtra }`, as the two replies it joins. The activity's carries
 * the call's dispatches and withdrawals.
 */
export function joinedCompletionReplies(reply: RunReply): { activity: ActivityCompletionReply; workflowTask: WorkflowTaskCompletionReply } {
  const [activityExtra, workflowTaskCode, ...workflowTaskExtra] = reply.extra as [unknown[], ReplyCode, ...unknown[]];
  return {
    activity: activityCompletionReply({ ...reply, extra: activityExtra }),
    workflowTask: workflowTaskCompletionReply({ code: workflowTaskCode, now: reply.now, dispatch: [], withdraw: [], extra: workflowTaskExtra }),
  };
}
