// What the engine's transitions take and return: a run's coordinates, requests, task starts,
// commands and outcomes. Shared by the engine, its reply decoding and the SDK.

import type { CompiledRetryPolicy, EventType, Failure, HistoryEvent, Payload, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@durabull/common';
import type { CompiledCron } from './cron';
import type { UpdateRequest } from './updates';
import type { RunSummary } from './visibility';

/** A run's coordinates: everything needed to build its keys. */
export interface RunRef {
  workflowId: string;
  runId: string;
}

export interface StartWorkflowRequest extends RunRef {
  workflowType: string;
  taskQueue: string;
  /** WorkflowExecutionStarted attributes. */
  attributes: Record<string, unknown>;
  workflowTaskTimeout: number;
  runTimeout: number;
  /**
   * Signal-with-start: the start signal's WorkflowExecutionSignaled attributes. A new run records
   * it right after WorkflowExecutionStarted; a running run of the workflow id is signalled
   * instead of the start being refused.
   */
  startSignal?: Record<string, unknown>;
  /** Checked by `resolveIdPolicies` (id-policy.ts). @default ALLOW_DUPLICATE */
  idReusePolicy?: WorkflowIdReusePolicy;
  /** Checked by `resolveIdPolicies` (id-policy.ts). @default FAIL */
  idConflictPolicy?: WorkflowIdConflictPolicy;
  /**
   * TERMINATE_EXISTING: the details recorded on the terminated run (payloads, codecs applied), by
   * default none; Temporal's are `terminated by new runID: <run id>` (`terminateExistingDetails`).
   */
  terminateDetails?: Payload[];
  /** Who starts the run, recorded on a run TERMINATE_EXISTING terminates. */
  identity?: string;
  /** A child workflow's parent (the run's state field `par`, lua/includes/children.lua). */
  parent?: RunRef & { initiatedEventId: number };
  /** The workflow's own retry policy: a failed or timed-out run is followed by another attempt. */
  retryPolicy?: CompiledRetryPolicy;
  /** A cron schedule: as given (recorded) and compiled (cron.ts). */
  cron?: { schedule: string; compiled: CompiledCron };
  /** ms before the first workflow task (the start's `startDelay`). */
  startDelay?: number;
  /** ms for the whole chain of runs (0 or absent: none). */
  executionTimeout?: number;
  /**
   * With `retryPolicy` or `cron`: the attributes of WorkflowExecutionStarted without the chain
   * fields (see {@link chainTemplate}), from which the engine builds a retry's or cron run's.
   */
  chainTemplate?: Record<string, unknown>;
}

/** WorkflowExecutionStarted's fields a run of a chain sets itself (run-start.lua). */
export const CHAIN_FIELDS = [
  'attempt',
  'firstExecutionRunId',
  'randomnessSeed',
  'originalExecutionRunId',
  'continuedExecutionRunId',
  'initiator',
  'continuedFailure',
  'lastCompletionResult',
  'firstWorkflowTaskBackoff',
] as const;

/** The attributes of WorkflowExecutionStarted without the fields each run of a chain sets itself. */
export function chainTemplate(attributes: Record<string, unknown>): Record<string, unknown> {
  const template = { ...attributes };
  for (const field of CHAIN_FIELDS) delete template[field];
  return template;
}

export interface WorkflowTaskStart {
  attempt: number;
  /** The WorkflowTaskStarted event id, or 0 for a transient retry attempt (written on completion). */
  startedEventId: number;
  /** Redis time at the start: the workflow's `now()` for this task. */
  now: number;
  /**
   * Redis time (ms) the task became due: when it was scheduled, or when its retry backoff ended.
   * `now - scheduledTime` is its schedule-to-start latency (0 for a task taken eagerly).
   */
  scheduledTime: number;
  /** History after the event id the worker already holds. */
  events: HistoryEvent[];
  /** Update requests admitted and not yet accepted or rejected, in admission order (updates.lua). */
  updates: UpdateRequest[];
  /**
   * Set when the task is not started yet (a run's first task run from its job: `workflowTaskFromJob`):
   * the time its completion takes it at, which is `now`.
   */
  takenAt?: number;
}

/** A workflow command as an event to append, with what the engine needs to act on it. */
export interface CommandRecord {
  eventType: EventType;
  attributes: Record<string, unknown>;
  meta: Record<string, unknown>;
}

/** A pending activity as the engine tracks it (the run state's `a:<scheduledEventId>` field). */
export interface ActivityState {
  activityId: string;
  activityType: string;
  taskQueue: string;
  attempt: number;
  /** First schedule time (ms). */
  scheduledTime: number;
  /** This attempt's schedule time (ms). */
  attemptScheduledTime: number;
  /** This attempt's start time (ms), 0 when not started. */
  startedTime: number;
  scheduleToCloseTimeout: number;
  scheduleToStartTimeout: number;
  startToCloseTimeout: number;
  heartbeatTimeout: number;
  /** Latest heartbeat details, recorded by this or an earlier attempt. */
  heartbeatDetails: Payload[];
  lastFailure?: Failure;
  cancelRequested: boolean;
}

export interface ActivityTaskStart {
  now: number;
  activity: ActivityState;
  /** Attributes of the activity's ActivityTaskScheduled event (input, timeouts, retry policy). */
  scheduled: Record<string, unknown>;
  workflowType: string;
}

/** What a worker learned from a failure, for the engine's retry decision. */
export interface FailureFacts {
  kind: 'application' | 'timeout' | 'canceled' | 'terminated' | 'server';
  type?: string;
  nonRetryable?: boolean;
  nextRetryDelay?: number;
  timeoutType?: string;
}

export type ActivityOutcome =
  | { kind: 'completed'; result: Payload[] }
  | { kind: 'failed'; failure: Failure; facts: FailureFacts }
  | { kind: 'canceled'; details: Payload[] };

/** Execution state of a run, as `describe()` reports it: what a listing shows of it. */
export type RunDescription = RunSummary;

export interface SweepOptions {
  /** How late a task or deadline may be before the sweep looks at it (ms). */
  graceMs: number;
  /** Most tasks looked at per shard and sweep. */
  limit?: number;
  /** The sweeping worker, recorded live in every shard for `liveMs` (its sticky queue is routed to meanwhile). */
  worker?: { id: string; liveMs: number };
  /** Whether to recover lost tasks; false refreshes liveness and fires overdue deadlines only. @default true */
  recover?: boolean;
  /** How late a deadline may be before the sweep fires it itself (its wake-up job was lost) (ms). @default 200 */
  deadlineGraceMs?: number;
  /** How long a dead worker is leased to the sweeper that recovers it, before another may (ms). @default 10 s */
  deadWorkerLeaseMs?: number;
}

/**
 * Which activity an async completion acts on: by task token, the attempt the token names (its
 * scheduled event id and attempt, and the activity id); by id, the pending activity with that id
 * and whatever attempt it is at.
 */
export type AsyncActivityTarget =
  | { scheduledEventId: number; attempt: number; activityId: string }
  | { activityId: string };

/** What an async completion reports: an outcome, or a heartbeat with its details. */
export type AsyncActivityReport = ActivityOutcome | { kind: 'heartbeat'; details: Payload[] };

/**
 * How the engine answered an async completion: done (`retryState` for a failure: `IN_PROGRESS`
 * when another attempt follows; `cancelRequested` for a heartbeat), or refused: `runNotFound`,
 * `runClosed`, `activityIdNotFound` (by id: no pending activity has it), `attemptNotFound` (the
 * attempt is not pending, not started, or not current), `notCancelRequested` (a cancellation
 * reported without a request).
 */
export type AsyncActivityReply =
  | { ok: true; retryState?: string; cancelRequested?: boolean }
  | { ok: false; reason: 'runNotFound' | 'runClosed' | 'activityIdNotFound' | 'attemptNotFound' | 'notCancelRequested' };

/** A retry policy as the engine's Lua reads it (activities' `rp`, a workflow's `wrp`). */
export function luaRetryPolicy(policy: CompiledRetryPolicy): { ii: number; bc: number; mi: number; ma: number; nr: string[] } {
  return {
    ii: policy.initialInterval,
    bc: policy.backoffCoefficient,
    mi: policy.maximumInterval,
    ma: policy.maximumAttempts,
    nr: policy.nonRetryableErrorTypes,
  };
}
