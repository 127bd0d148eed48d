// What `describe()` reads of a run, in one atomic read (MULTI on the run's slot): its state hash
// (scalar fields and pending activities, see lua/includes/state.lua), its first history event
// (WorkflowExecutionStarted, with the memo) and its last one (the close event, once closed).

import type { Failure, HistoryEvent, Payload } from '@durabull/common';
import type { Engine } from './engine';
import { historyEventFromStreamEntry } from './replies';
import { namespaceTime } from './test-clock';
import type { StreamEntry } from './replies';
import type { RunRef } from './types';
import type { RunSummary } from './visibility';

/** A pending activity as describe reports it, from the run state's `a:<scheduledEventId>` field. */
export interface PendingActivityRecord {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  /** The current attempt; during a retry's backoff, the next one. */
  attempt: number;
  /** The retry policy's maximum attempts, 0 for unlimited. */
  maximumAttempts: number;
  /** First schedule time (ms). */
  scheduledTime: number;
  /** This attempt's schedule time (ms): in the future while its retry backoff runs. */
  attemptScheduledTime: number;
  /** This attempt's start time (ms), 0 while it waits. */
  startedTime: number;
  cancelRequested: boolean;
  /** The previous attempt's failure (payloads encoded), if any. */
  lastFailure?: Failure;
  /** The latest heartbeat's details (payloads encoded) and time (ms), once one was recorded. */
  heartbeatDetails?: Payload[];
  lastHeartbeatTime?: number;
}

/**
 * The workflow task of a running run, while one is scheduled or running: with its attempt and the
 * last failure of an earlier attempt, what shows a task that keeps failing (a bug, a payload over
 * the limit, nondeterminism).
 */
export interface PendingWorkflowTaskRecord {
  state: 'SCHEDULED' | 'STARTED';
  attempt: number;
  /** When it became due (ms): scheduled, or its retry backoff over. */
  scheduledTime: number;
  /** When a worker started it (ms), while it runs. */
  startedTime?: number;
  /** Why the previous attempt failed: the WorkflowTaskFailed cause and failure (payloads encoded). */
  lastFailure?: { cause: string; failure: Failure };
}

/** A child still pending, from the run state's `c:<initiatedEventId>` field (lua/includes/children.lua). */
export interface PendingChildRecord {
  workflowId: string;
  /** The child's run id; '' until its start is recorded. */
  runId: string;
  workflowType: string;
  initiatedEventId: number;
  parentClosePolicy: string;
}

/** A run as describe reads it. */
export interface RunDetails extends RunSummary {
  /** Redis time (ms) of the read. */
  now: number;
  /** WorkflowExecutionStarted, as stored (payloads encoded). */
  startEvent?: HistoryEvent;
  /** The last event, as stored: the close event once the run has closed. */
  lastEvent?: HistoryEvent;
  /** Pending activities, by scheduled event id; none once the run has closed. */
  pendingActivities: PendingActivityRecord[];
  /** Children started and not closed, by initiated event id; none once the run has closed. */
  pendingChildren: PendingChildRecord[];
  /** The workflow task scheduled or running, if any (none once the run has closed). */
  pendingWorkflowTask?: PendingWorkflowTaskRecord;
}

function pendingWorkflowTask(state: Record<string, string>): PendingWorkflowTaskRecord | undefined {
  if (state['wft'] !== 'scheduled' && state['wft'] !== 'started') return undefined;
  const task: PendingWorkflowTaskRecord = {
    state: state['wft'] === 'started' ? 'STARTED' : 'SCHEDULED',
    attempt: Number(state['watt']),
    scheduledTime: Number(state['wsct']),
  };
  if (task.state === 'STARTED') task.startedTime = Number(state['wst']);
  if (state['wlf']) task.lastFailure = JSON.parse(state['wlf']) as { cause: string; failure: Failure };
  return task;
}

interface RawActivity {
  id: string;
  type: string;
  att: number;
  sch: number;
  asch: number;
  std: number;
  creq?: number;
  rp?: { ma?: number };
  lf?: string;
  hbd?: string;
  lhb?: number;
}

function pendingActivity(scheduledEventId: number, json: string): PendingActivityRecord {
  const raw = JSON.parse(json) as RawActivity;
  const activity: PendingActivityRecord = {
    scheduledEventId,
    activityId: raw.id,
    activityType: raw.type,
    attempt: raw.att,
    maximumAttempts: raw.rp?.ma ?? 0,
    scheduledTime: raw.sch,
    attemptScheduledTime: raw.asch,
    startedTime: raw.std,
    cancelRequested: (raw.creq ?? 0) > 0,
  };
  // Lua stores a JSON document as a string; an empty table may come back as {} from cjson.
  if (typeof raw.lf === 'string' && raw.lf !== '') activity.lastFailure = JSON.parse(raw.lf) as Failure;
  if (typeof raw.hbd === 'string' && raw.hbd !== '') activity.heartbeatDetails = JSON.parse(raw.hbd) as Payload[];
  if (typeof raw.lhb === 'number' && raw.lhb > 0) activity.lastHeartbeatTime = raw.lhb;
  return activity;
}

/** Reads a run for describe; undefined when it does not exist. */
export async function readRunDetails(engine: Engine, ref: RunRef): Promise<RunDetails | undefined> {
  const keys = engine.keys.run(ref.workflowId, ref.runId);
  // The namespace's time first, on its own: TIME has no slot, so it stays out of the MULTI.
  const now = await namespaceTime(engine);
  const replies = await engine.redis
    .multi()
    .hgetall(keys.state)
    .hgetall(keys.runActivities(ref.runId))
    .xrange(keys.history, '1-0', '1-0')
    .xrevrange(keys.history, '+', '-', 'COUNT', 1)
    .exec();
  if (!replies) return undefined;
  for (const [error] of replies) if (error) throw error;
  const state = replies[0]![1] as Record<string, string>;
  const activities = replies[1]![1] as Record<string, string>;
  const [first] = replies[2]![1] as StreamEntry[];
  const [last] = replies[3]![1] as StreamEntry[];
  if (!state['status']) return undefined;
  const running = state['status'] === 'RUNNING';
  const pendingActivities = running
    ? Object.entries(activities)
        .map(([scheduledEventId, json]) => pendingActivity(Number(scheduledEventId), json))
        .sort((a, b) => a.scheduledEventId - b.scheduledEventId)
    : [];
  const pendingChildren = running
    ? Object.entries(state)
        .filter(([field]) => /^c:\d+$/.test(field))
        .map(([field, json]) => {
          const raw = JSON.parse(json) as { wid: string; type: string; pcp: string; rid?: string };
          return { workflowId: raw.wid, runId: raw.rid ?? '', workflowType: raw.type, initiatedEventId: Number(field.slice(2)), parentClosePolicy: raw.pcp };
        })
        .sort((a, b) => a.initiatedEventId - b.initiatedEventId)
    : [];
  return {
    ...ref,
    workflowType: state['type']!,
    taskQueue: state['tq']!,
    status: state['status'],
    startTime: Number(state['start']),
    closeTime: state['close'] ? Number(state['close']) : undefined,
    historyLength: Number(state['last']),
    now,
    startEvent: first && historyEventFromStreamEntry(first),
    lastEvent: last && historyEventFromStreamEntry(last),
    pendingActivities,
    pendingChildren,
    pendingWorkflowTask: running ? pendingWorkflowTask(state) : undefined,
  };
}
