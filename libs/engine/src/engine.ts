import type { Cluster, Redis } from 'ioredis';
import type { EventType, Failure, HistoryEvent, Payload } from '@durabull/common';
import { crashPoint } from './crash-points';
import { Dispatcher } from './dispatcher';
import { NamespaceKeys, runKeyList } from './keys';
import type { RunKeys } from './keys';
import { ReplyCode, ScriptRunner, parseRunReply } from './scripts';
import type { RunReply, ScriptMode } from './scripts';
import { Visibility } from './visibility';
import type { RunSummary } from './visibility';

/** Settings of a namespace, fixed when its first client connects. */
export interface NamespaceOptions {
  /** Namespace name: letters, digits, `.`, `_` and `-`. */
  namespace: string;
  /** Prefix of every key. @default 'durabull' */
  prefix?: string;
  /** Shards a new namespace spreads its runs over (ignored when the namespace exists). @default 16 */
  shards?: number;
  /** Limits of a new namespace (ignored when the namespace exists). @default Temporal's */
  limits?: Partial<NamespaceLimits>;
  /**
   * How the Lua transitions run: `functions` (a Redis Functions library, Redis 7+) or `eval`
   * (EVALSHA). @default functions where Redis has them, else eval
   */
  scriptMode?: ScriptMode;
}

/**
 * Size limits of a namespace, as Temporal's server defaults them (TEMPORAL-SEMANTICS §4.4).
 * Fixed when the namespace is first used; every client and worker of it reads them.
 */
export interface NamespaceLimits {
  /** A run whose history reaches this many events is terminated. @default 51200 */
  historyEvents: number;
  /** A run whose history reaches this many bytes is terminated. @default 50 MiB */
  historyBytes: number;
  /** Workers warn when a run's history reaches this many events. @default 10240 */
  historyEventsWarning: number;
  /** A payload larger than this is refused, naming its workflow or activity. @default 2 MiB */
  payloadBytes: number;
  /** Workers and clients warn about a payload larger than this. @default 256 KiB */
  payloadBytesWarning: number;
}

export const DEFAULT_NAMESPACE_LIMITS: Readonly<NamespaceLimits> = Object.freeze({
  historyEvents: 51_200,
  historyBytes: 50 * 1024 * 1024,
  historyEventsWarning: 10_240,
  payloadBytes: 2 * 1024 * 1024,
  payloadBytesWarning: 256 * 1024,
});

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Checks a namespace, prefix or task queue name: it becomes part of Redis keys and hash tags. */
export function assertName(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new TypeError(
      `Invalid ${what}: ${JSON.stringify(value)} (1-100 characters: letters, digits, '.', '_' or '-', starting with a letter or digit)`,
    );
  }
}

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
  /** How late a task or deadline may be before the sweep re-dispatches it (ms). */
  graceMs: number;
  /** Most tasks re-dispatched per shard and sweep. */
  limit?: number;
}

/**
 * The engine of one namespace: every state transition of a run is one fenced Lua script
 * (`./lua`), after which the tasks it committed are dispatched to BullMQ. Clients and workers
 * share it; it holds no state of its own besides connections.
 */
export class Engine {
  readonly dispatcher: Dispatcher;
  /** Listing and counting runs. */
  readonly visibility: Visibility;
  private readonly scripts: ScriptRunner;

  private constructor(
    readonly redis: Redis | Cluster,
    readonly keys: NamespaceKeys,
    /** The namespace's limits. */
    readonly limits: Readonly<NamespaceLimits>,
    scriptMode: ScriptMode | undefined,
  ) {
    this.scripts = new ScriptRunner(redis, scriptMode);
    this.dispatcher = new Dispatcher(keys, redis);
    this.visibility = new Visibility(redis, keys);
  }

  /** Opens a namespace on a connection, creating its settings on first use. */
  static async open(redis: Redis | Cluster, options: NamespaceOptions): Promise<Engine> {
    const prefix = options.prefix ?? 'durabull';
    assertName('namespace', options.namespace);
    assertName('prefix', prefix);
    const requested = options.shards ?? 16;
    if (!Number.isInteger(requested) || requested < 1 || requested > 1024) {
      throw new TypeError(`Invalid shards: ${JSON.stringify(options.shards)} (an integer from 1 to 1024)`);
    }
    const requestedLimits = { ...DEFAULT_NAMESPACE_LIMITS, ...options.limits };
    for (const [name, value] of Object.entries(requestedLimits)) {
      if (!Number.isInteger(value) || value < 0) throw new TypeError(`Invalid limits.${name}: ${JSON.stringify(value)} (an integer >= 0)`);
    }
    const probe = new NamespaceKeys(prefix, options.namespace, requested);
    // The first client of a namespace fixes its settings; later ones read them.
    const settings: Record<string, number> = { shards: requested, ...requestedLimits };
    await Promise.all(Object.entries(settings).map(([field, value]) => redis.hsetnx(probe.meta, field, value)));
    const stored = await redis.hmget(probe.meta, ...Object.keys(settings));
    const values = Object.fromEntries(Object.keys(settings).map((field, i) => [field, Number(stored[i])]));
    const limits = Object.fromEntries(Object.keys(requestedLimits).map((field) => [field, values[field]!])) as unknown as NamespaceLimits;
    return new Engine(redis, new NamespaceKeys(prefix, options.namespace, values['shards']!), Object.freeze(limits), options.scriptMode);
  }

  get namespace(): string {
    return this.keys.namespace;
  }

  // ---------------------------------------------------------------------------------------------
  // Transitions
  // ---------------------------------------------------------------------------------------------

  /** Starts a run; resolves to the id of the already running run when the workflow id is taken. */
  async startWorkflow(request: StartWorkflowRequest): Promise<{ started: true } | { started: false; runningRunId: string }> {
    const shard = this.keys.shard(this.keys.shardOf(request.workflowId));
    const indexes = [shard.allRuns, shard.runsOfType(request.workflowType), shard.runsOfTaskQueue(request.taskQueue)];
    const reply = await this.transition('startWorkflow', request, [
      request.workflowId,
      request.workflowType,
      request.taskQueue,
      JSON.stringify(request.attributes),
      request.workflowTaskTimeout,
      request.runTimeout,
      this.limits.historyEvents,
      this.limits.historyBytes,
    ], indexes);
    if (reply.code === ReplyCode.AlreadyStarted) return { started: false, runningRunId: String(reply.extra[0]) };
    return { started: true };
  }

  /** Takes a workflow task; undefined when the task is stale (a duplicate job, or the run moved on). */
  async startWorkflowTask(
    ref: RunRef & { token: string; queue: string },
    identity: string,
    seenEventId: number,
  ): Promise<WorkflowTaskStart | undefined> {
    const reply = await this.transition('startWorkflowTask', ref, [ref.token, ref.queue, identity, seenEventId]);
    if (reply.code !== ReplyCode.Ok) return undefined;
    const [attempt, startedEventId, entries, scheduledTime] = reply.extra as [string, string, StreamEntry[], string];
    return {
      attempt: Number(attempt),
      startedEventId: Number(startedEventId),
      now: reply.now,
      scheduledTime: Number(scheduledTime) || reply.now,
      events: entries.map(historyEventFromStreamEntry),
    };
  }

  /**
   * Commits a workflow task's commands. Activities whose `meta.eager` is set start at once on
   * `workerId` (no job): their states come back in `startedActivities`.
   */
  async completeWorkflowTask(
    ref: RunRef & { token: string },
    options: { identity: string; workerId: string; stickyTimeout: number; fence: number; commands: CommandRecord[] },
  ): Promise<{ code: ReplyCode; now: number; startedActivities: Array<{ scheduledEventId: number; activity: ActivityState }> }> {
    const args: Array<string | number> = [
      ref.token,
      options.identity,
      options.workerId,
      options.stickyTimeout,
      options.fence,
      options.commands.length,
    ];
    for (const command of options.commands) {
      args.push(command.eventType, JSON.stringify(command.attributes), JSON.stringify(command.meta));
    }
    const reply = await this.transition('completeWorkflowTask', ref, args);
    const started = (reply.extra[1] as string[] | undefined) ?? [];
    const startedActivities: Array<{ scheduledEventId: number; activity: ActivityState }> = [];
    for (let i = 0; i < started.length; i += 2) {
      startedActivities.push({ scheduledEventId: Number(started[i]), activity: parseActivityState(started[i + 1]!) });
    }
    return { code: reply.code, now: reply.now, startedActivities };
  }

  async failWorkflowTask(ref: RunRef & { token: string }, identity: string, cause: string, failure: Failure): Promise<ReplyCode> {
    return (await this.transition('failWorkflowTask', ref, [ref.token, identity, cause, JSON.stringify(failure)])).code;
  }

  /**
   * Takes an activity attempt. Undefined when it must not run (stale, closed run); `{ early }`
   * with the ms left when its delayed job was promoted before its time.
   */
  async startActivityTask(
    ref: RunRef & { scheduledEventId: number; attempt: number; taskQueue: string },
    identity: string,
    workerId: string,
  ): Promise<ActivityTaskStart | { early: number } | undefined> {
    const reply = await this.transition('startActivityTask', ref, [
      ref.scheduledEventId,
      ref.attempt,
      ref.taskQueue,
      identity,
      workerId,
    ]);
    if (reply.code === ReplyCode.Early) return { early: Number(reply.extra[0]) };
    if (reply.code !== ReplyCode.Ok) return undefined;
    const [state, scheduled, workflowType] = reply.extra as [string, string, string];
    return { now: reply.now, activity: parseActivityState(state), scheduled: JSON.parse(scheduled), workflowType };
  }

  /**
   * Reports an attempt's outcome; `recorded` is false when the attempt was no longer current
   * (discarded). With `eager`, when the run's next workflow task would go to this worker's sticky
   * queue, the worker takes it at once: it comes back as `workflowTask`.
   */
  async completeActivityTask(
    ref: RunRef & { scheduledEventId: number; attempt: number },
    workerId: string,
    outcome: ActivityOutcome,
    heartbeatDetails?: Payload[],
    eager?: { identity: string; seenEventId: number },
  ): Promise<{ recorded: boolean; workflowTask?: WorkflowTaskStart & { token: string } }> {
    const body =
      outcome.kind === 'completed' ? outcome.result : outcome.kind === 'failed' ? outcome.failure : outcome.details;
    const facts = outcome.kind === 'failed' ? outcome.facts : {};
    const reply = await this.transition('completeActivityTask', ref, [
      ref.scheduledEventId,
      ref.attempt,
      workerId,
      outcome.kind,
      JSON.stringify(body),
      JSON.stringify(facts),
      heartbeatDetails ? JSON.stringify(heartbeatDetails) : '',
      eager?.identity ?? '',
      eager?.seenEventId ?? 0,
    ]);
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
      },
    };
  }

  /** Records a heartbeat; undefined when the attempt is no longer current (it should stop). */
  async recordHeartbeat(
    ref: RunRef & { scheduledEventId: number; attempt: number },
    workerId: string,
    details: Payload[],
  ): Promise<{ cancelRequested: boolean } | undefined> {
    const reply = await this.transition('recordHeartbeat', ref, [
      ref.scheduledEventId,
      ref.attempt,
      workerId,
      JSON.stringify(details),
    ]);
    if (reply.code !== ReplyCode.Ok) return undefined;
    return { cancelRequested: Number(reply.extra[0]) === 1 };
  }

  /** Routes a run's workflow tasks away from a worker that is shutting down. */
  async releaseSticky(ref: RunRef, workerId: string): Promise<void> {
    await this.transition('releaseSticky', ref, [workerId]);
  }

  async requestCancelWorkflow(ref: RunRef, reason: string, identity: string): Promise<ReplyCode> {
    return (await this.transition('requestCancelWorkflow', ref, [reason, identity])).code;
  }

  async terminateWorkflow(ref: RunRef, reason: string, details: Payload[], identity: string): Promise<ReplyCode> {
    return (await this.transition('terminateWorkflow', ref, [reason, JSON.stringify(details), identity])).code;
  }

  /**
   * Fires a shard's due deadlines (a wake-up job, or a sweep when `wakeAt` is undefined).
   * Returns the ms left when the wake-up came before its time.
   */
  async fireDueDeadlines(shard: number, wakeAt?: number): Promise<{ early?: number }> {
    const keys = this.keys.shard(shard);
    for (;;) {
      const [code, , rest] = (await this.scripts.call('dueDeadlines', [keys.deadlines, keys.wakes, keys.outbox], [
        wakeAt === undefined ? '' : wakeAt,
        200,
      ])) as [number, number, string[] | number];
      if (code === ReplyCode.Early) return { early: Number(rest) };
      const members = rest as string[];
      await Promise.all(members.map((member) => this.fireDeadline(member)));
      if (members.length < 200) return {};
      wakeAt = undefined;
    }
  }

  private async fireDeadline(member: string): Promise<void> {
    const [, , , runId, ...rest] = member.split('|');
    await this.transition('fireDeadline', { runId: runId!, workflowId: rest.join('|') }, [member]);
  }

  /** Re-dispatches what crashed processes left behind, on every shard. */
  async sweep(options: SweepOptions): Promise<void> {
    for (let shard = 0; shard < this.keys.shardCount; shard++) {
      const keys = this.keys.shard(shard);
      const [now, members, overdue] = (await this.scripts.call('sweepShard', [keys.outbox, keys.deadlines], [
        options.graceMs,
        options.limit ?? 500,
      ])) as [number, string[], number];
      await this.dispatcher.dispatch(
        shard,
        members.map((member) => ({ member, due: 0 })),
        Number(now),
      );
      if (overdue === 1) await this.fireDueDeadlines(shard);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------------------------

  async currentRunId(workflowId: string): Promise<string | undefined> {
    const keys = this.keys.run(workflowId, '');
    return (await this.redis.hget(keys.workflowId, 'run')) ?? undefined;
  }

  /** History of a run, from `afterEventId + 1` on. */
  async readHistory(ref: RunRef, afterEventId = 0): Promise<HistoryEvent[]> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    const entries = (await this.redis.xrange(keys.history, `${afterEventId + 1}-0`, '+')) as StreamEntry[];
    return entries.map(historyEventFromStreamEntry);
  }

  /** The last event of a run's history (its close event, once closed). */
  async lastEvent(ref: RunRef): Promise<HistoryEvent | undefined> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    const [entry] = (await this.redis.xrevrange(keys.history, '+', '-', 'COUNT', 1)) as StreamEntry[];
    return entry && historyEventFromStreamEntry(entry);
  }

  async describeRun(ref: RunRef): Promise<RunDescription | undefined> {
    const keys = this.keys.run(ref.workflowId, ref.runId);
    const [status, workflowType, taskQueue, start, close, last] = await this.redis.hmget(
      keys.state,
      'status',
      'type',
      'tq',
      'start',
      'close',
      'last',
    );
    if (!status) return undefined;
    return {
      ...ref,
      workflowType: workflowType!,
      taskQueue: taskQueue!,
      status,
      startTime: Number(start),
      closeTime: close ? Number(close) : undefined,
      historyLength: Number(last),
    };
  }

  /**
   * Deletes every key of the namespace (runs, histories, queues). For tests and tools: running
   * workers of the namespace must be stopped first.
   */
  async purge(): Promise<number> {
    const nodes = 'nodes' in this.redis ? this.redis.nodes('master') : [this.redis];
    let deleted = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', this.keys.pattern, 'COUNT', 1000);
        cursor = next;
        // One key per DEL: keys of a batch may live in different slots of a cluster.
        for (const key of keys) deleted += await node.del(key);
      } while (cursor !== '0');
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  // ---------------------------------------------------------------------------------------------

  /** Runs a run script, then dispatches and withdraws what it committed. */
  private async transition(script: string, ref: RunRef, args: Array<string | number>, extraKeys: string[] = []): Promise<RunReply> {
    const keys: RunKeys = this.keys.run(ref.workflowId, ref.runId);
    const reply = parseRunReply(
      await this.scripts.call(script, [...runKeyList(keys), ...extraKeys], [ref.runId, this.keys.channelPrefix, ...args]),
    );
    crashPoint(`afterCommit:${script}`);
    if (reply.dispatch.length > 0) await this.dispatcher.dispatch(keys.shard, reply.dispatch, reply.now);
    if (reply.withdraw.length > 0) await this.dispatcher.withdraw(keys.shard, reply.withdraw);
    return reply;
  }
}

/** An entry of a history stream, as XRANGE/XREAD return it. */
export type StreamEntry = [id: string, fields: string[]];

/** A history stream entry (id `<eventId>-0`, fields t, ts, a) as a HistoryEvent. */
export function historyEventFromStreamEntry([id, fields]: StreamEntry): HistoryEvent {
  const values: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) values[fields[i]!] = fields[i + 1]!;
  return {
    eventId: Number(id.slice(0, id.indexOf('-'))),
    eventTime: new Date(Number(values['ts'])).toISOString(),
    eventType: values['t'] as EventType,
    attributes: JSON.parse(values['a'] ?? '{}'),
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

function parseActivityState(json: string): ActivityState {
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
