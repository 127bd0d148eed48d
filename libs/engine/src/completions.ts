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
    else args.push(eventType, encodeAttributes(json), JSON.stringify({ ...meta, bytes: Buffer.byteLength(json) }));
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

export function workflowTaskCompletionReply(reply: RunReply): WorkflowTaskCompletionReply {
  const started = (reply.extra[1] as string[] | undefined) ?? [];
  const startedActivities: Array<{ scheduledEventId: number; activity: ActivityState }> = [];
  for (let i = 0; i < started.length; i += 2) {
    startedActivities.push({ scheduledEventId: Number(started[i]), activity: parseActivityState(started[i + 1]!) });
  }
  // A speculative task that only rejected updates wrote nothing (updates.lua).
  const discarded = Number(reply.extra[2] ?? 0) === 1;
  const next = reply.extra[3] as [string, string, string, StreamEntry[], string[]] | undefined;
  const nextTask = next && {
    token: next[0],
    attempt: Number(next[1]),
    startedEventId: Number(next[2]),
    now: reply.now,
    scheduledTime: reply.now,
    events: next[3].map(historyEventFromStreamEntry),
    updates: parseUpdateRequests(next[4]),
  };
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

export function activityCompletionReply(reply: RunReply): ActivityCompletionReply {
  const task = reply.extra[1] as [string, string, string, StreamEntry[]] | undefined;
  return {
    recorded: reply.code === ReplyCode.Ok,
    workflowTask: task && {
      token: task[0],
      attempt: Number(task[1]),
      startedEventId: Number(task[2]),
      now: reply.now,
      // Scheduled and taken in the same script: no time in a queue.
      scheduledTime: reply.now,
      events: task[3].map(historyEventFromStreamEntry),
      // Taken eagerly only when no task was pending, so no update waits (updates.lua).
      updates: [],
    },
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
