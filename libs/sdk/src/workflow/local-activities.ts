// Local activities, the workflow side (TEMPORAL-SEMANTICS §1.12, §8.4, §17): their options, the
// `core_local_activity` marker that records each resolution, and the request the worker runs.
// A local activity is not a command: the worker runs it in its own process while the workflow task
// is open, and its resolution (result, final failure, or a backoff too long to wait in the
// worker) is recorded as a MarkerRecorded event, from which replay resolves it without running it.

import {
  ActivityCancellationType,
  ActivityError,
  CancelledError,
  EventType,
  RetryState,
  compileRetryPolicy,
  optionalMilliseconds,
  toMilliseconds,
} from '@durabull/common';
import type { CompiledRetryPolicy, Duration, Failure, HistoryEvent, MarkerRecordedEventAttributes, Payload, RetryPolicy } from '@durabull/common';
import type { Headers } from '../headers';

/** The marker name of local activities (Temporal core's). */
export const LOCAL_ACTIVITY_MARKER_NAME = 'core_local_activity';

/** `localRetryThreshold` when none is given: 1 minute, as Temporal's. */
export const DEFAULT_LOCAL_RETRY_THRESHOLD_MS = 60_000;

/**
 * Options of `workflow.executeLocalActivity` / `workflow.startLocalActivity`. At least one of
 * `startToCloseTimeout` and `scheduleToCloseTimeout` is required.
 */
export interface LocalActivityOptions {
  /**
   * Maximum time of one attempt; retried on expiry under the retry policy. Capped at
   * `scheduleToCloseTimeout`. @default scheduleToCloseTimeout
   */
  startToCloseTimeout?: Duration;
  /**
   * Maximum time across all attempts, from the first schedule, backoff timers included; never
   * retried. @default unlimited
   */
  scheduleToCloseTimeout?: Duration;
  /**
   * Maximum time an attempt may wait in the worker before it starts; never retried. Capped at
   * `scheduleToCloseTimeout`. Accepted as in Temporal, but Durabull starts a local activity at once
   * (it waits for no slot), so it does not expire. @default unlimited
   */
  scheduleToStartTimeout?: Duration;
  /**
   * How failed attempts are retried, with Temporal's defaults for unset fields (1 s, ×2, 100×,
   * unlimited attempts). Failures and start-to-close timeouts are retried.
   */
  retryPolicy?: RetryPolicy;
  /**
   * A retry whose backoff is at most this long waits in the worker (no history event); a longer
   * one records the failure in a marker and waits on a durable timer (TimerStarted / TimerFired),
   * after which the next attempt runs as a new local activity with its attempt number carried on.
   * @default '1m'
   */
  localRetryThreshold?: Duration;
  /**
   * What `handle.cancel()` (or the workflow's cancellation) does: TRY_CANCEL resolves at once and
   * signals the running attempt, WAIT_CANCELLATION_COMPLETED waits for the attempt to end, ABANDON
   * resolves at once and lets the attempt run. @default ActivityCancellationType.TRY_CANCEL
   */
  cancellationType?: ActivityCancellationType;
  /** Id of the local activity. @default the schedule sequence number ("1", "2", ...), shared with activities */
  activityId?: string;
}

/** {@link LocalActivityOptions} with the arguments, for the two-argument form. */
export interface LocalActivityOptionsWithArgs<A extends unknown[] = unknown[]> extends LocalActivityOptions {
  /** The activity's arguments (zero or several). */
  args?: A;
}

/** Local activity options in milliseconds (0 = unset / unlimited), defaults applied. */
export interface NormalizedLocalActivityOptions {
  scheduleToCloseTimeout: number;
  scheduleToStartTimeout: number;
  startToCloseTimeout: number;
  retryPolicy: CompiledRetryPolicy;
  localRetryThreshold: number;
  cancellationType: ActivityCancellationType;
  activityId?: string;
}

const KNOWN_OPTIONS = new Set([
  'startToCloseTimeout',
  'scheduleToCloseTimeout',
  'scheduleToStartTimeout',
  'retryPolicy',
  'localRetryThreshold',
  'cancellationType',
  'activityId',
  'args',
]);

/**
 * Validates local activity options; schedule-to-start and start-to-close are clamped to
 * schedule-to-close, as Temporal core does.
 * @throws TypeError naming the bad option and value.
 */
export function normalizeLocalActivityOptions(options: LocalActivityOptions): NormalizedLocalActivityOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Local activity options must be an object, got ${JSON.stringify(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key));
  if (unknown.length > 0) throw new TypeError(`Unknown local activity option(s): ${unknown.join(', ')}`);
  const scheduleToClose = optionalMilliseconds(options.scheduleToCloseTimeout, 'scheduleToCloseTimeout') ?? 0;
  let scheduleToStart = optionalMilliseconds(options.scheduleToStartTimeout, 'scheduleToStartTimeout') ?? 0;
  let startToClose = optionalMilliseconds(options.startToCloseTimeout, 'startToCloseTimeout') ?? 0;
  // The message Temporal's Python SDK gives local and remote activities alike.
  if (scheduleToClose === 0 && startToClose === 0) throw new TypeError('Activity must have startToCloseTimeout or scheduleToCloseTimeout');
  if (scheduleToClose > 0) {
    startToClose = startToClose > 0 ? Math.min(startToClose, scheduleToClose) : scheduleToClose;
    if (scheduleToStart > 0) scheduleToStart = Math.min(scheduleToStart, scheduleToClose);
  }
  const localRetryThreshold =
    options.localRetryThreshold === undefined
      ? DEFAULT_LOCAL_RETRY_THRESHOLD_MS
      : toMilliseconds(options.localRetryThreshold, 'localRetryThreshold');
  const cancellationType = options.cancellationType ?? ActivityCancellationType.TRY_CANCEL;
  if (!Object.values(ActivityCancellationType).includes(cancellationType)) {
    throw new TypeError(
      `Invalid cancellationType: ${JSON.stringify(cancellationType)} (one of ${Object.values(ActivityCancellationType).join(', ')})`,
    );
  }
  if (options.activityId !== undefined && (typeof options.activityId !== 'string' || options.activityId.length === 0 || options.activityId.length > 1000)) {
    throw new TypeError(`Invalid activityId: ${JSON.stringify(options.activityId)} (a non-empty string of at most 1000 characters)`);
  }
  return {
    scheduleToCloseTimeout: scheduleToClose,
    scheduleToStartTimeout: scheduleToStart,
    startToCloseTimeout: startToClose,
    retryPolicy: compileRetryPolicy(options.retryPolicy),
    localRetryThreshold,
    cancellationType,
    activityId: options.activityId,
  };
}

/**
 * The `data` of a local activity marker, Temporal core's `LocalActivityMarkerData` in its JSON form
 * (timestamps RFC 3339, durations `"<seconds>s"`, null when unset).
 */
export interface LocalActivityMarkerData {
  seq: number;
  /** The attempt that resolved it. */
  attempt: number;
  activity_id: string;
  activity_type: string;
  /** Workflow time when it resolved: the workflow task's start plus the local activity's run time. */
  complete_time: string | null;
  /** Set when the next attempt waits on a durable timer this long. */
  backoff: string | null;
  /** When the first attempt was scheduled (schedule-to-close counts from it). */
  original_schedule_time: string | null;
}

/** What a local activity's marker records: its data, and its result or its failure. */
export interface LocalActivityMarker {
  data: LocalActivityMarkerData;
  result?: Payload;
  failure?: Failure;
}

/** A duration in Protobuf's JSON form: `"2s"`, `"1.500s"`. */
export function durationJson(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

/** Milliseconds of a duration in Protobuf's JSON form. */
export function durationMs(json: string): number {
  return Math.round(Number.parseFloat(json) * 1000);
}

/** A timestamp in Protobuf's JSON form (RFC 3339). */
function timestampJson(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The marker data of a local activity's resolution by `attempt` (default: its first), at workflow
 * time `completeTime` (null when unknown: a cancellation), with `backoff` (ms) when the next
 * attempt waits on a timer.
 */
export function localActivityMarkerData(
  request: LocalActivityRequest,
  completeTime: number | null,
  attempt = request.attempt,
  backoff?: number,
): LocalActivityMarkerData {
  return {
    seq: request.seq,
    attempt,
    activity_id: request.activityId,
    activity_type: request.activityType,
    complete_time: completeTime === null ? null : timestampJson(completeTime),
    backoff: backoff === undefined ? null : durationJson(backoff),
    original_schedule_time: timestampJson(request.originalScheduleTime),
  };
}

/** The fields of an ActivityError about a local activity (it has no events of its own). */
function localActivityFields(request: LocalActivityRequest) {
  return { activityId: request.activityId, activityType: request.activityType, scheduledEventId: 0, startedEventId: 0 };
}

/** A local activity's final failure, as the workflow sees it (Temporal's remote activity message). */
export function failedLocalActivityError(request: LocalActivityRequest, retryState: RetryState, cause: Error): ActivityError {
  return new ActivityError('Activity task failed', { ...localActivityFields(request), retryState, cause });
}

/** A local activity that timed out (Temporal core's `Local Activity timed out`), `cause` its TimeoutError. */
export function timedOutLocalActivityError(request: LocalActivityRequest, retryState: RetryState, cause: Error): ActivityError {
  return new ActivityError('Local Activity timed out', { ...localActivityFields(request), retryState, cause });
}

/** A cancelled local activity (Temporal core's `Local Activity cancelled`). */
export function cancelledLocalActivityError(request: LocalActivityRequest, cause: Error = new CancelledError('Cancelled')): ActivityError {
  return new ActivityError('Local Activity cancelled', { ...localActivityFields(request), retryState: RetryState.CANCEL_REQUESTED, cause });
}

/** The marker's `details`: `data`, and `result` on success. */
export function localActivityMarkerDetails(marker: LocalActivityMarker): Record<string, Payload[]> {
  const details: Record<string, Payload[]> = { data: [{ metadata: { encoding: 'json/plain' }, data: marker.data }] };
  if (marker.result) details['result'] = [marker.result];
  return details;
}

/** The local activity a marker records, or undefined when it is not a local activity marker. */
export function localActivityMarkerOf(attributes: MarkerRecordedEventAttributes): LocalActivityMarker | undefined {
  if (attributes.markerName !== LOCAL_ACTIVITY_MARKER_NAME) return undefined;
  const data = attributes.details?.['data']?.[0]?.data as LocalActivityMarkerData | undefined;
  if (typeof data?.seq !== 'number') return undefined;
  return { data, result: attributes.details['result']?.[0], failure: attributes.failure };
}

/**
 * The local activity markers that the completed workflow task starting at `events[started]`
 * recorded (between its WorkflowTaskCompleted and the next task), in order: replay resolves its
 * local activities from them (Temporal core peeks them the same way).
 */
export function localActivityMarkersOfTask(events: readonly HistoryEvent[], started: number): LocalActivityMarker[] {
  const markers: LocalActivityMarker[] = [];
  for (let j = started + 2; j < events.length && events[j]!.eventType !== EventType.WorkflowTaskStarted; j++) {
    const event = events[j]!;
    if (event.eventType !== EventType.MarkerRecorded) continue;
    const marker = localActivityMarkerOf(event.attributes as MarkerRecordedEventAttributes);
    if (marker) markers.push(marker);
  }
  return markers;
}

/** What the worker needs to run a local activity: everything but the workflow's ids. */
export interface LocalActivityRequest {
  seq: number;
  activityId: string;
  activityType: string;
  input: Payload[];
  headers: Headers;
  options: NormalizedLocalActivityOptions;
  /** The attempt to run first (after a backoff timer, the attempt after the one that failed). */
  attempt: number;
  /** When the first attempt was scheduled (epoch ms). */
  originalScheduleTime: number;
  /** Workflow time when it was scheduled (complete_time counts from it). */
  workflowTime: number;
  /** WAIT_CANCELLATION_COMPLETED: cancellation was requested (the worker does not start it). */
  cancelRequested?: boolean;
  /**
   * Set by the worker while it runs the activity: `wait` stops the running attempt and reports
   * its outcome, `try` stops it and forgets it, `abandon` forgets it.
   */
  cancel?: (mode: 'wait' | 'try' | 'abandon') => void;
}

/** A local activity of the run, from `startLocalActivity` until its promise settles. */
export interface LocalActivitySlot {
  request: LocalActivityRequest;
  resultType?: Function;
  /**
   * What the handle cancels: the slot of the current attempts (a backoff timer starts a new one)
   * and, while a backoff timer runs, how to cancel it.
   */
  chain: { slot: LocalActivitySlot; cancelBackoff?: () => void };
  /** Whether the worker runs it (live) or a marker of history resolves it (replay). */
  running: boolean;
  settled: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}
