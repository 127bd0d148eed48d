// Schedules from the client's side (TEMPORAL-SEMANTICS §22): checking and compiling the options
// (the action's input encoded as a start would encode it), and the ScheduleHandle. The engine
// (`@durabull/engine` schedules.ts) fires them.

import { DurabullError, SymbolBasedInstanceOfError, optionalMilliseconds, toMilliseconds } from '@durabull/common';
import type { Duration, Memo, Payload } from '@durabull/common';
import {
  ScheduleOverlapPolicy,
  assertName,
  assertScheduleSpec,
  initialScheduleState,
  normalizeCatchupWindow,
} from '@durabull/engine';
import type { CompiledScheduleSpec, ScheduleChange, ScheduleDefinition, ScheduleRecord, ScheduleState } from '@durabull/engine';
import { requireWorkflowDefinition } from '../definitions/workflow';
import type { Logger } from '../logger';
import type { HandleClient } from './handle-client';
import { decodeMemo, encodeMemo } from './memo';
import { checkPayloadSize } from '../payload-limits';
import { resolveStart } from './options';
import type { StartWorkflowOptions } from './options';
import type { WorkflowClass } from '../definitions/workflow';

export { ScheduleOverlapPolicy };

/** What schedules use of the {@link Client} (a `Client` is one; declared here so neither imports the other). */
export type ScheduleClient = Pick<HandleClient, 'engine' | 'payloads' | 'codecs' | 'reachRedis'> & { readonly logger: Logger };

/** No schedule has this id. */
@SymbolBasedInstanceOfError('ScheduleNotFoundError')
export class ScheduleNotFoundError extends DurabullError {
  constructor(
    /** The id that was looked up. */
    readonly scheduleId: string,
  ) {
    super(`Schedule not found: scheduleId=${JSON.stringify(scheduleId)}`);
  }
}

/** `createSchedule` with an id a schedule already has (Temporal's TypeScript name; also exported as `ScheduleAlreadyRunningError`). */
@SymbolBasedInstanceOfError('ScheduleAlreadyRunning')
export class ScheduleAlreadyRunning extends DurabullError {
  constructor(
    /** The id that is taken. */
    readonly scheduleId: string,
  ) {
    super(`Schedule already exists and is running: scheduleId=${JSON.stringify(scheduleId)}`);
  }
}

/** When a schedule fires: the union of its cron strings and intervals (§22.1). */
export interface ScheduleSpec {
  /**
   * Cron strings: 5 fields (minute hour day-of-month month day-of-week), 6 (a second first) or 7
   * (then a year); ranges, steps, lists, month and day names; `@hourly`, `@daily`, ...;
   * `@every <n><s|m|h|d>[/<offset>]`; a `CRON_TZ=<zone>` prefix. Day of month and day of week
   * must both match.
   */
  cronExpressions?: string[];
  /** Times `epoch + n·every + offset`, aligned to the Unix epoch. `every` must be > 0. */
  intervals?: Array<{ every: Duration; offset?: Duration }>;
  /** No time before this one (inclusive). */
  startAt?: Date;
  /**
   * No time after this one (inclusive). Once its last time is taken and that run has closed, the
   * schedule is finished and deleted 7 days later (see {@link ScheduleHandle.describe}).
   */
  endAt?: Date;
  /** Each time is delayed by a deterministic amount in [0, jitter). @default 0 */
  jitter?: Duration;
  /** The IANA time zone of the cron strings (`America/New_York`). @default 'UTC' */
  timezone?: string;
}

/** How a schedule treats overlaps, missed times and failures (§22.2). */
export interface SchedulePolicies {
  /** What a start due while a run the schedule started still runs does. @default SKIP */
  overlap?: ScheduleOverlapPolicy;
  /** How late a time may still be taken (after an outage); at least 10 s. @default 1 year */
  catchupWindow?: Duration;
  /** Pause the schedule when a run it started fails or times out. @default false */
  pauseOnFailure?: boolean;
}

/** A schedule's state at create (and in an update). */
export interface ScheduleStateOptions {
  /** Created paused. @default false */
  paused?: boolean;
  /** Why (shown by describe). */
  note?: string;
  /**
   * Take this many scheduled actions, then stop (trigger and backfill do not count). Once they
   * are taken and the last run has closed, the schedule is finished and deleted 7 days later
   * (see {@link ScheduleHandle.describe}). @default unlimited
   */
  remainingActions?: number;
}

/**
 * The workflow a schedule starts: start options, the workflow and its args. Started workflows get
 * the id `<id>-<scheduled time, RFC 3339 UTC seconds>`. The id policies, signal-with-start,
 * cronSchedule and startDelay are not allowed (a schedule decides them, as Temporal's start
 * action); the timeouts, memo and retryPolicy apply to every workflow it starts.
 */
export type ScheduleActionOptions = Omit<StartWorkflowOptions, 'idReusePolicy' | 'idConflictPolicy' | 'startSignal' | 'startSignalArgs' | 'cronSchedule' | 'startDelay'> & {
  /** The workflow class, or its type name. */
  workflow: WorkflowClass | string;
  /** Its arguments. @default [] */
  args?: unknown[];
};

/** `client.createSchedule`'s options. */
export interface ScheduleOptions {
  action: ScheduleActionOptions;
  spec: ScheduleSpec;
  policies?: SchedulePolicies;
  state?: ScheduleStateOptions;
}

/** One start a schedule made. */
export interface ScheduleActionResult {
  /** The time it was scheduled for (jitter included; now for a trigger). */
  scheduledAt: Date;
  /** When it was taken. */
  takenAt: Date;
  action: { type: 'startWorkflow'; workflow: { workflowId: string; firstExecutionRunId: string } };
  /** `RUNNING`, the run's close status, or `FAILED_TO_START`. */
  status: string;
}

/** A schedule as `describe()` reads it: its options (durations in ms) and what it did. */
export interface ScheduleDescription {
  scheduleId: string;
  action: Omit<ScheduleActionOptions, 'workflow'> & { workflow: string; args: unknown[] };
  spec: Omit<ScheduleSpec, 'cronExpressions' | 'intervals' | 'jitter' | 'timezone'> & {
    cronExpressions: string[];
    intervals: Array<{ every: number; offset: number }>;
    jitter: number;
    timezone: string;
  };
  policies: { overlap: ScheduleOverlapPolicy; catchupWindow: number; pauseOnFailure: boolean };
  state: { paused: boolean; note: string; remainingActions?: number };
  info: {
    /** The last 10 actions, oldest first. */
    recentActions: ScheduleActionResult[];
    /** The next 10 fire times (none while paused). */
    nextActionTimes: Date[];
    /** Runs started and not seen closed. */
    runningActions: Array<{ type: 'startWorkflow'; workflow: { workflowId: string; firstExecutionRunId: string } }>;
    numActionsTaken: number;
    numActionsMissedCatchupWindow: number;
    numActionsSkippedOverlap: number;
    numActionsBufferDropped: number;
    /** Starts waiting for a run to close. */
    bufferSize: number;
    createdAt: Date;
    lastUpdatedAt: Date;
  };
}

/** A schedule in `listSchedules()`: its spec, state and the last and next 5 actions. */
export interface ScheduleSummary {
  scheduleId: string;
  action: { type: 'startWorkflow'; workflowType: string };
  spec: ScheduleDescription['spec'];
  state: { paused: boolean; note: string };
  info: { recentActions: ScheduleActionResult[]; nextActionTimes: Date[] };
}

/** A backfill: every spec time in [start, end] (both inclusive) taken now. */
export interface ScheduleBackfill {
  start: Date;
  end: Date;
  /** The overlap policy of these starts. @default the schedule's */
  overlap?: ScheduleOverlapPolicy;
}

const OVERLAP_POLICIES = new Set<string>(Object.values(ScheduleOverlapPolicy));

function checkOverlap(value: unknown, what = 'overlap policy'): ScheduleOverlapPolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !OVERLAP_POLICIES.has(value)) {
    throw new TypeError(`Invalid ${what}: ${JSON.stringify(value)} (one of ${[...OVERLAP_POLICIES].join(', ')})`);
  }
  return value as ScheduleOverlapPolicy;
}

function toTime(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`Invalid ${what}: ${JSON.stringify(value)} (a valid Date)`);
  return ms;
}

/** Refuses keys an options object does not know (a misspelt policy would otherwise do nothing). */
function checkKeys(value: object, known: readonly string[], what: string): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new TypeError(`Unknown ${what} option(s): ${unknown.join(', ')} (known: ${known.join(', ')})`);
}

function compileSpec(spec: ScheduleSpec): CompiledScheduleSpec {
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`Invalid schedule spec: ${JSON.stringify(spec)}`);
  checkKeys(spec, ['cronExpressions', 'intervals', 'startAt', 'endAt', 'jitter', 'timezone'], 'schedule spec');
  const cronExpressions = spec.cronExpressions ?? [];
  if (!Array.isArray(cronExpressions) || cronExpressions.some((cron) => typeof cron !== 'string')) {
    throw new TypeError(`Invalid cronExpressions: ${JSON.stringify(cronExpressions)} (an array of strings)`);
  }
  const intervals = (spec.intervals ?? []).map(({ every, offset }) => {
    const ms = toMilliseconds(every, 'interval every');
    if (!(ms > 0)) throw new TypeError(`Invalid interval every: ${JSON.stringify(every)} (must be > 0)`);
    return { every: ms, offset: optionalMilliseconds(offset, 'interval offset') ?? 0 };
  });
  if (cronExpressions.length === 0 && intervals.length === 0) {
    throw new TypeError('Invalid schedule spec: it needs at least one of cronExpressions and intervals');
  }
  const compiled: CompiledScheduleSpec = {
    cronExpressions: [...cronExpressions],
    intervals,
    jitter: optionalMilliseconds(spec.jitter, 'jitter') ?? 0,
    timezone: spec.timezone ?? 'UTC',
  };
  const startAt = toTime(spec.startAt, 'startAt');
  const endAt = toTime(spec.endAt, 'endAt');
  if (startAt !== undefined) compiled.startAt = startAt;
  if (endAt !== undefined) compiled.endAt = endAt;
  assertScheduleSpec(compiled);
  return compiled;
}

function checkState(state: ScheduleStateOptions = {}): ScheduleStateOptions {
  checkKeys(state, ['paused', 'note', 'remainingActions'], 'schedule state');
  const { remainingActions } = state;
  if (remainingActions !== undefined && (!Number.isInteger(remainingActions) || remainingActions < 0)) {
    throw new TypeError(`Invalid remainingActions: ${JSON.stringify(remainingActions)} (an integer >= 0)`);
  }
  if (state.note !== undefined && typeof state.note !== 'string') throw new TypeError(`Invalid note: ${JSON.stringify(state.note)}`);
  return state;
}

/** Checks a schedule's options and compiles its definition (the action's input and memo encoded). */
async function compileSchedule(client: ScheduleClient, options: ScheduleOptions): Promise<ScheduleDefinition> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Invalid schedule options: ${JSON.stringify(options)}`);
  checkKeys(options, ['action', 'spec', 'policies', 'state'], 'schedule');
  const { workflow, ...start } = options.action ?? ({} as ScheduleActionOptions);
  for (const key of ['idReusePolicy', 'idConflictPolicy', 'cronSchedule', 'startSignal', 'startSignalArgs', 'startDelay']) {
    if (key in start) throw new TypeError(`A schedule's action cannot set ${key}`);
  }
  const workflowType = typeof workflow === 'string' ? workflow : requireWorkflowDefinition(workflow).name;
  assertName('workflow type', workflowType);
  const resolved = resolveStart([start]);
  const input = await client.codecs.encode(client.payloads.toPayloads(resolved.args));
  checkPayloadSize(input, `Workflow ${workflowType} input`, client.engine.limits, client.logger);
  const memo = resolved.memo && (await encodeMemo(resolved.memo, client.payloads, client.codecs));
  const policies = options.policies ?? {};
  checkKeys(policies, ['overlap', 'catchupWindow', 'pauseOnFailure'], 'schedule policies');
  if (policies.pauseOnFailure !== undefined && typeof policies.pauseOnFailure !== 'boolean') {
    throw new TypeError(`Invalid pauseOnFailure: ${JSON.stringify(policies.pauseOnFailure)} (a boolean)`);
  }
  return {
    action: {
      workflowType,
      taskQueue: resolved.taskQueue,
      workflowId: resolved.workflowId,
      workflowTaskTimeout: resolved.taskTimeout,
      runTimeout: resolved.runTimeout,
      ...(resolved.executionTimeout ? { executionTimeout: resolved.executionTimeout } : {}),
      ...(resolved.retryPolicy ? { retryPolicy: resolved.retryPolicy } : {}),
      attributes: {
        workflowType,
        taskQueue: resolved.taskQueue,
        input,
        workflowExecutionTimeout: resolved.executionTimeout,
        workflowRunTimeout: resolved.runTimeout,
        workflowTaskTimeout: resolved.taskTimeout,
        attempt: 1,
        ...(memo ? { memo } : {}),
        ...(resolved.retryPolicy ? { retryPolicy: resolved.retryPolicy } : {}),
      },
    },
    spec: compileSpec(options.spec),
    policies: {
      overlap: checkOverlap(policies.overlap) ?? ScheduleOverlapPolicy.SKIP,
      catchupWindow: normalizeCatchupWindow(optionalMilliseconds(policies.catchupWindow, 'catchupWindow')),
      pauseOnFailure: policies.pauseOnFailure ?? false,
    },
  };
}

/**
 * Creates a schedule (`client.createSchedule`).
 * @throws ScheduleAlreadyRunning when the id is taken
 * @throws TypeError naming a bad value (cron string, time zone, interval, ...)
 */
export async function createSchedule(client: ScheduleClient, scheduleId: string, options: ScheduleOptions): Promise<ScheduleHandle> {
  assertName('schedule id', scheduleId);
  const definition = await compileSchedule(client, options);
  const state = checkState(options.state);
  const created = await client.reachRedis(async () =>
    client.engine.schedules.create(scheduleId, definition, initialScheduleState(await client.engine.schedules.now(), state)),
  );
  if (!created) throw new ScheduleAlreadyRunning(scheduleId);
  return new ScheduleHandle(client, scheduleId);
}

const action = (workflowId: string, runId: string) => ({ type: 'startWorkflow' as const, workflow: { workflowId, firstExecutionRunId: runId } });

function describeSpec(spec: CompiledScheduleSpec): ScheduleDescription['spec'] {
  return {
    cronExpressions: spec.cronExpressions,
    intervals: spec.intervals,
    jitter: spec.jitter,
    timezone: spec.timezone,
    ...(spec.startAt !== undefined ? { startAt: new Date(spec.startAt) } : {}),
    ...(spec.endAt !== undefined ? { endAt: new Date(spec.endAt) } : {}),
  };
}

/** The actions taken, those whose start is still being handed over left out until it has been. */
function recentActions(state: ScheduleState): ScheduleActionResult[] {
  const pending = new Set(state.pending.map((start) => start.runId));
  return state.recent.filter((recent) => !pending.has(recent.runId)).map((recent) => ({
    scheduledAt: new Date(recent.scheduledAt),
    takenAt: new Date(recent.takenAt),
    action: action(recent.workflowId, recent.runId),
    status: recent.status,
  }));
}

/** A schedule as listSchedules shows it. */
export function scheduleSummary(record: ScheduleRecord): ScheduleSummary {
  return {
    scheduleId: record.scheduleId,
    action: { type: 'startWorkflow', workflowType: record.definition.action.workflowType },
    spec: describeSpec(record.definition.spec),
    state: { paused: record.state.paused, note: record.state.note },
    info: { recentActions: recentActions(record.state).slice(-5), nextActionTimes: record.nextActionTimes.slice(0, 5).map((t) => new Date(t)) },
  };
}

/** A handle to a schedule by id (`client.getScheduleHandle`); nothing is read until a call. */
export class ScheduleHandle {
  constructor(
    private readonly client: ScheduleClient,
    /** The schedule's id. */
    readonly scheduleId: string,
  ) {}

  /**
   * The schedule: its options, state, the last 10 actions (with what became of their runs) and
   * the next 10 fire times.
   *
   * A finished schedule (no scheduled action left: remaining actions used up or no spec time
   * before `endAt`; nothing it started still running, nothing buffered; not paused) is kept 7
   * days of namespace time, then deleted, as Temporal closes one: describe then throws and
   * listSchedules no longer shows it. A trigger, backfill or update that gives it more to do
   * within those days keeps it; when it is finished again, its 7 days start again.
   * @throws ScheduleNotFoundError when there is no such schedule, or it was deleted
   */
  async describe(): Promise<ScheduleDescription> {
    const record = await this.client.reachRedis(() => this.client.engine.schedules.describe(this.scheduleId));
    if (!record) throw new ScheduleNotFoundError(this.scheduleId);
    const { definition, state } = record;
    const attrs = definition.action.attributes as { input?: Payload[]; memo?: Memo; workflowExecutionTimeout?: number };
    let memo: Record<string, unknown> | undefined;
    if (attrs.memo) {
      const keys = Object.keys(attrs.memo.fields ?? {});
      const decoded = await this.client.codecs.decode(keys.map((key) => attrs.memo!.fields[key]!));
      memo = decodeMemo({ fields: Object.fromEntries(keys.map((key, i) => [key, decoded[i]!])) }, this.client.payloads);
    }
    return {
      scheduleId: this.scheduleId,
      action: {
        workflow: definition.action.workflowType,
        id: definition.action.workflowId,
        taskQueue: definition.action.taskQueue,
        args: this.client.payloads.fromPayloads(await this.client.codecs.decode(attrs.input ?? [])),
        ...(attrs.workflowExecutionTimeout ? { executionTimeout: attrs.workflowExecutionTimeout } : {}),
        ...(definition.action.runTimeout ? { runTimeout: definition.action.runTimeout } : {}),
        taskTimeout: definition.action.workflowTaskTimeout,
        ...(definition.action.retryPolicy ? { retryPolicy: { ...definition.action.retryPolicy } } : {}),
        ...(memo ? { memo } : {}),
      },
      spec: describeSpec(definition.spec),
      policies: { ...definition.policies },
      state: {
        paused: state.paused,
        note: state.note,
        ...(state.limitedActions ? { remainingActions: state.remainingActions } : {}),
      },
      info: {
        recentActions: recentActions(state),
        nextActionTimes: record.nextActionTimes.map((t) => new Date(t)),
        runningActions: state.running.map((run) => action(run.workflowId, run.runId)),
        numActionsTaken: state.actionCount,
        numActionsMissedCatchupWindow: state.missedCatchupWindow,
        numActionsSkippedOverlap: state.overlapSkipped,
        numActionsBufferDropped: state.bufferDropped,
        bufferSize: state.buffer.length,
        createdAt: new Date(state.createTime),
        lastUpdatedAt: new Date(state.updateTime),
      },
    };
  }

  /** Runs one step of the schedule with a change; throws ScheduleNotFoundError when it is gone. */
  private async change(change: ScheduleChange): Promise<void> {
    const found = await this.client.reachRedis(() => this.client.engine.schedules.step(this.scheduleId, change));
    if (!found) throw new ScheduleNotFoundError(this.scheduleId);
  }

  /** Pauses the schedule: its times are skipped (not buffered, not run later) until unpaused. A paused schedule is never deleted as finished. */
  async pause(note = 'Paused via TypeScript SDK'): Promise<void> {
    await this.change(({ state }) => {
      state.paused = true;
      state.note = note;
    });
  }

  /** Unpauses the schedule; times that passed while paused are not run. */
  async unpause(note = 'Unpaused via TypeScript SDK'): Promise<void> {
    await this.change(({ state, now }) => {
      state.paused = false;
      state.note = note;
      state.processedUpTo = Math.max(state.processedUpTo, now);
    });
  }

  /** Takes one action now (also while paused; it does not count against remaining actions). */
  async trigger(overlap?: ScheduleOverlapPolicy): Promise<void> {
    const policy = checkOverlap(overlap);
    await this.change(({ state, now }) => {
      state.buffer.push({ nominal: now, scheduled: now, manual: true, ...(policy ? { overlap: policy } : {}) });
    });
  }

  /** Takes every spec time in each range now, as if it were due (catch-up window exempt). */
  async backfill(...backfills: Array<ScheduleBackfill | ScheduleBackfill[]>): Promise<void> {
    const list = backfills.flat().map((backfill) => {
      const start = toTime(backfill?.start, 'backfill start')!;
      const end = toTime(backfill?.end, 'backfill end')!;
      if (start === undefined || end === undefined || end < start) throw new TypeError(`Invalid backfill: ${JSON.stringify(backfill)} (start <= end, both Dates)`);
      return { start, end, overlap: checkOverlap(backfill.overlap) };
    });
    const schedules = this.client.engine.schedules;
    await this.change(({ definition, state }) => {
      for (const { start, end, overlap } of list) {
        for (const time of schedules.timesBetween(this.scheduleId, definition, start, end)) {
          // At most 1000 starts wait in the buffer, as Temporal bounds pending backfills.
          if (state.buffer.length >= 1000) state.bufferDropped++;
          else state.buffer.push({ ...time, manual: true, ...(overlap ? { overlap } : {}) });
        }
      }
    });
  }

  /**
   * Changes the schedule: `updateFn` gets its description and returns its new options (action,
   * spec, policies, and optionally state: without `remainingActions` it is then unlimited, with
   * it limited to that many, 0 included). Due times before the update are discarded. An update
   * that gives a finished schedule more to do keeps it from being deleted (see {@link describe}).
   */
  async update(updateFn: (previous: ScheduleDescription) => ScheduleOptions): Promise<void> {
    // A description spread back (`{ ...previous, spec }`) brings its id and info along: not options.
    const { scheduleId: _id, info: _info, ...next } = updateFn(await this.describe()) as ScheduleOptions & Partial<ScheduleDescription>;
    const definition = await compileSchedule(this.client, next);
    const state = next.state && checkState(next.state);
    await this.change(({ state: current, now }) => {
      current.processedUpTo = Math.max(current.processedUpTo, now);
      // A returned state replaces the state (describe gives remainingActions only when limited).
      if (state) {
        if (state.paused !== undefined) current.paused = state.paused;
        if (state.note !== undefined) current.note = state.note;
        current.limitedActions = state.remainingActions !== undefined;
        current.remainingActions = state.remainingActions ?? 0;
      }
      return definition;
    });
  }

  /** Deletes the schedule; the runs it started go on. */
  async delete(): Promise<void> {
    const deleted = await this.client.reachRedis(() => this.client.engine.schedules.delete(this.scheduleId));
    if (!deleted) throw new ScheduleNotFoundError(this.scheduleId);
  }
}
