// The client's options and types, and the checks that turn what a caller passes (client options,
// start options, list filters) into what the engine takes, naming any bad value.

import { WorkflowExecutionStatus, compileRetryPolicy, optionalMilliseconds } from '@durabull/common';
import type { CompiledRetryPolicy, RetryPolicy, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@durabull/common';
import type { Duration, PayloadCodec, PayloadConverter } from '@durabull/common';
import { assertName, assertRetention, compileCron, resolveDurability, resolveIdPolicies } from '@durabull/engine';
import type { CompiledCron, Durability, DurabilityOption, NamespaceLimits, RedisConnectionOption, RunFilter, RunSummary } from '@durabull/engine';
import { messageName } from '../definitions/workflow';
import { checkInterceptors } from '../interceptors';
import type { ClientInterceptor } from '../interceptors';
import type { Logger } from '../logger';

/** Options of {@link Client.connect}. */
export interface ClientOptions {
  /**
   * Redis to use: a URL, ioredis options, an ioredis `Redis` or `Cluster` instance (never closed
   * by the client), or `{ cluster: nodes, options? }`. @default process.env.REDIS_URL, else
   * 'redis://127.0.0.1:6379'
   */
  redis?: RedisConnectionOption;
  /**
   * Namespace: runs, queues and keys of different namespaces never meet.
   * @default process.env.DURABULL_NAMESPACE, else 'default'
   */
  namespace?: string;
  /**
   * Whether connecting creates the namespace when no client or worker has opened it yet (which
   * fixes its shard count and limits). With `false` the client writes nothing to connect: a
   * namespace that does not exist fails with `NamespaceNotFoundError` naming it, and `shards`,
   * `limits` and `retention` may not be given. Tools that only look (the CLI's read-only commands,
   * the web UI) connect this way. @default true
   */
  createNamespace?: boolean;
  /** Prefix of every Redis key Durabull writes. @default 'durabull' */
  prefix?: string;
  /** Shards a new namespace spreads its runs over (fixed when the namespace is first used). @default 16 */
  shards?: number;
  /** Identity recorded in history for this client's requests. @default `<pid>@<hostname>` */
  identity?: string;
  /**
   * How values become payloads in Redis and back. Workers use their client's. Every client and
   * worker of a namespace needs the same converter and codecs.
   */
  dataConverter?: DataConverter;
  /**
   * Limits of a namespace this client creates (fixed when a namespace is first used; an existing
   * namespace keeps its own). @default Temporal's: 2 MiB payloads (warning at 256 KiB),
   * 51,200 history events or 50 MiB (warning at 10,240 events)
   */
  limits?: Partial<NamespaceLimits>;
  /**
   * Where the client logs (large payload warnings): any object with `debug`, `info`, `warn` and
   * `error(message, attributes)`. Workers take their own `logger` option.
   * @default a ConsoleLogger at level `DURABULL_LOG_LEVEL` (warn)
   */
  logger?: Logger;
  /**
   * Hooks around starting workflows, such as `@durabull/opentelemetry`'s (they may add headers to
   * the start). The first wraps the others. @default none
   */
  interceptors?: ClientInterceptor[];
  /**
   * How long the namespace keeps closed runs: a run's history, state and index entries are deleted
   * this long after it closes (from 1 second to 3650 days). Setting it changes the retention of
   * the whole namespace, for every client and worker, from the runs that close afterwards on.
   * @default the namespace's current retention; 72 h (Temporal CLI's default) for a new namespace
   */
  retention?: Duration;
  /**
   * Replica-acknowledged transitions. Redis replicates asynchronously, so by default a
   * transition (a start, a completed task, a cancellation...) counts as done once the primary has
   * run it, and a failover in the next moment can lose it. With `{ replicas: n }`, every
   * transition this client (and every worker built on it) runs is followed by Redis
   * `WAIT n timeout` on the same connection: its tasks are dispatched, and the call resolves, only
   * once `n` replicas hold it; after `timeout` (default 1 s) the call fails with
   * `ReplicationTimeoutError` instead. That error does not undo the transition: it stands on the
   * primary and goes on (the outbox sweep dispatches its tasks) unless a failover loses it.
   *
   * What it guarantees: a transition acknowledged to you (a resolved `startWorkflow`, a recorded
   * result) survives the failure of the primary as long as the replica promoted in its place is
   * one of those that confirmed it (Redis elects the most up-to-date replica). What it does not:
   * writes are still not fsynced (configure `appendonly` for that), and BullMQ jobs are not
   * waited for (a lost job is re-created from the outbox). What it costs: a replica round trip
   * per transition, during which the connection serves nothing else (WAIT blocks it), so
   * sequential latency and throughput drop (see BENCHMARKS.md). `{ replicas: 0 }` is off.
   * @default none: acknowledged by the primary alone
   */
  durability?: DurabilityOption;
  /**
   * How long `handle.query()` waits for a worker's answer before it rejects with
   * `WorkflowQueryFailedError` (reason `TIMEOUT`). It covers the wait for a workflow task of the
   * run that is in flight (a query is answered once that task completed) and, while no worker of
   * the run's task queue runs, the wait for one. @default 10 s
   */
  queryTimeout?: Duration;
}

/** How values become payloads in Redis and back. */
export interface DataConverter {
  /** Values to payloads and back. @default JSON, with class instances restored from declared types */
  payloadConverter?: PayloadConverter;
  /**
   * Codecs applied, in order, to every payload on its way into Redis (and in reverse on the way
   * back): workflow and activity inputs and results, failures, details. For example
   * `[new AesGcmEncryptionCodec({ keys, encryptWith })]` encrypts them at rest.
   * @default none
   */
  payloadCodecs?: PayloadCodec[];
}

const CLIENT_OPTIONS = new Set([
  'redis',
  'namespace',
  'createNamespace',
  'prefix',
  'shards',
  'identity',
  'dataConverter',
  'limits',
  'logger',
  'interceptors',
  'durability',
  'retention',
  'queryTimeout',
]);

/** The default of the client option `queryTimeout` (ms). */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** Checks a client's options; returns those the client resolves before it connects. */
export function checkClientOptions(
  options: ClientOptions,
): { durability: Durability | undefined; retention: number | undefined; queryTimeout: number } {
  const unknown = Object.keys(options).filter((key) => !CLIENT_OPTIONS.has(key));
  if (unknown.length > 0) throw new TypeError(`Unknown client option(s): ${unknown.join(', ')}`);
  checkInterceptors('interceptors', options.interceptors, ['startWorkflow', 'signalWorkflow']);
  const durability = resolveDurability(options.durability);
  const retention = optionalMilliseconds(options.retention, 'retention');
  if (retention !== undefined) assertRetention(retention, options.retention);
  const queryTimeout = optionalMilliseconds(options.queryTimeout, 'queryTimeout') ?? DEFAULT_QUERY_TIMEOUT_MS;
  if (queryTimeout <= 0) throw new TypeError(`Invalid queryTimeout: ${JSON.stringify(options.queryTimeout)} (a duration above 0)`);
  return { durability, retention, queryTimeout };
}

/** Options of {@link Client.startWorkflow}. */
export interface StartWorkflowOptions {
  /** Workflow id: unique among running workflows of the namespace. */
  id: string;
  /** Task queue whose workers run the workflow. */
  taskQueue: string;
  /**
   * Maximum time of the whole execution: every run of its chain (continue-as-new, retries, cron
   * runs) ends there. @default unlimited
   */
  executionTimeout?: Duration;
  /** Maximum time of one run of the chain. @default executionTimeout */
  runTimeout?: Duration;
  /**
   * Maximum time of one workflow task, after which it is retried (a worker died, or the code
   * blocked the event loop). Capped at 120 s. @default 10 s
   */
  taskTimeout?: Duration;
  /**
   * What to do when the id's latest run has closed: start again (`ALLOW_DUPLICATE`), only if it
   * did not complete successfully (`ALLOW_DUPLICATE_FAILED_ONLY`), or never (`REJECT_DUPLICATE`)
   * while that run is kept. A refused start throws `WorkflowAlreadyStartedError`. A deleted run
   * (`handle.delete()`, retention) no longer holds its id.
   * @default WorkflowIdReusePolicy.ALLOW_DUPLICATE
   */
  idReusePolicy?: WorkflowIdReusePolicy;
  /**
   * What to do when a run with this id is running: refuse with `WorkflowAlreadyStartedError`
   * (`FAIL`), return that run's handle (`USE_EXISTING`), or terminate it and start the new run in
   * the same atomic step (`TERMINATE_EXISTING`). `REJECT_DUPLICATE` with `TERMINATE_EXISTING` is
   * refused (`TypeError`).
   * @default WorkflowIdConflictPolicy.FAIL (`USE_EXISTING` with a `startSignal`)
   */
  idConflictPolicy?: WorkflowIdConflictPolicy;
  /**
   * Values kept with the run, not searchable: stored (through the payload converter and codecs)
   * in `WorkflowExecutionStarted`'s `memo` as `{ fields: { <key>: payload } }`, and returned by
   * `describe().memo`. @default none
   */
  memo?: Record<string, unknown>;
  /**
   * Signal-with-start: the signal to send with the start, a `@WorkflowSignal` method
   * (`Cart.prototype.addItem`) or a signal name. A run of this workflow id that is running is
   * signalled instead of started (never failed or terminated; the handle returned is that run's);
   * otherwise a new run starts with the signal as its second event, before its first workflow
   * task. @default none (a plain start)
   */
  startSignal?: string | ((...args: any[]) => unknown);
  /** The start signal's arguments (only with `startSignal`). @default [] */
  startSignalArgs?: unknown[];
  /**
   * Time before the run's first workflow task: the run exists (its id is taken, it can be
   * signalled, its `WorkflowExecutionStarted` names the wait as `firstWorkflowTaskBackoff`) but
   * its code starts only then. Signals sent meanwhile wait for it; a signal-with-start
   * (`startSignal`) to a run still waiting ends the wait, as in Temporal. Not with `cronSchedule`.
   * @default none
   */
  startDelay?: Duration;
  /**
   * The workflow's own retry policy (Temporal's workflow retry; workflows have none by default): a
   * run that fails (a `DurabullError` escaped it) or times out is closed with
   * `WorkflowExecutionFailed` / `WorkflowExecutionTimedOut` whose `retryState` is `IN_PROGRESS` and
   * whose `newExecutionRunId` names the next attempt, a new run of the same workflow id (attempt
   * + 1, `initiator` RETRY, `continuedFailure` the failure) that starts after the policy's backoff.
   * `nonRetryableErrorTypes`, a non-retryable `ApplicationError`, `maximumAttempts` and the
   * `executionTimeout` end the retries (`retryState` says which). `handle.result()` waits for the
   * last attempt. Fields as an activity's `retryPolicy`. @default none: a failed run stays failed
   */
  retryPolicy?: RetryPolicy;
  /**
   * Runs the workflow on a cron schedule (Temporal's workflow cron, UTC): the first run's code
   * starts at the schedule's next time, and each run that closes (completed, failed or timed
   * out) is followed by the next run at the next time after it (`initiator` CRON_SCHEDULE,
   * `lastCompletionResult` the last completed run's result), until the workflow is terminated or
   * cancelled. A standard 5-field expression (minute hour day-of-month month day-of-week, with
   * `*`, `,`, `-`, `/` and JAN-DEC / SUN-SAT names), `@yearly`, `@monthly`, `@weekly`,
   * `@daily`, `@hourly`, or `@every <duration>` (`@every 90s`). A bad expression throws
   * `TypeError` naming it. For new code prefer schedules (`client.createSchedule`). @default none
   */
  cronSchedule?: string;
}

/** {@link StartWorkflowOptions} with the workflow's arguments, for the two-argument form. */
export interface StartWorkflowOptionsWithArgs<A extends unknown[] = unknown[]> extends StartWorkflowOptions {
  /** The workflow's arguments (zero or several). */
  args?: A;
}

/** What {@link WorkflowHandle.describe} returns. */
export interface WorkflowExecutionDescription {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: WorkflowExecutionStatus;
  taskQueue: string;
  startTime: Date;
  closeTime?: Date;
  historyLength: number;
}


const START_OPTIONS = new Set(['id', 'taskQueue', 'executionTimeout', 'runTimeout', 'taskTimeout', 'args', 'idReusePolicy', 'idConflictPolicy', 'memo', 'startSignal', 'startSignalArgs', 'startDelay', 'retryPolicy', 'cronSchedule']);
const MAX_TASK_TIMEOUT = 120_000;

/** A start request, checked: the workflow's arguments and its options with defaults applied (ms). */
export interface ResolvedStart {
  args: unknown[];
  workflowId: string;
  taskQueue: string;
  executionTimeout: number;
  /** The run timeout in effect: the shorter of `runTimeout` and `executionTimeout`; 0 is unlimited. */
  runTimeout: number;
  taskTimeout: number;
  /** The id policies, defaults applied. */
  idReusePolicy: WorkflowIdReusePolicy;
  idConflictPolicy: WorkflowIdConflictPolicy;
  /** The memo's values by key, when one was given. */
  memo: Record<string, unknown> | undefined;
  /** Signal-with-start: the start signal's name and arguments; undefined for a plain start. */
  startSignal: { name: string; args: unknown[] } | undefined;
  /** ms before the first workflow task, 0 for none. */
  startDelay: number;
  /** The workflow's retry policy, defaults applied. */
  retryPolicy: CompiledRetryPolicy | undefined;
  /** The cron schedule as given and compiled. */
  cron: { schedule: string; compiled: CompiledCron } | undefined;
}

/**
 * Checks the arguments of `startWorkflow` / `executeWorkflow` after the workflow (`arg, options`
 * or `options` with `args`), throwing on bad input before anything is sent.
 */
export function resolveStart(rest: unknown[]): ResolvedStart {
  const [args, options] = splitArgs(rest);
  const workflowId = options.id;
  if (typeof workflowId !== 'string' || workflowId.length === 0 || workflowId.length > 1000) {
    throw new TypeError(`Invalid workflow id: ${JSON.stringify(workflowId)} (a non-empty string of at most 1000 characters)`);
  }
  assertName('taskQueue', options.taskQueue);
  const executionTimeout = optionalMilliseconds(options.executionTimeout, 'executionTimeout') ?? 0;
  const runTimeout = optionalMilliseconds(options.runTimeout, 'runTimeout') ?? executionTimeout;
  const effectiveRunTimeout = executionTimeout > 0 && (runTimeout === 0 || executionTimeout < runTimeout) ? executionTimeout : runTimeout;
  let taskTimeout = optionalMilliseconds(options.taskTimeout, 'taskTimeout') ?? 10_000;
  if (taskTimeout === 0) throw new TypeError('Invalid taskTimeout: 0 (a workflow task needs time to run)');
  taskTimeout = Math.min(taskTimeout, MAX_TASK_TIMEOUT, effectiveRunTimeout || MAX_TASK_TIMEOUT);
  const policies = resolveIdPolicies(options.idReusePolicy, options.idConflictPolicy, {
    signalWithStart: options.startSignal !== undefined,
  });
  const memo = options.memo;
  if (memo !== undefined && (typeof memo !== 'object' || memo === null || Array.isArray(memo))) {
    throw new TypeError(`Invalid memo: ${JSON.stringify(memo)} (an object of values by key)`);
  }
  const startDelay = optionalMilliseconds(options.startDelay, 'startDelay') ?? 0;
  const retryPolicy = options.retryPolicy === undefined ? undefined : compileRetryPolicy(options.retryPolicy);
  const cron = options.cronSchedule === undefined ? undefined : { schedule: options.cronSchedule.trim(), compiled: compileCron(options.cronSchedule) };
  if (cron && startDelay > 0) throw new TypeError('CronSchedule and WorkflowStartDelay may not be used together.');
  return {
    args,
    workflowId,
    taskQueue: options.taskQueue,
    executionTimeout,
    runTimeout: effectiveRunTimeout,
    taskTimeout,
    ...policies,
    memo,
    startSignal: resolveStartSignal(options),
    startDelay,
    retryPolicy,
    cron,
  };
}

/** The start signal of a signal-with-start, checked; undefined for a plain start. */
function resolveStartSignal(options: StartWorkflowOptions): { name: string; args: unknown[] } | undefined {
  if (options.startSignal === undefined) {
    if (options.startSignalArgs !== undefined) throw new TypeError('startSignalArgs needs startSignal (the signal to send with the start)');
    return undefined;
  }
  const args = options.startSignalArgs ?? [];
  if (!Array.isArray(args)) throw new TypeError(`startSignalArgs must be an array, got ${JSON.stringify(args)}`);
  return { name: messageName('signal', options.startSignal), args };
}

function splitArgs(rest: unknown[]): [unknown[], StartWorkflowOptionsWithArgs] {
  const options = (rest.length >= 2 ? rest[1] : rest[0]) as StartWorkflowOptionsWithArgs;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Workflow start options must be an object, got ${JSON.stringify(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !START_OPTIONS.has(key));
  if (unknown.length > 0) throw new TypeError(`Unknown workflow start option(s): ${unknown.join(', ')}`);
  if (rest.length >= 2) {
    if (options.args !== undefined) throw new TypeError('Cannot pass both an argument and options.args to a workflow');
    return [[rest[0]], options];
  }
  const args = options.args ?? [];
  if (!Array.isArray(args)) throw new TypeError(`options.args must be an array, got ${JSON.stringify(args)}`);
  return [args, options];
}

/** Which executions {@link Client.listWorkflows} and {@link Client.countWorkflows} select. */
export interface WorkflowListFilter {
  status?: WorkflowExecutionStatus;
  workflowType?: string;
  taskQueue?: string;
  /** Started at or after this time. */
  startedAfter?: Date;
  /** Started before this time. */
  startedBefore?: Date;
}

/** Checks a list filter and turns it into the engine's. */
export function toRunFilter(filter: WorkflowListFilter): RunFilter {
  const known = new Set(['status', 'workflowType', 'taskQueue', 'startedAfter', 'startedBefore']);
  const unknown = Object.keys(filter).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new TypeError(`Unknown workflow list filter(s): ${unknown.join(', ')}`);
  if (filter.status !== undefined && !Object.values(WorkflowExecutionStatus).includes(filter.status)) {
    throw new TypeError(
      `Invalid status: ${JSON.stringify(filter.status)} (one of ${Object.values(WorkflowExecutionStatus).join(', ')})`,
    );
  }
  const time = (name: string, value: Date | undefined) => {
    if (value === undefined) return undefined;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`Invalid ${name}: ${JSON.stringify(value)} (a Date)`);
    return value.getTime();
  };
  return {
    status: filter.status,
    workflowType: filter.workflowType,
    taskQueue: filter.taskQueue,
    startedAfter: time('startedAfter', filter.startedAfter),
    startedBefore: time('startedBefore', filter.startedBefore),
  };
}

/** A run as `WorkflowHandle.describe` and the listings report it. */
export function describeRun(run: RunSummary): WorkflowExecutionDescription {
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    workflowType: run.workflowType,
    status: run.status as WorkflowExecutionStatus,
    taskQueue: run.taskQueue,
    startTime: new Date(run.startTime),
    closeTime: run.closeTime === undefined ? undefined : new Date(run.closeTime),
    historyLength: run.historyLength,
  };
}
