import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  CancelledError,
  CodecChain,
  DEFAULT_FAILURE_CONVERTER,
  DEFAULT_PAYLOAD_CONVERTER,
  EventType,
  FailureConverter,
  TerminatedError,
  TimeoutError,
  TimeoutType,
  WORKFLOW_CLOSE_EVENT_TYPES,
  WorkflowAlreadyStartedError,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowNotFoundError,
  optionalMilliseconds,
  validateValue,
} from '@durabull/common';
import type { Duration, Failure, HistoryEvent, Payload, PayloadCodec, PayloadConverter } from '@durabull/common';
import { Engine, RedisConnection, ReplyCode, assertName, historyEventFromStreamEntry } from '@durabull/engine';
import type { NamespaceLimits, RedisConnectionOption, RunFilter, RunRef, RunSummary, StreamEntry } from '@durabull/engine';
import { checkInterceptors, composeInterceptors, headerAttribute } from '../interceptors';
import type { ClientInterceptor, WorkflowStartInput } from '../interceptors';
import { ConsoleLogger } from '../logger';
import type { Logger } from '../logger';
import { checkPayloadSize } from '../payload-limits';
import type { Cluster, Redis } from 'ioredis';
import { requireWorkflowDefinition } from '../definitions/workflow';
import { ClosedRunWatcher } from './closed-run-watcher';
import type { RunWatch } from './closed-run-watcher';

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

/** Options of {@link Client.startWorkflow}. */
export interface StartWorkflowOptions {
  /** Workflow id: unique among running workflows of the namespace. */
  id: string;
  /** Task queue whose workers run the workflow. */
  taskQueue: string;
  /** Maximum time of the whole execution. @default unlimited */
  executionTimeout?: Duration;
  /** Maximum time of one run (runs are not retried, so the same as executionTimeout). @default unlimited */
  runTimeout?: Duration;
  /**
   * Maximum time of one workflow task, after which it is retried (a worker died, or the code
   * blocked the event loop). Capped at 120 s. @default 10 s
   */
  taskTimeout?: Duration;
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

type WorkflowClass = new () => object;
type RunMethodOf<C> = C extends new () => infer I ? { [K in keyof I]: I[K] extends (...args: any[]) => any ? I[K] : never }[keyof I] : never;
type WorkflowArgs<C> = RunMethodOf<C> extends (...args: infer A) => any ? A : unknown[];
type WorkflowResult<C> = RunMethodOf<C> extends (...args: any[]) => infer R ? Awaited<R> : unknown;

const START_OPTIONS = new Set(['id', 'taskQueue', 'executionTimeout', 'runTimeout', 'taskTimeout', 'args']);
const MAX_TASK_TIMEOUT = 120_000;
/** How long one XREAD of followHistory blocks before it checks the run still exists. */
const FOLLOW_BLOCK_MS = 5_000;

/**
 * Starts workflows and reaches running and closed ones. Create it with {@link Client.connect};
 * close it with {@link Client.close}.
 */
export class Client {
  readonly identity: string;
  private watcher?: ClosedRunWatcher;

  private constructor(
    readonly engine: Engine,
    readonly connection: RedisConnection,
    readonly payloads: PayloadConverter,
    readonly failures: FailureConverter,
    /** The payload codecs of the client's data converter. */
    readonly codecs: CodecChain,
    identity: string,
    readonly logger: Logger,
    /** The client's interceptors (the `interceptors` option). */
    readonly interceptors: readonly ClientInterceptor[] = [],
  ) {
    this.identity = identity;
  }

  /** Connects to Redis and opens the namespace. */
  static async connect(options: ClientOptions = {}): Promise<Client> {
    const known = new Set(['redis', 'namespace', 'prefix', 'shards', 'identity', 'dataConverter', 'limits', 'logger', 'interceptors']);
    const unknown = Object.keys(options).filter((key) => !known.has(key));
    if (unknown.length > 0) throw new TypeError(`Unknown client option(s): ${unknown.join(', ')}`);
    checkInterceptors('interceptors', options.interceptors, ['startWorkflow']);
    const connection = RedisConnection.from(options.redis);
    try {
      const engine = await Engine.open(connection.client, {
        namespace: options.namespace ?? process.env['DURABULL_NAMESPACE'] ?? 'default',
        prefix: options.prefix,
        shards: options.shards,
        limits: options.limits,
      });
      const payloads = options.dataConverter?.payloadConverter ?? DEFAULT_PAYLOAD_CONVERTER;
      return new Client(
        engine,
        connection,
        payloads,
        payloads === DEFAULT_PAYLOAD_CONVERTER ? DEFAULT_FAILURE_CONVERTER : new FailureConverter(payloads),
        new CodecChain(options.dataConverter?.payloadCodecs ?? []),
        options.identity ?? `${process.pid}@${hostname()}`,
        options.logger ?? new ConsoleLogger(),
        [...(options.interceptors ?? [])],
      );
    } catch (err) {
      await connection.close();
      throw connection.failure(err);
    }
  }

  get namespace(): string {
    return this.engine.namespace;
  }

  /** The command connection (scripts, reads, job adds). */
  get redis(): Redis | Cluster {
    return this.connection.client;
  }

  /**
   * Starts a workflow and returns its handle. `startWorkflow(Workflow, arg, options)` passes one
   * argument; `startWorkflow(Workflow, { args, ... })` zero or several.
   * @throws WorkflowAlreadyStartedError when a run with the same id is running.
   */
  startWorkflow<C extends WorkflowClass>(workflow: C, arg: WorkflowArgs<C>[0], options: StartWorkflowOptions): Promise<WorkflowHandle<WorkflowResult<C>>>;
  startWorkflow<C extends WorkflowClass>(workflow: C, options: StartWorkflowOptionsWithArgs<WorkflowArgs<C>>): Promise<WorkflowHandle<WorkflowResult<C>>>;
  startWorkflow<R = unknown>(workflow: string, arg: unknown, options: StartWorkflowOptions): Promise<WorkflowHandle<R>>;
  startWorkflow<R = unknown>(workflow: string, options: StartWorkflowOptionsWithArgs): Promise<WorkflowHandle<R>>;
  async startWorkflow(workflow: WorkflowClass | string, ...rest: unknown[]): Promise<WorkflowHandle<unknown>> {
    return this.prepareStart(workflow, rest).start(randomUUID());
  }

  /** Checks a start request (throwing on bad input before anything is sent) and returns how to start it as a given run. */
  private prepareStart(workflow: WorkflowClass | string, rest: unknown[]) {
    const { workflowType, resultType } =
      typeof workflow === 'string' ? { workflowType: workflow, resultType: undefined } : (() => {
        const definition = requireWorkflowDefinition(workflow);
        return { workflowType: definition.name, resultType: definition.resultType };
      })();
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

    const startRun = async (input: WorkflowStartInput, runId: string): Promise<string> => {
      const encoded = await this.codecs.encode(this.payloads.toPayloads([...input.args]));
      checkPayloadSize(encoded, `Workflow ${input.workflowType} input`, this.engine.limits, this.logger);
      const result = await this.reachRedis(() => this.engine.startWorkflow({
        workflowId: input.workflowId,
        runId,
        workflowType: input.workflowType,
        taskQueue: input.taskQueue,
        workflowTaskTimeout: taskTimeout,
        runTimeout: effectiveRunTimeout,
        attributes: {
          workflowType: input.workflowType,
          workflowId: input.workflowId,
          taskQueue: input.taskQueue,
          input: encoded,
          workflowExecutionTimeout: executionTimeout,
          workflowRunTimeout: effectiveRunTimeout,
          workflowTaskTimeout: taskTimeout,
          attempt: 1,
          identity: this.identity,
          firstExecutionRunId: runId,
          randomnessSeed: randomBytes(8).toString('hex'),
          header: headerAttribute(input.headers),
        },
      }));
      if (!result.started) throw new WorkflowAlreadyStartedError(input.workflowId, input.workflowType);
      return runId;
    };
    return {
      workflowId,
      /** Starts the workflow as run `runId`, through the client interceptors. */
      start: async (runId: string): Promise<WorkflowHandle<unknown>> => {
        const start = composeInterceptors<WorkflowStartInput, Promise<string>>(
          this.interceptors,
          (interceptor: ClientInterceptor) => interceptor.startWorkflow,
          (input) => startRun(input, runId),
        );
        await start({ workflowType, workflowId, taskQueue: options.taskQueue, args, headers: {} });
        return new WorkflowHandle(this, workflowId, runId, resultType);
      },
    };
  }

  /** Starts a workflow and waits for its result: `startWorkflow` + `result()`. */
  executeWorkflow<C extends WorkflowClass>(workflow: C, arg: WorkflowArgs<C>[0], options: StartWorkflowOptions): Promise<WorkflowResult<C>>;
  executeWorkflow<C extends WorkflowClass>(workflow: C, options: StartWorkflowOptionsWithArgs<WorkflowArgs<C>>): Promise<WorkflowResult<C>>;
  executeWorkflow<R = unknown>(workflow: string, arg: unknown, options: StartWorkflowOptions): Promise<R>;
  executeWorkflow<R = unknown>(workflow: string, options: StartWorkflowOptionsWithArgs): Promise<R>;
  async executeWorkflow(workflow: WorkflowClass | string, ...rest: unknown[]): Promise<unknown> {
    // Watching the run id before the run exists, no close can slip by unseen: unlike result(),
    // there is no need to read the run's last event before waiting.
    const request = this.prepareStart(workflow, rest);
    const runId = randomUUID();
    const watch = await this.reachRedis(() => this.watchClose({ workflowId: request.workflowId, runId }));
    try {
      const handle = await request.start(runId);
      return await handle.resultOnceClosed(await watch.closed);
    } finally {
      watch.stop();
    }
  }

  /**
   * A handle to a workflow by id: its current (or latest) run, or the given run.
   * `resultType` restores a class-typed result.
   */
  getWorkflowHandle<R = unknown>(workflowId: string, runId?: string, options: { resultType?: Function } = {}): WorkflowHandle<R> {
    return new WorkflowHandle<R>(this, workflowId, runId, options.resultType);
  }

  /**
   * One page of the namespace's workflow executions, newest first, matching `filter`. Pass the
   * returned `nextPageToken` back to get the next page.
   */
  async listWorkflowsPage(
    filter: WorkflowListFilter = {},
    page: { pageSize?: number; pageToken?: string } = {},
  ): Promise<{ executions: WorkflowExecutionDescription[]; nextPageToken?: string }> {
    const result = await this.reachRedis(() => this.engine.visibility.list(toRunFilter(filter), page.pageSize ?? 100, page.pageToken));
    return { executions: result.runs.map(describeRun), nextPageToken: result.nextPageToken };
  }

  /** Every workflow execution of the namespace matching `filter`, newest first, page by page. */
  async *listWorkflows(filter: WorkflowListFilter = {}): AsyncIterable<WorkflowExecutionDescription> {
    let pageToken: string | undefined;
    do {
      const page = await this.listWorkflowsPage(filter, { pageToken });
      yield* page.executions;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /** How many workflow executions of the namespace match `filter`. */
  countWorkflows(filter: WorkflowListFilter = {}): Promise<number> {
    return this.reachRedis(() => this.engine.visibility.count(toRunFilter(filter)));
  }

  /** Closes the client's connections (not a Redis instance it was given). */
  async close(): Promise<void> {
    await this.watcher?.close();
    await this.engine.close();
    await this.connection.close();
  }

  /** Runs a call that reaches Redis, turning "Redis is down" into a RedisConnectionError. @internal */
  async reachRedis<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.connection.failure(error);
    }
  }

  /** Watches a run for its close. @internal */
  async watchClose(ref: RunRef): Promise<RunWatch> {
    this.watcher ??= new ClosedRunWatcher(this.engine, this.connection);
    await this.watcher.ready();
    return this.watcher.watch(ref);
  }
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

function toRunFilter(filter: WorkflowListFilter): RunFilter {
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

function describeRun(run: RunSummary): WorkflowExecutionDescription {
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

/** A workflow execution: wait for its result, inspect it, cancel or terminate it. */
export class WorkflowHandle<R = unknown> {
  constructor(
    readonly client: Client,
    readonly workflowId: string,
    /** The run this handle is bound to; undefined follows the workflow id's current run. */
    readonly runId: string | undefined,
    private readonly resultType?: Function,
  ) {}

  private async ref(): Promise<RunRef> {
    const runId = this.runId ?? (await this.client.engine.currentRunId(this.workflowId));
    if (!runId) throw new WorkflowNotFoundError(this.workflowId, this.runId);
    return { workflowId: this.workflowId, runId };
  }

  /**
   * Waits for the run to close and returns its result.
   * @throws WorkflowFailureError (message `Workflow execution failed`) whose `cause` is the
   *   failure (failed), a `CancelledError` (cancelled), a `TerminatedError` (terminated) or a
   *   `TimeoutError` (timed out).
   */
  async result(): Promise<R> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      const watch = await this.client.watchClose(ref);
      try {
        // Read after the watch began, so no close slips between the two; a call made while
        // Redis is unreachable fails here at once, while a restart during the wait only delays it.
        let last = await this.client.engine.lastEvent(ref);
        if (!last) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
        if (!WORKFLOW_CLOSE_EVENT_TYPES.has(last.eventType)) {
          last = (await watch.closed) ?? (await this.client.engine.lastEvent(ref))!;
        }
        return await this.outcome(ref, last);
      } finally {
        watch.stop();
      }
    });
  }

  /**
   * The result of a run a close watch reported closed, from the close event it brought or else
   * from history; {@link result} if the run has not closed after all. @internal
   */
  async resultOnceClosed(closeEvent: HistoryEvent | undefined): Promise<R> {
    const ref = { workflowId: this.workflowId, runId: this.runId! };
    const last = closeEvent ?? (await this.client.reachRedis(() => this.client.engine.lastEvent(ref)));
    if (!last || !WORKFLOW_CLOSE_EVENT_TYPES.has(last.eventType)) return this.result();
    return this.outcome(ref, last);
  }

  /** The result a close event (as stored: payloads encoded) stands for, or the WorkflowFailureError it raises. */
  private async outcome(ref: RunRef, stored: HistoryEvent): Promise<R> {
    const close = (await this.client.codecs.decodeEvents([stored]))[0]!;
    const attrs = close.attributes as Record<string, any>;
    const fail = (cause: Error) => new WorkflowFailureError({ cause, workflowId: ref.workflowId, runId: ref.runId });
    const { payloads, failures } = this.client;
    switch (close.eventType) {
      case EventType.WorkflowExecutionCompleted: {
        const [payload] = attrs['result'] as Payload[];
        const value = payload ? payloads.fromPayload(payload, this.resultType) : undefined;
        validateValue(value, this.resultType, 'workflow result');
        return value as R;
      }
      case EventType.WorkflowExecutionFailed:
        throw fail(failures.failureToError(attrs['failure'] as Failure));
      case EventType.WorkflowExecutionCanceled:
        throw fail(new CancelledError('Workflow cancelled', payloads.fromPayloads(attrs['details'] as Payload[])));
      case EventType.WorkflowExecutionTerminated:
        throw fail(
          new TerminatedError((attrs['reason'] as string) || 'Workflow terminated', {
            details: payloads.fromPayloads(attrs['details'] as Payload[]),
          }),
        );
      case EventType.WorkflowExecutionTimedOut:
        throw fail(new TimeoutError('Workflow timed out', { type: TimeoutType.START_TO_CLOSE }));
      default:
        throw new Error(`Run ${ref.runId} closed without a close event (last event: ${close.eventType})`);
    }
  }

  /** Status and facts of the run. @throws WorkflowNotFoundError */
  async describe(): Promise<WorkflowExecutionDescription> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      const run = await this.client.engine.describeRun(ref);
      if (!run) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
      return describeRun(run);
    });
  }

  /** The run's history events, oldest first. @throws WorkflowNotFoundError */
  async fetchHistory(): Promise<HistoryEvent[]> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      const events = await this.client.engine.readHistory(ref);
      if (events.length === 0) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
      return events;
    });
  }

  /**
   * The run's history as it grows: the events after `afterEventId` (all, by default), then each
   * new event as it is appended, until the run's close event or until `signal` aborts. Waits on a
   * connection of its own (XREAD BLOCK on the history stream).
   * @throws WorkflowNotFoundError, RedisConnectionError
   */
  async *followHistory(options: { afterEventId?: number; signal?: AbortSignal } = {}): AsyncIterable<HistoryEvent> {
    const { engine, connection } = this.client;
    const ref = await this.client.reachRedis(() => this.ref());
    const key = engine.keys.run(ref.workflowId, ref.runId).history;
    const { signal } = options;
    const reader = connection.duplicate();
    const stop = () => connection.release(reader);
    signal?.addEventListener('abort', stop, { once: true });
    let last = options.afterEventId ?? 0;
    try {
      while (!signal?.aborted) {
        let reply: Array<[string, StreamEntry[]]> | null;
        try {
          reply = (await reader.xread('BLOCK', FOLLOW_BLOCK_MS, 'STREAMS', key, `${last}-0`)) as typeof reply;
        } catch (error) {
          if (signal?.aborted) return;
          throw connection.failure(error);
        }
        if (!reply) {
          // Nothing new for a while: make sure the run still exists (its namespace may be gone).
          if ((await reader.exists(key)) === 0) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
          continue;
        }
        for (const [, entries] of reply) {
          for (const entry of entries) {
            const event = historyEventFromStreamEntry(entry);
            last = event.eventId;
            yield event;
            if (WORKFLOW_CLOSE_EVENT_TYPES.has(event.eventType)) return;
          }
        }
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      stop();
    }
  }

  /**
   * Requests cancellation: the workflow code gets a `CancelledError` where it waits (its
   * activities and timers are cancelled) and may clean up; a run that lets it escape ends
   * `WorkflowExecutionCanceled`.
   */
  async cancel(reason = ''): Promise<void> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      this.check(await this.client.engine.requestCancelWorkflow(ref, reason, this.client.identity), ref);
    });
  }

  /** Ends the run at once (`WorkflowExecutionTerminated`); no workflow code runs. */
  async terminate(reason = '', ...details: unknown[]): Promise<void> {
    return this.client.reachRedis(async () => {
      const ref = await this.ref();
      this.check(
        await this.client.engine.terminateWorkflow(
          ref,
          reason,
          await this.client.codecs.encode(this.client.payloads.toPayloads(details)),
          this.client.identity,
        ),
        ref,
      );
    });
  }

  private check(code: ReplyCode, ref: RunRef): void {
    if (code === ReplyCode.NotFound) throw new WorkflowNotFoundError(this.workflowId, ref.runId);
    if (code === ReplyCode.NotRunning) {
      throw new WorkflowNotFoundError(this.workflowId, ref.runId, 'Workflow execution already completed');
    }
  }
}
