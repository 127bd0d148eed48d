// `WorkflowHandle.describe()`: a run's facts, its memo, a closed run's outcome and what a running
// run has pending, from one atomic read of the engine (readRunDetails).

import {
  CancelledError,
  EventType,
  PendingActivityState,
  TerminatedError,
  TimeoutError,
  TimeoutType,
  WorkflowExecutionStatus,
  validateValue,
} from '@durabull/common';
import type { CodecChain, DurabullError, Failure, HistoryEvent, Memo, Payload, PayloadConverter, FailureConverter } from '@durabull/common';
import type { PendingActivityRecord, PendingWorkflowTaskRecord, RunDetails } from '@durabull/engine';
import { decodeMemo } from './memo';
import { describeRun } from './options';
import type { WorkflowExecutionDescription } from './options';

/** A pending activity of a running run (Temporal's `PendingActivityInfo`). */
export interface PendingActivityInfo {
  activityId: string;
  activityType: string;
  /**
   * `SCHEDULED` while waiting for an attempt (queued, or in a retry's backoff), `STARTED` while
   * one runs, `CANCEL_REQUESTED` once the workflow asked to cancel it (whichever of the others).
   */
  state: PendingActivityState;
  /** The current attempt (1 for the first); during a retry's backoff, the attempt that comes next. */
  attempt: number;
  /** The retry policy's maximum attempts; 0 is unlimited. */
  maximumAttempts: number;
  /** When the activity was first scheduled. */
  scheduledTime: Date;
  /** When the running attempt started; absent while none runs. */
  lastStartedTime?: Date;
  /** The previous attempt's failure, absent before a retry. */
  lastFailure?: DurabullError;
  /** When the latest heartbeat was recorded (this attempt's or an earlier one's); absent until one. */
  lastHeartbeatTime?: Date;
  /** The latest heartbeat's details; absent until a heartbeat. */
  heartbeatDetails?: unknown[];
  /** When the next attempt may start: only while a retry's backoff runs. */
  nextAttemptScheduleTime?: Date;
}

/** A child workflow a run started and that has not closed. */
export interface PendingChildWorkflowInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** Its StartChildWorkflowExecutionInitiated event id in the parent. */
  initiatedId: number;
  parentClosePolicy: string;
}

/** What {@link WorkflowHandle.describe} returns: the listing's facts and more. */
export interface WorkflowExecutionDetails extends WorkflowExecutionDescription {
  /** The start's memo, values decoded; `{}` when none was given. */
  memo: Record<string, unknown>;
  /** A completed run's result (decoded with the handle's `resultType`). */
  result?: unknown;
  /**
   * Why a closed run did not complete: the workflow's failure (failed), a `CancelledError`
   * (cancelled), a `TerminatedError` (terminated) or a `TimeoutError` (timed out); the same error
   * `result()` gives as the `cause` of its `WorkflowFailureError`.
   */
  failure?: DurabullError;
  /** A running run's pending activities, in the order they were scheduled; empty once closed. */
  pendingActivities: PendingActivityInfo[];
  /** A running run's pending child workflows. */
  pendingChildren: PendingChildWorkflowInfo[];
  /**
   * A running run's workflow task while one is scheduled or running: its attempt, and the last
   * failure of an earlier attempt (a bug in workflow code, nondeterminism, a payload over the
   * limit keep a task failing and retrying, with this as the reason).
   */
  pendingWorkflowTask?: PendingWorkflowTaskInfo;
}

/** {@link WorkflowExecutionDetails.pendingWorkflowTask}. */
export interface PendingWorkflowTaskInfo {
  state: 'SCHEDULED' | 'STARTED';
  /** 1 for a first attempt; more while a failing task is retried. */
  attempt: number;
  /** When it became due: scheduled, or its retry backoff over. */
  scheduledTime: Date;
  /** When a worker started it, while it runs. */
  startedTime?: Date;
  /** The previous attempt's WorkflowTaskFailed cause (`WORKFLOW_WORKER_UNHANDLED_FAILURE`, `NON_DETERMINISTIC_ERROR`, ...). */
  lastFailureCause?: string;
  /** The previous attempt's failure, as the error. */
  lastFailure?: DurabullError;
}

/** What decoding needs of the client. */
export interface DecodingClient {
  readonly payloads: PayloadConverter;
  readonly failures: FailureConverter;
  readonly codecs: CodecChain;
}

/**
 * The outcome a close event (codecs already undone) stands for: the result of a completed run, or
 * the error of one that did not complete.
 */
export function closeOutcome(
  client: DecodingClient,
  close: HistoryEvent,
  resultType: Function | undefined,
): { result: unknown } | { failure: DurabullError } | undefined {
  const attrs = close.attributes as Record<string, any>;
  const { payloads, failures } = client;
  switch (close.eventType) {
    case EventType.WorkflowExecutionCompleted: {
      const [payload] = attrs['result'] as Payload[];
      const value = payload ? payloads.fromPayload(payload, resultType) : undefined;
      validateValue(value, resultType, 'workflow result');
      return { result: value };
    }
    case EventType.WorkflowExecutionFailed:
      return { failure: failures.failureToError(attrs['failure'] as Failure) };
    case EventType.WorkflowExecutionCanceled:
      return { failure: new CancelledError('Workflow cancelled', payloads.fromPayloads(attrs['details'] as Payload[])) };
    case EventType.WorkflowExecutionTerminated:
      return {
        failure: new TerminatedError((attrs['reason'] as string) || 'Workflow terminated', {
          details: payloads.fromPayloads(attrs['details'] as Payload[]),
        }),
      };
    case EventType.WorkflowExecutionTimedOut:
      return { failure: new TimeoutError('Workflow timed out', { type: TimeoutType.START_TO_CLOSE }) };
    default:
      return undefined;
  }
}

async function pendingActivityInfo(client: DecodingClient, record: PendingActivityRecord, now: number): Promise<PendingActivityInfo> {
  const { payloads, failures, codecs } = client;
  const state = record.cancelRequested
    ? PendingActivityState.CANCEL_REQUESTED
    : record.startedTime > 0
      ? PendingActivityState.STARTED
      : PendingActivityState.SCHEDULED;
  const info: PendingActivityInfo = {
    activityId: record.activityId,
    activityType: record.activityType,
    state,
    attempt: record.attempt,
    maximumAttempts: record.maximumAttempts,
    scheduledTime: new Date(record.scheduledTime),
  };
  if (record.startedTime > 0) info.lastStartedTime = new Date(record.startedTime);
  if (record.lastFailure) info.lastFailure = failures.failureToError(await codecs.decodeFailure(record.lastFailure));
  if (record.lastHeartbeatTime !== undefined) info.lastHeartbeatTime = new Date(record.lastHeartbeatTime);
  if (record.heartbeatDetails) info.heartbeatDetails = payloads.fromPayloads(await codecs.decode(record.heartbeatDetails));
  // A retry's backoff: the next attempt is queued for later and has not started.
  if (record.attempt > 1 && record.startedTime === 0 && record.attemptScheduledTime > now) {
    info.nextAttemptScheduleTime = new Date(record.attemptScheduledTime);
  }
  return info;
}

async function pendingWorkflowTaskInfo(client: DecodingClient, record: PendingWorkflowTaskRecord): Promise<PendingWorkflowTaskInfo> {
  const info: PendingWorkflowTaskInfo = { state: record.state, attempt: record.attempt, scheduledTime: new Date(record.scheduledTime) };
  if (record.startedTime !== undefined) info.startedTime = new Date(record.startedTime);
  if (record.lastFailure) {
    info.lastFailureCause = record.lastFailure.cause;
    info.lastFailure = client.failures.failureToError(await client.codecs.decodeFailure(record.lastFailure.failure));
  }
  return info;
}

/** A run as describe reports it. */
export async function describeExecution(
  client: DecodingClient,
  run: RunDetails,
  resultType: Function | undefined,
): Promise<WorkflowExecutionDetails> {
  const stored = [run.startEvent, run.lastEvent].filter((event): event is HistoryEvent => event !== undefined);
  const [start, last] = await client.codecs.decodeEvents(stored);
  const memo = start?.eventType === EventType.WorkflowExecutionStarted ? (start.attributes as { memo?: Memo }).memo : undefined;
  const details: WorkflowExecutionDetails = {
    ...describeRun(run),
    memo: decodeMemo(memo, client.payloads),
    pendingActivities: await Promise.all(run.pendingActivities.map((record) => pendingActivityInfo(client, record, run.now))),
    pendingChildren: run.pendingChildren.map((child) => ({
      workflowId: child.workflowId,
      runId: child.runId,
      workflowType: child.workflowType,
      initiatedId: child.initiatedEventId,
      parentClosePolicy: child.parentClosePolicy,
    })),
  };
  if (run.pendingWorkflowTask) details.pendingWorkflowTask = await pendingWorkflowTaskInfo(client, run.pendingWorkflowTask);
  if (run.status !== WorkflowExecutionStatus.RUNNING && last) Object.assign(details, closeOutcome(client, last, resultType));
  return details;
}
