import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CodecChain, DEFAULT_FAILURE_CONVERTER, DEFAULT_PAYLOAD_CONVERTER, FailureConverter, WorkflowIdConflictPolicy } from '@durabull/common';
import type { PayloadConverter } from '@durabull/common';
import { Engine, RedisConnection, assertName, describeTaskQueue, terminateExistingDetails } from '@durabull/engine';
import type { RunRef, TaskQueuePoller } from '@durabull/engine';
import type { Cluster, Redis } from 'ioredis';
import { requireWorkflowDefinition } from '../definitions/workflow';
import { composeInterceptors, headerAttribute } from '../interceptors';
import type { ClientInterceptor, Headers, WorkflowStartInput } from '../interceptors';
import { ConsoleLogger } from '../logger';
import type { Logger } from '../logger';
import { checkPayloadSize } from '../payload-limits';
import { AsyncActivityHandle } from './async-activity-handle';
import type { AsyncActivityId } from './async-activity-handle';
import { ClosedRunWatcher } from './closed-run-watcher';
import type { RunWatch } from './closed-run-watcher';
import { UpdateWatcher } from './update-watcher';
import type { UpdateReading } from './update-watcher';
import { warnOnEvictionPolicy } from './eviction-policy';
import { WorkflowHandle } from './handle';
import { ScheduleHandle, createSchedule, scheduleSummary } from './schedules';
import type { ScheduleOptions, ScheduleSummary } from './schedules';
import { encodeMemo } from './memo';
import { QueryReplies, runQuery } from './queries';
import { DEFAULT_QUERY_TIMEOUT_MS, checkClientOptions, describeRun, resolveStart, toRunFilter } from './options';
import type {
  ClientOptions,
  StartWorkflowOptions,
  StartWorkflowOptionsWithArgs,
  WorkflowExecutionDescription,
  WorkflowListFilter,
} from './options';
import type { WorkflowArgs, WorkflowClass, WorkflowResult } from '../definitions/workflow';
import { newRandomnessSeed } from '../randomness-seed';

/**
 * Starts workflows and reaches running and closed ones. Create it with {@link Client.connect};
 * close it with {@link Client.close}.
 */
export class Client {
  readonly identity: string;
  private watcher?: ClosedRunWatcher;
  private updateWatcher?: UpdateWatcher;
  private queryReplies?: QueryReplies;

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
    /** How long a query waits for its answer (the `queryTimeout` option), in ms. */
    readonly queryTimeout = DEFAULT_QUERY_TIMEOUT_MS,
  ) {
    this.identity = identity;
  }

  /** Connects to Redis and opens the namespace. */
  static async connect(options: ClientOptions = {}): Promise<Client> {
    const { durability, retention, queryTimeout } = checkClientOptions(options);
    const logger = options.logger ?? new ConsoleLogger();
    const connection = RedisConnection.from(options.redis);
    try {
      const engine = await Engine.open(connection.client, {
        namespace: options.namespace ?? process.env['DURABULL_NAMESPACE'] ?? 'default',
        prefix: options.prefix,
        shards: options.shards,
        limits: options.limits,
        retention,
        create: options.createNamespace,
      });
      // After the namespace opened: a cluster's nodes are known by then.
      await warnOnEvictionPolicy(connection.client, logger);
      engine.requireReplicas(durability);
      const payloads = options.dataConverter?.payloadConverter ?? DEFAULT_PAYLOAD_CONVERTER;
      return new Client(
        engine,
        connection,
        payloads,
        payloads === DEFAULT_PAYLOAD_CONVERTER ? DEFAULT_FAILURE_CONVERTER : new FailureConverter(payloads),
        new CodecChain(options.dataConverter?.payloadCodecs ?? []),
        options.identity ?? `${process.pid}@${hostname()}`,
        logger,
        [...(options.interceptors ?? [])],
        queryTimeout,
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
    const {
      args, workflowId, taskQueue, executionTimeout, runTimeout, taskTimeout, idReusePolicy, idConflictPolicy, memo, startSignal,
      startDelay, retryPolicy, cron,
    } = resolveStart(rest);

    /** Starts the run; resolves to its id, or to the running run's under USE_EXISTING. */
    const startRun = async (input: WorkflowStartInput, runId: string): Promise<string> => {
      const payloads = this.payloads.toPayloads([...input.args]);
      // No await without codecs.
      const encoded = this.codecs.empty ? payloads : await this.codecs.encode(payloads);
      checkPayloadSize(encoded, `Workflow ${input.workflowType} input`, this.engine.limits, this.logger);
      // Signal-with-start: recorded after WorkflowExecutionStarted, or on the running run.
      const signal = startSignal && (await this.signalAttributes(startSignal.name, startSignal.args, input.headers));
      const memoAttribute = memo && (await encodeMemo(memo, this.payloads, this.codecs));
      if (memoAttribute) {
        checkPayloadSize(Object.values(memoAttribute.fields), `Workflow ${input.workflowType} memo`, this.engine.limits, this.logger);
      }
      const terminateDetails =
        idConflictPolicy === WorkflowIdConflictPolicy.TERMINATE_EXISTING
          ? await this.codecs.encode(this.payloads.toPayloads([terminateExistingDetails(runId)]))
          : undefined;
      const result = await this.reachRedis(() => this.engine.startWorkflow({
        workflowId: input.workflowId,
        runId,
        workflowType: input.workflowType,
        taskQueue: input.taskQueue,
        workflowTaskTimeout: taskTimeout,
        runTimeout,
        attributes: {
          workflowType: input.workflowType,
          workflowId: input.workflowId,
          taskQueue: input.taskQueue,
          input: encoded,
          workflowExecutionTimeout: executionTimeout,
          workflowRunTimeout: runTimeout,
          workflowTaskTimeout: taskTimeout,
          attempt: 1,
          identity: this.identity,
          firstExecutionRunId: runId,
          randomnessSeed: newRandomnessSeed(),
          header: headerAttribute(input.headers),
          ...(memoAttribute ? { memo: memoAttribute } : {}),
          ...(retryPolicy ? { retryPolicy } : {}),
          ...(cron ? { cronSchedule: cron.schedule } : {}),
        },
        retryPolicy,
        cron,
        startDelay,
        executionTimeout,
        idReusePolicy,
        idConflictPolicy,
        terminateDetails,
        identity: this.identity,
        startSignal: signal,
      }));
      return result.started ? runId : result.runningRunId;
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
        const startedRunId = await start({ workflowType, workflowId, taskQueue, args, headers: {} });
        return new WorkflowHandle(this, workflowId, startedRunId, resultType);
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
      // USE_EXISTING may have returned the running run instead of the one watched.
      if (handle.runId !== runId) return await handle.result();
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
   * Creates a schedule: it starts `options.action`'s workflow at the times of `options.spec`
   * (ids `<action id>-<scheduled time ISO>`), as its policies say.
   * @throws ScheduleAlreadyRunning when a schedule has this id
   * @throws TypeError naming a bad value (a cron string, a time zone, an interval <= 0, ...)
   */
  createSchedule(scheduleId: string, options: ScheduleOptions): Promise<ScheduleHandle> {
    return createSchedule(this, scheduleId, options);
  }

  /** A handle to a schedule by id (nothing is read until it is used). */
  getScheduleHandle(scheduleId: string): ScheduleHandle {
    return new ScheduleHandle(this, scheduleId);
  }

  /** The namespace's schedules, by id: spec, state, the last and next 5 actions (a finished schedule is deleted 7 days on; see {@link ScheduleHandle.describe}). */
  async *listSchedules(): AsyncIterable<ScheduleSummary> {
    const records = await this.reachRedis(() => this.engine.schedules.list());
    yield* records.map(scheduleSummary);
  }

  /**
   * A handle to an activity that completes asynchronously (its function ended with
   * `activity.raiseCompleteAsync()`): by the task token of the attempt (`activity.info().taskToken`),
   * or by `{ workflowId, runId?, activityId }` (the activity's current attempt; without `runId`,
   * the workflow id's current run).
   * @throws TypeError when the token is malformed or the ids are not non-empty strings.
   * @throws IllegalStateError when the token belongs to another namespace.
   */
  getAsyncActivityHandle(taskToken: string): AsyncActivityHandle;
  getAsyncActivityHandle(id: AsyncActivityId): AsyncActivityHandle;
  getAsyncActivityHandle(tokenOrId: string | AsyncActivityId): AsyncActivityHandle {
    return new AsyncActivityHandle(this, tokenOrId);
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

  /**
   * The workers that poll `taskQueue` (seen in the last 5 minutes), live ones first: each with
   * its id, identity, when it last refreshed its entry (about every second while it runs), and
   * whether it is `live`, `dead` (its liveness expired: it crashed or lost Redis) or `stopped`.
   * Writes nothing.
   */
  describeTaskQueue(taskQueue: string): Promise<TaskQueuePoller[]> {
    assertName('task queue', taskQueue);
    return this.reachRedis(() => describeTaskQueue(this.engine.redis, this.engine.keys, taskQueue));
  }

  /**
   * A signal's `WorkflowExecutionSignaled` attributes: its input through the payload converter
   * and codecs (size-checked), this client's identity, and the headers (when there are any). @internal
   */
  async signalAttributes(signalName: string, args: readonly unknown[], headers: Headers = {}): Promise<Record<string, unknown>> {
    const input = await this.codecs.encode(this.payloads.toPayloads([...args]));
    checkPayloadSize(input, `Signal ${signalName} input`, this.engine.limits, this.logger);
    // A fresh request id per call: the engine records a signal once per request id.
    return { signalName, input, identity: this.identity, header: headerAttribute(headers), requestId: randomUUID() };
  }

  /** Closes the client's connections (not a Redis instance it was given). */
  async close(): Promise<void> {
    await this.watcher?.close();
    await this.updateWatcher?.close();
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

  /** Reads an update until `done` says so, at each of its stage changes. @internal */
  async watchUpdate(ref: RunRef, updateId: string, done: (reading: UpdateReading) => boolean, first?: UpdateReading): Promise<UpdateReading> {
    this.updateWatcher ??= new UpdateWatcher(this.engine, this.connection);
    return this.updateWatcher.waitFor(ref, updateId, done, first);
  }

  /** Watches a run for its close. @internal */
  async watchClose(ref: RunRef): Promise<RunWatch> {
    this.watcher ??= new ClosedRunWatcher(this.engine, this.connection);
    await this.watcher.ready();
    return this.watcher.watch(ref);
  }

  /** Sends a query to a run and waits for its answer (see `WorkflowHandle.query`). @internal */
  query(ref: RunRef, queryType: string, args: unknown[]): Promise<unknown> {
    this.watcher ??= new ClosedRunWatcher(this.engine, this.connection);
    this.queryReplies ??= new QueryReplies(this.engine, this.watcher);
    return runQuery(this, this.queryReplies, ref, queryType, args);
  }
}
