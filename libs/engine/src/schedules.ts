// Schedules (TEMPORAL-SEMANTICS §22): a hash per schedule on the shard of its id, its next fire
// time in that shard's deadlines zset (member "sch|<scheduleId>"), fired by whichever worker's
// wake-up job or sweep finds it due (Engine.fireDueDeadlines).
//
// Each step reads the schedule, computes what is due (spec times, catch-up window, overlap
// policy, buffer, pause and remaining actions) and commits the next state in one fenced script
// (lua/commitSchedule-5.lua, compare-and-set on a version): of any number of concurrent firings
// one commits, so each scheduled time is taken exactly once. Starts are part of the committed
// state ("pending") before they are handed over: the workflow (id `<action id>-<time>`) usually
// lives on another shard, so the committer then starts it with a run id derived from the
// schedule and its action number, which makes a repeated start a no-op, and commits it done. A
// committer that dies in between leaves the pending start behind with the schedule's deadline set
// HANDOVER_GRACE_MS later: whoever fires it then starts it again (a no-op if it had started).
//
// Overlap policies check whether the schedule's started runs still run at fire time (their run
// state, on their shards), and while a start waits for a run to close (buffered, CANCEL_OTHER)
// or pauseOnFailure watches a run, the schedule fires again every POLL_MS: no close
// notification crosses shards. Those looks are the member "scp|<scheduleId>" instead, which a
// time-skipping test environment does not skip to (it would crawl a second at a time while the
// run it waits for sleeps for days); they still happen every second of real time.
//
// A finished schedule (see noteFinished) is kept FINISHED_RETENTION_MS, then deleted (§22.3): its
// "sch|" member waits for that time instead of a spec time, and the step that fires it deletes the
// schedule if it is still finished. Anything that gives it more to do moves the member back to its
// next time. An exhausted schedule whose last run still runs looks at it every POLL_MS, so that
// the retention starts when the run closes.

import { createHash } from 'node:crypto';
import { WorkflowAlreadyStartedError, WorkflowIdReusePolicy } from '@durabull/common';
import type { CompiledRetryPolicy, HistoryEvent, Payload } from '@durabull/common';
import type { Cluster, Redis } from 'ioredis';
import { crashPoint } from './crash-points';
import type { Dispatcher } from './dispatcher';
import type { NamespaceKeys } from './keys';
import { ReplyCode, parseRunReply } from './scripts';
import type { ScriptRunner } from './scripts';
import { jitterOf, nextNominalTime, nominalTimesBetween, scheduleTimeId } from './schedule-spec';
import type { CompiledScheduleSpec } from './schedule-spec';
import type { RunRef, StartWorkflowRequest } from './types';

/** What a schedule does when a start is due while a run it started still runs (§22.2). */
export enum ScheduleOverlapPolicy {
  /** Drop the start. The default. */
  SKIP = 'SKIP',
  /** Buffer one start, run when the running run closes; further ones are dropped. */
  BUFFER_ONE = 'BUFFER_ONE',
  /** Buffer every start; they run one after another. */
  BUFFER_ALL = 'BUFFER_ALL',
  /** Cancel the running run, then start once it has closed. */
  CANCEL_OTHER = 'CANCEL_OTHER',
  /** Terminate the running run, then start. */
  TERMINATE_OTHER = 'TERMINATE_OTHER',
  /** Start now, concurrently. */
  ALLOW_ALL = 'ALLOW_ALL',
}

/** How a scheduled start becomes a run: everything but the id, the run id and the seed. */
export interface ScheduleActionRecord {
  workflowType: string;
  taskQueue: string;
  /** Started workflows get the id `<workflowId>-<scheduled time ISO>`. */
  workflowId: string;
  /** WorkflowExecutionStarted attributes (input, memo, header, timeouts; payloads encoded). */
  attributes: Record<string, unknown>;
  workflowTaskTimeout: number;
  runTimeout: number;
  /** The workflow's execution timeout (ms): the runs of each started chain end there. 0 or absent for none. */
  executionTimeout?: number;
  /** The started workflow's own retry policy (a failed run is retried as a new run of its id). */
  retryPolicy?: CompiledRetryPolicy;
}

/** A schedule's definition as stored. */
export interface ScheduleDefinition {
  action: ScheduleActionRecord;
  spec: CompiledScheduleSpec;
  policies: { overlap: ScheduleOverlapPolicy; catchupWindow: number; pauseOnFailure: boolean };
}

interface BufferedStart {
  nominal: number;
  /** The nominal time plus jitter. */
  scheduled: number;
  manual: boolean;
  overlap?: ScheduleOverlapPolicy;
}

/** One action a schedule took: a start, with what became of the run. */
export interface ScheduleActionRecordResult {
  scheduledAt: number;
  takenAt: number;
  workflowId: string;
  runId: string;
  /** RUNNING, a close status, or FAILED_TO_START. */
  status: string;
}

/** A schedule's state as stored (and committed by each step). */
export interface ScheduleState {
  createTime: number;
  updateTime: number;
  paused: boolean;
  note: string;
  limitedActions: boolean;
  remainingActions: number;
  /** Spec times up to this one (ms) have been taken, skipped or missed. */
  processedUpTo: number;
  actionCount: number;
  missedCatchupWindow: number;
  overlapSkipped: number;
  bufferDropped: number;
  buffer: BufferedStart[];
  /** Runs started and not yet seen closed (the current run of a chain that continued as new). */
  running: Array<{ workflowId: string; runId: string }>;
  /** Runs whose cancellation CANCEL_OTHER requested. */
  cancelRequested: string[];
  /** The last 10 actions. */
  recent: ScheduleActionRecordResult[];
  /** Starts committed and not yet known to be handed over. */
  pending: Array<{ workflowId: string; runId: string; manual: boolean; at: number; carry?: { lastCompletionResult?: Payload[]; continuedFailure?: unknown } }>;
  /** The last completed run's result (payloads), passed to the next start but under ALLOW_ALL. */
  lastCompletionResult?: Payload[];
  /** The last failed run's failure since a completion, passed likewise. */
  continuedFailure?: unknown;
  /** When a step first found the schedule finished (see FINISHED_RETENTION_MS); absent while it is not. */
  finishedAt?: number;
}

/** A schedule read back: definition, state, and the next times it fires. */
export interface ScheduleRecord {
  scheduleId: string;
  definition: ScheduleDefinition;
  state: ScheduleState;
  /** The next (up to) 10 fire times, jitter included, within remaining actions. */
  nextActionTimes: number[];
}

/** A change applied in the same step as the firing (pause, trigger, backfill, update). */
export type ScheduleChange = (record: { definition: ScheduleDefinition; state: ScheduleState; now: number }) => ScheduleDefinition | void;

/** How long a start committed by a firing may stay pending before someone else hands it over. */
export const HANDOVER_GRACE_MS = 3_000;
/** How often a schedule looks again at a run it waits for. */
export const POLL_MS = 1_000;
/** How long a finished schedule is kept before it is deleted (Temporal's 7 days, §22.3). */
export const FINISHED_RETENTION_MS = 7 * 86_400_000;
const RECENT = 10;
const MAX_BUFFER = 1000;
const MIN_CATCHUP_WINDOW_MS = 10_000;
export const DEFAULT_CATCHUP_WINDOW_MS = 365 * 86_400_000;
const MAX_STEPS = 50;

/** Raised catch-up windows below Temporal's minimum (10 s). */
export function normalizeCatchupWindow(ms: number | undefined): number {
  return ms === undefined ? DEFAULT_CATCHUP_WINDOW_MS : Math.max(MIN_CATCHUP_WINDOW_MS, ms);
}

/** A fresh schedule's state. */
export function initialScheduleState(now: number, state: { paused?: boolean; note?: string; remainingActions?: number }): ScheduleState {
  return {
    createTime: now,
    updateTime: now,
    paused: state.paused ?? false,
    note: state.note ?? '',
    limitedActions: state.remainingActions !== undefined && state.remainingActions > 0,
    remainingActions: state.remainingActions ?? 0,
    processedUpTo: now,
    actionCount: 0,
    missedCatchupWindow: 0,
    overlapSkipped: 0,
    bufferDropped: 0,
    buffer: [],
    running: [],
    cancelRequested: [],
    recent: [],
    pending: [],
  };
}

/** What schedules use of the engine (the Engine is one; declared here so neither imports the other). */
export interface ScheduleEngine {
  readonly redis: Redis | Cluster;
  readonly keys: NamespaceKeys;
  readonly namespace: string;
  readonly dispatcher: Dispatcher;
  startWorkflow(request: StartWorkflowRequest): Promise<unknown>;
  requestCancelWorkflow(ref: RunRef, reason: string, identity: string): Promise<void>;
  terminateWorkflow(ref: RunRef, reason: string, details: Payload[], identity: string): Promise<void>;
  currentRunId(workflowId: string): Promise<string | undefined>;
  lastEvent(ref: RunRef): Promise<HistoryEvent | undefined>;
}

/** The schedules of a namespace: create, fire, change, describe, list, delete. */
export class Schedules {
  constructor(
    private readonly engine: ScheduleEngine,
    private readonly scripts: ScriptRunner,
  ) {}

  private keys(scheduleId: string) {
    const shard = this.engine.keys.shardOf(scheduleId);
    const keys = this.engine.keys.shard(shard);
    return { shard, hash: `${keys.tag}:sched:${scheduleId}`, index: `${keys.tag}:scheds`, keys };
  }

  /** Namespace time (ms): Redis time plus the test clock offset (as test-clock.ts reads it). */
  async now(): Promise<number> {
    const [[seconds, micros], offset] = await Promise.all([this.engine.redis.time(), this.engine.redis.hget(this.engine.keys.shard(0).settings, 'clock')]);
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + Number(offset ?? 0);
  }

  private seed(scheduleId: string): string {
    return `${this.engine.namespace}-${scheduleId}`;
  }

  /** Creates a schedule; false when the id is taken. */
  async create(scheduleId: string, definition: ScheduleDefinition, state: ScheduleState): Promise<boolean> {
    noteFinished(definition, state, state.createTime);
    const code = await this.commit(scheduleId, 'create', '', definition, state, this.nextWake(scheduleId, definition, state, state.createTime));
    return code === ReplyCode.Ok;
  }

  /** Deletes a schedule (the runs it started go on); false when there is none. */
  async delete(scheduleId: string): Promise<boolean> {
    for (let step = 0; step < MAX_STEPS; step++) {
      const version = await this.engine.redis.hget(this.keys(scheduleId).hash, 'ver');
      if (version === null) return false;
      const code = await this.commit(scheduleId, 'delete', version, undefined, undefined, undefined);
      if (code !== ReplyCode.Stale) return code === ReplyCode.Ok;
    }
    throw new Error(`Schedule ${scheduleId}: too many concurrent changes`);
  }

  /** Fires a schedule whose deadline came due (Engine.fireDueDeadlines). */
  async fire(scheduleId: string): Promise<void> {
    const { hash, keys } = this.keys(scheduleId);
    const [due, poll, exists] = await Promise.all([
      this.engine.redis.zscore(keys.deadlines, `sch|${scheduleId}`),
      this.engine.redis.zscore(keys.deadlines, `scp|${scheduleId}`),
      this.engine.redis.exists(hash),
    ]);
    if (due === null && poll === null) return;
    if (exists === 0) {
      await this.engine.redis.zrem(keys.deadlines, `sch|${scheduleId}`, `scp|${scheduleId}`);
      return;
    }
    await this.step(scheduleId);
  }

  /**
   * One step of a schedule: what is due, with `change` applied first, committed; then the starts
   * it committed are handed over. Resolves to false when there is no such schedule.
   */
  async step(scheduleId: string, change?: ScheduleChange): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_STEPS; attempt++) {
      const read = await this.read(scheduleId);
      if (!read) return false;
      const { state, version } = read;
      let { definition } = read;
      const now = await this.now();
      await this.refreshRunning(definition, state);
      const changed = change?.({ definition, state, now }) ?? undefined;
      if (changed) definition = changed;
      this.takeDueTimes(scheduleId, definition, state, now);
      const handOver = await this.processBuffer(scheduleId, definition, state, now);
      // Pending starts of a committer that died are handed over again (a no-op if they started).
      for (const pending of state.pending) if (pending.at + HANDOVER_GRACE_MS <= now && !handOver.includes(pending)) handOver.push(pending);
      if (change) state.updateTime = now;
      noteFinished(definition, state, now);
      if (state.finishedAt !== undefined && now >= state.finishedAt + FINISHED_RETENTION_MS) {
        const code = await this.commit(scheduleId, 'delete', version, undefined, undefined, undefined);
        if (code === ReplyCode.Stale) continue;
        return false;
      }
      const code = await this.commit(scheduleId, 'update', version, changed, state, this.nextWake(scheduleId, definition, state, now));
      if (code === ReplyCode.Stale) continue;
      if (code === ReplyCode.NotFound) return false;
      if (handOver.length > 0) await this.handOver(scheduleId, definition, handOver);
      return true;
    }
    throw new Error(`Schedule ${scheduleId}: too many concurrent changes`);
  }

  /** Starts committed starts, then commits them done (with FAILED_TO_START where refused). */
  private async handOver(scheduleId: string, definition: ScheduleDefinition, starts: ScheduleState['pending']): Promise<void> {
    const refused = new Set<string>();
    await Promise.all(
      starts.map(async (start) => {
        try {
          await this.engine.startWorkflow(this.startRequest(scheduleId, definition, start));
        } catch (error) {
          if (!(error instanceof WorkflowAlreadyStartedError)) throw error;
          refused.add(start.runId);
        }
      }),
    );
    crashPoint('schedule:afterStart');
    const done = new Set(starts.map((start) => start.runId));
    await this.step(scheduleId, ({ state }) => {
      state.pending = state.pending.filter((pending) => !done.has(pending.runId));
      state.running = state.running.filter((run) => !refused.has(run.runId));
      for (const action of state.recent) if (refused.has(action.runId)) action.status = 'FAILED_TO_START';
    });
  }

  private startRequest(scheduleId: string, definition: ScheduleDefinition, start: ScheduleState['pending'][number]) {
    const { action } = definition;
    return {
      workflowId: start.workflowId,
      runId: start.runId,
      workflowType: action.workflowType,
      taskQueue: action.taskQueue,
      workflowTaskTimeout: action.workflowTaskTimeout,
      runTimeout: action.runTimeout,
      executionTimeout: action.executionTimeout,
      retryPolicy: action.retryPolicy,
      attributes: {
        ...action.attributes,
        workflowId: start.workflowId,
        firstExecutionRunId: start.runId,
        randomnessSeed: createHash('sha1').update(start.runId).digest('hex').slice(0, 16),
        identity: `schedule ${scheduleId}`,
        ...start.carry,
      },
      // Scheduled starts never follow an earlier run of their id; trigger and backfill may (§22.3).
      idReusePolicy: start.manual ? WorkflowIdReusePolicy.ALLOW_DUPLICATE : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      identity: `schedule ${scheduleId}`,
    };
  }

  /** Forgets runs that closed (following a chain that continued as new); pauses on failure. */
  private async refreshRunning(definition: ScheduleDefinition, state: ScheduleState): Promise<void> {
    if (state.running.length === 0) return;
    const still: ScheduleState['running'] = [];
    const statusOf = (ref: { workflowId: string; runId: string }) => this.engine.redis.hget(this.engine.keys.run(ref.workflowId, ref.runId).state, 'status');
    for (const started of state.running) {
      if (state.pending.some((pending) => pending.runId === started.runId)) {
        still.push(started);
        continue;
      }
      let run = started;
      let status = await statusOf(run);
      // A chain that goes on (continue-as-new, the workflow's own retry, cron) is followed to its
      // current run: the action ends when the chain does.
      for (let hops = 0; status && status !== 'RUNNING' && hops < 100; hops++) {
        const next = await this.engine.currentRunId(run.workflowId);
        if (!next || next === run.runId) break;
        run = { workflowId: run.workflowId, runId: next };
        status = await statusOf(run);
      }
      if (status === 'RUNNING') {
        still.push(run);
        continue;
      }
      const closed = status ?? 'DELETED';
      if (closed === 'COMPLETED' || closed === 'FAILED') {
        const attrs = (await this.engine.lastEvent(run))?.attributes as { result?: Payload[]; failure?: unknown } | undefined;
        if (closed === 'COMPLETED') {
          state.lastCompletionResult = attrs?.result ?? [];
          delete state.continuedFailure;
        } else if (attrs?.failure) {
          state.continuedFailure = attrs.failure;
        }
      }
      for (const action of state.recent) if (action.workflowId === run.workflowId) action.status = closed;
      state.cancelRequested = state.cancelRequested.filter((id) => id !== run.runId && id !== started.runId);
      if (definition.policies.pauseOnFailure && (closed === 'FAILED' || closed === 'TIMED_OUT') && !state.paused) {
        state.paused = true;
        if (closed === 'TIMED_OUT') {
          state.note = `paused due to workflow timeout: ${run.workflowId}`;
        } else {
          const last = await this.engine.lastEvent(run);
          const failure = (last?.attributes as { failure?: { message?: string } } | undefined)?.failure;
          state.note = `paused due to workflow failure: ${run.workflowId}: ${failure?.message ?? ''}`;
        }
      }
    }
    state.running = still;
  }

  /** Spec times that came due: buffered, or counted as missed; skipped while paused. */
  private takeDueTimes(scheduleId: string, definition: ScheduleDefinition, state: ScheduleState, now: number): void {
    const { spec } = definition;
    if (state.paused) {
      state.processedUpTo = Math.max(state.processedUpTo, now);
      return;
    }
    const window = definition.policies.catchupWindow;
    // After a long outage, times far older than the window are not walked one by one.
    const floor = now - window - spec.jitter - 1;
    let scheduledBuffered = state.buffer.filter((item) => !item.manual).length;
    let from = state.processedUpTo;
    for (let i = 0; ; i++) {
      if (i === 10_000 && from < floor) from = floor;
      if (i > 20_000) break;
      const nominal = nextNominalTime(spec, from);
      if (nominal === undefined) break;
      const scheduled = nominal + jitterOf(spec, nominal, this.seed(scheduleId));
      if (scheduled > now) break;
      from = nominal;
      state.processedUpTo = nominal;
      if (now - scheduled > window) {
        state.missedCatchupWindow++;
        continue;
      }
      if (state.limitedActions && state.remainingActions - scheduledBuffered <= 0) continue;
      if (state.buffer.length >= MAX_BUFFER) {
        state.bufferDropped++;
        continue;
      }
      state.buffer.push({ nominal, scheduled, manual: false });
      scheduledBuffered++;
    }
    state.processedUpTo = Math.max(state.processedUpTo, from);
  }

  /**
   * Takes what the buffer allows under the overlap policies (Temporal's ProcessBuffer): starts
   * (committed as pending, returned to hand over), drops, and cancels or terminates other runs.
   */
  private async processBuffer(scheduleId: string, definition: ScheduleDefinition, state: ScheduleState, now: number) {
    const starts: ScheduleState['pending'] = [];
    const keep: BufferedStart[] = [];
    const start = (item: BufferedStart) => {
      const workflowId = `${definition.action.workflowId}-${scheduleTimeId(item.nominal)}`;
      // Unique per schedule (its create time tells a re-created one apart) and action.
      const runId = deterministicUuid(`${this.engine.namespace}|${scheduleId}|${state.createTime}|${state.actionCount}|${workflowId}`);
      state.actionCount++;
      if (!item.manual && state.limitedActions) state.remainingActions = Math.max(0, state.remainingActions - 1);
      const pending: ScheduleState['pending'][number] = { workflowId, runId, manual: item.manual, at: now };
      // Carried results (§22.2): the last completion result and failure, but not under ALLOW_ALL.
      if ((item.overlap ?? definition.policies.overlap) !== ScheduleOverlapPolicy.ALLOW_ALL) {
        const carry = {
          ...(state.lastCompletionResult ? { lastCompletionResult: state.lastCompletionResult } : {}),
          ...(state.continuedFailure ? { continuedFailure: state.continuedFailure } : {}),
        };
        if (Object.keys(carry).length > 0) pending.carry = carry;
      }
      state.pending.push(pending);
      starts.push(pending);
      state.running.push({ workflowId, runId });
      state.recent.push({ scheduledAt: item.scheduled, takenAt: now, workflowId, runId, status: 'RUNNING' });
      if (state.recent.length > RECENT) state.recent.splice(0, state.recent.length - RECENT);
    };
    for (const item of state.buffer) {
      const overlap = item.overlap ?? definition.policies.overlap;
      if (overlap === ScheduleOverlapPolicy.ALLOW_ALL) {
        start(item);
        continue;
      }
      if (state.running.length === 0 && keep.length === 0) {
        start(item);
        continue;
      }
      switch (overlap) {
        case ScheduleOverlapPolicy.SKIP:
          state.overlapSkipped++;
          break;
        case ScheduleOverlapPolicy.BUFFER_ONE:
          if (keep.length === 0) keep.push(item);
          else state.overlapSkipped++;
          break;
        case ScheduleOverlapPolicy.BUFFER_ALL:
          keep.push(item);
          break;
        case ScheduleOverlapPolicy.CANCEL_OTHER:
        case ScheduleOverlapPolicy.TERMINATE_OTHER: {
          // Only the latest of these waits; the runs in the way are cancelled or terminated.
          state.overlapSkipped += keep.length;
          keep.length = 0;
          const inTheWay = state.running.filter((run) => !starts.some((s) => s.runId === run.runId));
          if (overlap === ScheduleOverlapPolicy.TERMINATE_OTHER && inTheWay.length > 0 && inTheWay.length === state.running.length) {
            await Promise.all(inTheWay.map((run) => this.stopRun(run, 'terminate')));
            state.running = [];
            for (const action of state.recent) if (inTheWay.some((run) => run.runId === action.runId)) action.status = 'TERMINATED';
            start(item);
          } else {
            for (const run of inTheWay) {
              if (overlap === ScheduleOverlapPolicy.CANCEL_OTHER && !state.cancelRequested.includes(run.runId)) {
                await this.stopRun(run, 'cancel');
                state.cancelRequested.push(run.runId);
              }
            }
            keep.push(item);
          }
          break;
        }
        default:
          state.overlapSkipped++;
      }
    }
    state.buffer = keep;
    return starts;
  }

  private async stopRun(run: { workflowId: string; runId: string }, how: 'cancel' | 'terminate'): Promise<void> {
    const identity = 'schedule';
    try {
      if (how === 'cancel') await this.engine.requestCancelWorkflow(run, 'cancelled by schedule overlap policy', identity);
      else await this.engine.terminateWorkflow(run, 'terminated by schedule overlap policy', [], identity);
    } catch (error) {
      // It closed meanwhile: nothing is in the way any more.
      if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
    }
  }

  /**
   * When the schedule must fire next: its next spec time, a pending hand-over, its deletion once
   * finished, or (`poll`) only to look again at a run it waits for (or whose close finishes it).
   */
  private nextWake(scheduleId: string, definition: ScheduleDefinition, state: ScheduleState, now: number): { at: number; poll: boolean } | undefined {
    const times: number[] = [];
    const next = this.nextTimes(scheduleId, definition, state, 1)[0];
    if (next !== undefined) times.push(next);
    for (const pending of state.pending) times.push(pending.at + HANDOVER_GRACE_MS);
    if (state.finishedAt !== undefined) times.push(state.finishedAt + FINISHED_RETENTION_MS);
    const at = times.length > 0 ? Math.min(...times) : undefined;
    const watch = state.buffer.length > 0 || definition.policies.pauseOnFailure || (!state.paused && exhausted(definition, state));
    if (state.running.length > 0 && watch && (at === undefined || now + POLL_MS < at)) {
      return { at: now + POLL_MS, poll: true };
    }
    return at === undefined ? undefined : { at, poll: false };
  }

  /** The next `count` fire times (jitter included) after what was taken, within remaining actions. */
  nextTimes(scheduleId: string, definition: ScheduleDefinition, state: ScheduleState, count: number): number[] {
    if (state.paused) return [];
    const limit = state.limitedActions
      ? Math.max(0, state.remainingActions - state.buffer.filter((item) => !item.manual).length)
      : count;
    const times: number[] = [];
    for (let t = nextNominalTime(definition.spec, state.processedUpTo); t !== undefined && times.length < Math.min(count, limit); t = nextNominalTime(definition.spec, t)) {
      times.push(t + jitterOf(definition.spec, t, this.seed(scheduleId)));
    }
    return times;
  }

  /** Spec times in [start, end] (backfill): nominal and with jitter, those jittered past the end left out. */
  timesBetween(scheduleId: string, definition: ScheduleDefinition, start: number, end: number): Array<{ nominal: number; scheduled: number }> {
    return nominalTimesBetween(definition.spec, start, end)
      .map((nominal) => ({ nominal, scheduled: nominal + jitterOf(definition.spec, nominal, this.seed(scheduleId)) }))
      .filter((time) => time.scheduled <= end);
  }

  private async read(scheduleId: string): Promise<{ definition: ScheduleDefinition; state: ScheduleState; version: string } | undefined> {
    const [def, st, version] = await this.engine.redis.hmget(this.keys(scheduleId).hash, 'def', 'st', 'ver');
    if (!def || !st || !version) return undefined;
    return { definition: JSON.parse(def) as ScheduleDefinition, state: JSON.parse(st) as ScheduleState, version };
  }

  /**
   * A schedule as stored, with the statuses of the runs it started read now (not written), and
   * its next 10 fire times; undefined when there is none.
   */
  async describe(scheduleId: string): Promise<ScheduleRecord | undefined> {
    const read = await this.read(scheduleId);
    if (!read) return undefined;
    const { definition, state } = read;
    await Promise.all(
      state.recent
        .filter((action) => action.status === 'RUNNING' && !state.pending.some((p) => p.runId === action.runId))
        .map(async (action) => {
          const status = await this.engine.redis.hget(this.engine.keys.run(action.workflowId, action.runId).state, 'status');
          action.status = status ?? 'DELETED';
        }),
    );
    return { scheduleId, definition, state, nextActionTimes: this.nextTimes(scheduleId, definition, state, RECENT) };
  }

  /** Every schedule of the namespace, by id. */
  async list(): Promise<ScheduleRecord[]> {
    const records = await Promise.all((await this.ids()).map((id) => this.describe(id)));
    return records.filter((record): record is ScheduleRecord => record !== undefined);
  }

  /**
   * Hands over now every start that a firing committed and has not handed over yet, rather than
   * after HANDOVER_GRACE_MS: the test clock's promise that the actions that came due have started
   * when it returns, whoever fired them. A start its committer made already is a no-op.
   */
  async handOverPending(): Promise<void> {
    await Promise.all(
      (await this.ids()).map(async (scheduleId) => {
        const read = await this.read(scheduleId);
        if (read && read.state.pending.length > 0) await this.handOver(scheduleId, read.definition, read.state.pending);
      }),
    );
  }

  private async ids(): Promise<string[]> {
    const { keys } = this.engine;
    const ids = await Promise.all(Array.from({ length: keys.shardCount }, (_, shard) => this.engine.redis.zrange(`${keys.shard(shard).tag}:scheds`, 0, -1)));
    return ids.flat().sort();
  }

  private async commit(
    scheduleId: string,
    mode: 'create' | 'update' | 'delete',
    version: string,
    definition: ScheduleDefinition | undefined,
    state: ScheduleState | undefined,
    next: { at: number; poll: boolean } | undefined,
  ): Promise<ReplyCode> {
    const { shard, hash, index, keys } = this.keys(scheduleId);
    const reply = parseRunReply(
      await this.scripts.call('commitSchedule', [hash, index, keys.deadlines, keys.wakes, keys.outbox], [
        scheduleId,
        mode,
        version,
        definition ? JSON.stringify(definition) : '',
        state ? JSON.stringify(state) : '',
        next === undefined ? '' : Math.round(next.at),
        next?.poll ? 'scp' : 'sch',
      ]),
    );
    crashPoint('afterCommit:commitSchedule');
    if (reply.dispatch.length > 0) await this.engine.dispatcher.dispatch(shard, reply.dispatch, reply.now);
    return reply.code;
  }
}

/** Whether the schedule will take no more scheduled action: its remaining actions used up, or no spec time left. */
function exhausted(definition: ScheduleDefinition, state: ScheduleState): boolean {
  return (state.limitedActions && state.remainingActions <= 0) || nextNominalTime(definition.spec, state.processedUpTo) === undefined;
}

/**
 * Records when the schedule became finished, or that it is not: exhausted, with nothing running
 * or buffered. A paused schedule is kept, as Temporal keeps one (it was paused to be resumed).
 */
function noteFinished(definition: ScheduleDefinition, state: ScheduleState, now: number): void {
  if (!state.paused && state.running.length === 0 && state.buffer.length === 0 && exhausted(definition, state)) state.finishedAt ??= now;
  else delete state.finishedAt;
}

/** A UUID-shaped id derived from `text` (a run id that makes a repeated start a no-op). */
function deterministicUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
