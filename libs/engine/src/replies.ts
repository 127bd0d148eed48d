// What the run scripts' replies mean: decoding the values they return (history stream entries,
// close notifications, activity states), and the one translator from a reply code to the error a
// caller gets.

import { IllegalStateError, WorkflowAlreadyStartedError, WorkflowNotFoundError } from '@durabull/common';
import type { DurabullError, EventType, Failure, HistoryEvent, Payload, WorkflowIdReusePolicy } from '@durabull/common';
import { decodeAttributes, decodeEventType } from './history-encoding';
import { alreadyStartedError } from './id-policy';
import { ReplyCode } from './scripts';
import type { ActivityState, RunRef } from './types';

/** Where a reply came from: the run and the transition (run script) that answered. */
export interface ReplySource extends RunRef {
  /** The transition: `startWorkflow`, `requestCancelWorkflow`, `deleteWorkflow`, ... */
  transition: string;
  /** The workflow type the caller meant, when it knows it (a start). */
  workflowType?: string;
  /** A refused start: the workflow id's current run, its status, and the reuse policy of the start. */
  existing?: { runId: string; status: string; idReusePolicy: WorkflowIdReusePolicy };
}

/** An error a reply code was translated into: it names the transition besides the run. */
export type ReplyError<E extends DurabullError = DurabullError> = E & {
  /** The transition (run script) whose reply this error reports. */
  readonly transition: string;
};

/**
 * What each reply code means to a caller that needs its transition to take effect: nothing (the
 * transition took effect, or had nothing to do), or the error it raises. One entry per code, so
 * that a new code does not compile without one.
 */
const REPLY_ERRORS: Record<ReplyCode, ((at: ReplySource) => DurabullError) | undefined> = {
  [ReplyCode.Ok]: undefined,
  [ReplyCode.Noop]: undefined,
  [ReplyCode.NotFound]: (at) => new WorkflowNotFoundError(at.workflowId, at.runId),
  [ReplyCode.NotRunning]: (at) => new WorkflowNotFoundError(at.workflowId, at.runId, 'Workflow execution already completed'),
  [ReplyCode.AlreadyStarted]: (at) =>
    at.existing
      ? alreadyStartedError(at.workflowId, at.workflowType ?? '', at.existing.runId, at.existing.status, at.existing.idReusePolicy)
      : new WorkflowAlreadyStartedError(at.workflowId, at.workflowType ?? ''),
  [ReplyCode.Stale]: (at) => unexpected(at, 'stale (the task or attempt is no longer current)'),
  [ReplyCode.UnhandledCommand]: (at) => unexpected(at, 'refused (new events arrived while the workflow task ran)'),
  [ReplyCode.Early]: (at) => unexpected(at, 'early (its time has not come)'),
  [ReplyCode.UnknownCommand]: (at) => unexpected(at, 'refused (a command of an unknown type)'),
};

const unexpected = (at: ReplySource, outcome: string) =>
  new IllegalStateError(
    `Transition ${at.transition} of workflowId=${JSON.stringify(at.workflowId)} runId=${JSON.stringify(at.runId)} was ${outcome}`,
  );

/**
 * The one translator from a run script's reply code to the typed error a caller gets, naming the
 * run and the transition: `NotFound` is a `WorkflowNotFoundError`, `NotRunning` a
 * `WorkflowNotFoundError` saying `Workflow execution already completed`, `AlreadyStarted` a
 * `WorkflowAlreadyStartedError`; a code the caller did not expect (`Stale`, `Early`, ...) an
 * `IllegalStateError`. Undefined for `Ok` and `Noop`. Transitions for which another code is a
 * normal outcome (a duplicate task is `Stale`) read the code instead.
 */
export function replyError(code: ReplyCode, at: ReplySource): ReplyError | undefined {
  const make = REPLY_ERRORS[code];
  if (make === undefined && (code === ReplyCode.Ok || code === ReplyCode.Noop)) return undefined;
  const error = make?.(at) ?? unexpected(at, `answered with the unknown reply code ${String(code)}`);
  // Not enumerable: the error's message, fields and serialised failure stay as its class makes them.
  Object.defineProperty(error, 'transition', { value: at.transition, enumerable: false });
  return error as ReplyError;
}

/** Throws {@link replyError}'s error for `code`, if there is one. */
export function throwOnReply(code: ReplyCode, at: ReplySource): void {
  const error = replyError(code, at);
  if (error) throw error;
}

/** An entry of a history stream, as XRANGE/XREAD return it. */
export type StreamEntry = [id: string, fields: string[]];

// The events of one transition share their time: the last conversion is kept.
let lastMs: string | undefined;
let lastIso = '';
function isoTime(ms: string | undefined): string {
  if (ms !== lastMs) {
    lastIso = new Date(Number(ms)).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/**
 * A history stream entry (id `<eventId>-0`, fields t, ts, a, stored as history-encoding.ts
 * describes) as a HistoryEvent: the one decoder of stored events.
 */
export function historyEventFromStreamEntry([id, fields]: StreamEntry): HistoryEvent {
  // The writer puts the fields in this order; another order is still read by name.
  let t: string | undefined, ts: string | undefined, a: string | undefined;
  if (fields.length === 6 && fields[0] === 't' && fields[2] === 'ts' && fields[4] === 'a') [, t, , ts, , a] = fields;
  else {
    const values = new Map<string, string>();
    for (let i = 0; i < fields.length; i += 2) values.set(fields[i]!, fields[i + 1]!);
    [t, ts, a] = [values.get('t'), values.get('ts'), values.get('a')];
  }
  return {
    eventId: Number(id.slice(0, id.indexOf('-'))),
    eventTime: isoTime(ts),
    eventType: decodeEventType(t ?? '') as EventType,
    attributes: JSON.parse(a === undefined ? '{}' : decodeAttributes(a)),
  };
}

/**
 * A close notification (published on the namespace's `closed` channel): the run id, and the
 * close event itself when it is small (`<runId>|<eventId>|<ms>|<type>|<attributes>`).
 */
export function parseClosedRunMessage(message: string): { runId: string; closeEvent?: HistoryEvent } {
  const cuts: number[] = [];
  for (let at = -1; cuts.length < 4; cuts.push(at)) {
    at = message.indexOf('|', at + 1);
    if (at < 0) return { runId: message };
  }
  const [a, b, c, d] = cuts as [number, number, number, number];
  return {
    runId: message.slice(0, a),
    closeEvent: {
      eventId: Number(message.slice(a + 1, b)),
      eventTime: new Date(Number(message.slice(b + 1, c))).toISOString(),
      eventType: message.slice(c + 1, d) as EventType,
      attributes: JSON.parse(message.slice(d + 1)),
    },
  };
}

interface RawActivityState {
  id: string;
  type: string;
  tq: string;
  att: number;
  sch: number;
  asch: number;
  std: number;
  s2c: number;
  s2s: number;
  stc: number;
  hb: number;
  lf?: string;
  hbd?: string;
  creq: number;
}

/** An activity's state as the scripts return it (JSON of the run state's `a:<scheduledEventId>` field). */
export function parseActivityState(json: string): ActivityState {
  const raw = JSON.parse(json) as RawActivityState;
  return {
    activityId: raw.id,
    activityType: raw.type,
    taskQueue: raw.tq,
    attempt: raw.att,
    scheduledTime: raw.sch,
    attemptScheduledTime: raw.asch,
    startedTime: raw.std,
    scheduleToCloseTimeout: raw.s2c,
    scheduleToStartTimeout: raw.s2s,
    startToCloseTimeout: raw.stc,
    heartbeatTimeout: raw.hb,
    heartbeatDetails: raw.hbd ? (JSON.parse(raw.hbd) as Payload[]) : [],
    lastFailure: raw.lf ? (JSON.parse(raw.lf) as Failure) : undefined,
    cancelRequested: raw.creq > 0,
  };
}
