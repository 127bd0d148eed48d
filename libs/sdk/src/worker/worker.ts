import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DelayedError, Worker as BullWorker } from 'bullmq';
import type { Job, WorkerOptions as BullWorkerOptions } from 'bullmq';
import { IllegalStateError, optionalMilliseconds } from '@durabull/common';
import type { Duration } from '@durabull/common';
import { QueueNames, assertName } from '@durabull/engine';
import type { ActivityTaskJobData, WakeJobData, WorkflowTaskJobData } from '@durabull/engine';
import type { Cluster, Redis } from 'ioredis';
import type { Client } from '../client/client';
import { collectActivities } from '../definitions/activity';
import { requireWorkflowDefinition } from '../definitions/workflow';
import type { WorkflowDefinition } from '../definitions/workflow';
import { checkInterceptors } from '../interceptors';
import type { WorkerInterceptors } from '../interceptors';
import { ConsoleLogger } from '../logger';
import type { Logger } from '../logger';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from '../observability/metrics';
import { WorkerMetrics } from '../observability/worker-metrics';
import { ActivityTaskRunner } from './activity-tasks';
import { Slots } from './slots';
import { WorkflowTaskRunner } from './workflow-tasks';

/** Options of a {@link Worker}. */
export interface WorkerOptions {
  /** Task queue whose workflow and activity tasks this worker runs. */
  taskQueue: string;
  /** Workflow classes (decorated with `@WorkflowDefn`) this worker runs. */
  workflows?: Array<new () => object>;
  /**
   * Activities this worker runs: instances of classes with `@Activity` methods (one instance
   * serves all concurrent invocations), classes with static `@Activity` methods, and functions
   * from `defineActivity`.
   */
  activities?: unknown[];
  /** Activity attempts run at once. @default 100 */
  maxConcurrentActivityTaskExecutions?: number;
  /** Workflow tasks run at once. @default 100 */
  maxConcurrentWorkflowTaskExecutions?: number;
  /**
   * Running workflows kept in memory (LRU), so their next task applies only new events; their
   * next task is routed to this worker first. 0 disables the cache and sticky routing. @default 1000
   */
  maxCachedWorkflows?: number;
  /**
   * How long a task routed to this worker (sticky) waits for it before any worker of the task
   * queue may take it. @default 5 s
   */
  stickyQueueScheduleToStartTimeout?: Duration;
  /**
   * On shutdown, how long running activities may finish before their cancellation signal fires;
   * they are then reported as failed (type `WorkerShutdown`) and retried elsewhere. @default 10 s
   */
  shutdownGraceTime?: Duration;
  /**
   * How often the worker re-dispatches tasks and fires deadlines that crashed processes left
   * behind (an outbox sweep). @default 5 s
   */
  sweepInterval?: Duration;
  /**
   * Run work this worker creates for itself without a queue round trip, as Temporal's eager
   * execution does: an activity scheduled by a workflow task starts here at once when its task
   * queue is this worker's and an activity slot is free; the next workflow task of a run cached
   * here starts at once when an activity of it completes here and a workflow task slot is free
   * (or comes free within 20 ms: such a task goes ahead of those waiting in the queues).
   * History is the same either way. @default true
   */
  eagerExecution?: boolean;
  /** Identity recorded in history. @default the client's identity */
  identity?: string;
  /**
   * Where the worker logs: any object with `debug`, `info`, `warn` and `error(message,
   * attributes)` (pino, winston and the like fit with a small adapter). Entries about a task
   * carry its ids (`workflowId`, `runId`, `workflowType`; `activityId`, `activityType`, `attempt`
   * for activities); `workflow.logger` and `activity.logger` write here with the same ids.
   * @default a ConsoleLogger at level `DURABULL_LOG_LEVEL` (warn)
   */
  logger?: Logger;
  /**
   * Metrics: the worker records task latencies, failures, retries and workflow cache use into
   * `registry` (`worker.metrics`), and with `prometheus` serves them over HTTP.
   * @default a new registry per worker, no HTTP endpoint
   */
  metrics?: WorkerMetricsOptions;
  /**
   * Hooks around scheduling activities (inside workflow code) and running them, such as
   * `@durabull/opentelemetry`'s. @default none
   */
  interceptors?: WorkerInterceptors;
}

/** The worker option `metrics`. */
export interface WorkerMetricsOptions {
  /**
   * Where the worker records its metrics; share one between workers (of different task queues)
   * to serve them together, or register your own metrics in it. @default a new MetricsRegistry
   */
  registry?: MetricsRegistry;
  /**
   * Serve the registry at `GET /metrics` in the Prometheus text format (0.0.4) while the worker
   * runs; the server listens when the worker starts and closes when it shuts down.
   * @default no endpoint
   */
  prometheus?: {
    /** TCP port, 0 for any free port (see `worker.prometheusAddress`). */
    port: number;
    /** Address to listen on. @default all interfaces (Node's default) */
    host?: string;
  };
}

/**
 * How long a completed activity waits for a workflow task slot to take its run's next workflow
 * task at once: about a workflow task's run time, and far below any activity timeout.
 */
const EAGER_WORKFLOW_TASK_SLOT_WAIT_MS = 20;

const WORKER_OPTIONS = new Set([
  'taskQueue',
  'workflows',
  'activities',
  'maxConcurrentActivityTaskExecutions',
  'maxConcurrentWorkflowTaskExecutions',
  'maxCachedWorkflows',
  'stickyQueueScheduleToStartTimeout',
  'shutdownGraceTime',
  'sweepInterval',
  'eagerExecution',
  'identity',
  'logger',
  'metrics',
  'interceptors',
]);

/** Checks the `metrics` option. */
function checkMetricsOptions(value: unknown): WorkerMetricsOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new TypeError(`Invalid metrics: ${JSON.stringify(value)} (an object)`);
  const unknown = Object.keys(value).filter((key) => key !== 'registry' && key !== 'prometheus');
  if (unknown.length > 0) throw new TypeError(`Unknown metrics option(s): ${unknown.join(', ')}`);
  const { registry, prometheus } = value as WorkerMetricsOptions;
  if (registry !== undefined && !(registry instanceof MetricsRegistry)) {
    throw new TypeError('Invalid metrics.registry: not a MetricsRegistry');
  }
  if (prometheus !== undefined) {
    if (typeof prometheus !== 'object' || prometheus === null) {
      throw new TypeError(`Invalid metrics.prometheus: ${JSON.stringify(prometheus)} (an object with port and host)`);
    }
    const extra = Object.keys(prometheus).filter((key) => key !== 'port' && key !== 'host');
    if (extra.length > 0) throw new TypeError(`Unknown metrics.prometheus option(s): ${extra.join(', ')}`);
    const { port, host } = prometheus;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError(`Invalid metrics.prometheus.port: ${JSON.stringify(port)} (an integer from 0 to 65535)`);
    }
    if (host !== undefined && (typeof host !== 'string' || host.length === 0)) {
      throw new TypeError(`Invalid metrics.prometheus.host: ${JSON.stringify(host)} (a non-empty string)`);
    }
  }
  return { registry, prometheus };
}

/** Checks the `interceptors` option. */
function checkWorkerInterceptors(value: unknown): WorkerInterceptors {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Invalid interceptors: ${JSON.stringify(value)} (an object with workflow and activity lists)`);
  }
  const unknown = Object.keys(value).filter((key) => key !== 'workflow' && key !== 'activity');
  if (unknown.length > 0) throw new TypeError(`Unknown interceptors option(s): ${unknown.join(', ')} (workflow, activity)`);
  const { workflow, activity } = value as WorkerInterceptors;
  checkInterceptors('interceptors.workflow', workflow, ['scheduleActivity']);
  checkInterceptors('interceptors.activity', activity, ['execute']);
  return { workflow, activity };
}

function positiveInteger(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TypeError(`Invalid ${name}: ${JSON.stringify(value)} (an integer ${allowZero ? '>= 0' : '>= 1'})`);
  }
  return value;
}

type State = 'created' | 'running' | 'stopping' | 'stopped';

/** Worker options with defaults applied and durations in ms. */
export interface ResolvedWorkerOptions {
  readonly taskQueue: string;
  readonly maxConcurrentActivityTaskExecutions: number;
  readonly maxConcurrentWorkflowTaskExecutions: number;
  readonly maxCachedWorkflows: number;
  readonly stickyQueueScheduleToStartTimeout: number;
  readonly shutdownGraceTime: number;
  readonly sweepInterval: number;
  readonly eagerExecution: boolean;
  readonly identity: string;
}

/**
 * Runs the workflow and activity tasks of one task queue. Any number of workers, in any number
 * of processes and machines, may serve the same task queue. `run()` runs until `shutdown()` or
 * SIGINT/SIGTERM; `runUntil(promise)` while a promise is pending.
 */
export class Worker {
  /** Unique id of this worker: its sticky queue and cancellation channel. */
  readonly workerId = randomBytes(8).toString('hex');
  readonly options: ResolvedWorkerOptions;
  /** Where this worker records its metrics (the `metrics.registry` option, or its own). */
  readonly metrics: MetricsRegistry;
  private readonly prometheus?: { port: number; host?: string };
  private metricsServer?: Server;
  private readonly logger: Logger;
  private readonly workflowTasks?: WorkflowTaskRunner;
  private readonly activityTasks?: ActivityTaskRunner;
  private state: State = 'created';
  private bullWorkers: BullWorker[] = [];
  private subscriber?: Redis | Cluster;
  private connections: Array<Redis | Cluster> = [];
  private readonly background = new Set<Promise<void>>();
  private sweepTimer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private stopped?: Promise<void>;
  private resolveRun?: () => void;

  constructor(
    readonly client: Client,
    options: WorkerOptions,
  ) {
    const unknown = Object.keys(options ?? {}).filter((key) => !WORKER_OPTIONS.has(key));
    if (unknown.length > 0) throw new TypeError(`Unknown worker option(s): ${unknown.join(', ')}`);
    assertName('taskQueue', options.taskQueue);
    const workflows = new Map<string, WorkflowDefinition>();
    for (const cls of options.workflows ?? []) {
      const definition = requireWorkflowDefinition(cls);
      if (workflows.has(definition.name)) throw new TypeError(`More than one workflow is named ${JSON.stringify(definition.name)}`);
      workflows.set(definition.name, definition);
    }
    const activities = collectActivities(options.activities ?? []);
    if (workflows.size === 0 && activities.size === 0) {
      throw new TypeError('A worker needs at least one workflow or activity');
    }
    this.options = {
      taskQueue: options.taskQueue,
      maxConcurrentActivityTaskExecutions: positiveInteger('maxConcurrentActivityTaskExecutions', options.maxConcurrentActivityTaskExecutions, 100),
      maxConcurrentWorkflowTaskExecutions: positiveInteger('maxConcurrentWorkflowTaskExecutions', options.maxConcurrentWorkflowTaskExecutions, 100),
      maxCachedWorkflows: positiveInteger('maxCachedWorkflows', options.maxCachedWorkflows, 1000, true),
      stickyQueueScheduleToStartTimeout:
        optionalMilliseconds(options.stickyQueueScheduleToStartTimeout, 'stickyQueueScheduleToStartTimeout') ?? 5_000,
      shutdownGraceTime: optionalMilliseconds(options.shutdownGraceTime, 'shutdownGraceTime') ?? 10_000,
      sweepInterval: optionalMilliseconds(options.sweepInterval, 'sweepInterval') ?? 5_000,
      eagerExecution: options.eagerExecution ?? true,
      identity: options.identity ?? `${client.identity}#${this.workerId.slice(0, 6)}`,
    };
    this.logger = options.logger ?? new ConsoleLogger();
    const metricsOptions = checkMetricsOptions(options.metrics);
    const interceptors = checkWorkerInterceptors(options.interceptors);
    this.metrics = metricsOptions.registry ?? new MetricsRegistry();
    this.prometheus = metricsOptions.prometheus && { ...metricsOptions.prometheus };
    const { engine, payloads, failures, namespace } = client;
    const metrics = new WorkerMetrics(this.metrics, { namespace, task_queue: this.options.taskQueue });
    const workflowSlots = new Slots(this.options.maxConcurrentWorkflowTaskExecutions);
    const activitySlots = new Slots(this.options.maxConcurrentActivityTaskExecutions);
    if (workflows.size > 0) {
      this.workflowTasks = new WorkflowTaskRunner(
        engine,
        workflows,
        { namespace, payloads, failures, logger: this.logger, interceptors: [...(interceptors.workflow ?? [])] },
        {
          identity: this.options.identity,
          workerId: this.workerId,
          maxCachedWorkflows: this.options.maxCachedWorkflows,
          stickyTimeout: this.options.stickyQueueScheduleToStartTimeout,
          logger: this.logger,
          codecs: client.codecs,
          metrics,
        },
        workflowSlots,
      );
    }
    if (activities.size > 0) {
      this.activityTasks = new ActivityTaskRunner(
        engine,
        activities,
        {
          identity: this.options.identity,
          workerId: this.workerId,
          namespace,
          logger: this.logger,
          payloads,
          failures,
          codecs: client.codecs,
          metrics,
          interceptors: [...(interceptors.activity ?? [])],
        },
        activitySlots,
      );
    }
    const workflowTasks = this.workflowTasks;
    const activityTasks = this.activityTasks;
    if (this.options.eagerExecution && workflowTasks && activityTasks) {
      const accepting = () => this.state === 'running';
      workflowTasks.eagerActivities = {
        reserve: (taskQueue, activityType) =>
          accepting() && taskQueue === this.options.taskQueue && activityTasks.activities.has(activityType) && activitySlots.tryAcquire(),
        release: () => activitySlots.release(),
        run: (task, start) => this.inBackground(activityTasks.runTaken(task, start), task),
      };
      activityTasks.eagerWorkflowTasks = {
        reserve: async () => {
          if (!accepting() || this.options.maxCachedWorkflows === 0) return false;
          // Worth a short wait when every slot is busy: taken here, the task skips its queue's
          // round trips (an add, a fetch, a start), which under load is what the slots wait on.
          if (!(await workflowSlots.acquireFirst(EAGER_WORKFLOW_TASK_SLOT_WAIT_MS))) return false;
          if (accepting()) return true;
          workflowSlots.release();
          return false;
        },
        release: () => workflowSlots.release(),
        seenEventId: (runId) => workflowTasks.seenEventId(runId),
        run: (task, start) => this.inBackground(workflowTasks.runTaken(task, start), task),
      };
    }
  }

  /** Runs a task taken eagerly; shutdown waits for it like for a job. */
  private inBackground(task: Promise<void>, ids: { workflowId: string; runId: string }): void {
    const tracked = task
      .catch((error: Error) =>
        this.logger.error('Task processing failed', { workflowId: ids.workflowId, runId: ids.runId, error: error.message }),
      )
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /**
   * Where the Prometheus endpoint listens (`http://<address>:<port>/metrics`) while the worker
   * runs; undefined without the `metrics.prometheus` option, before it listens and after shutdown.
   */
  get prometheusAddress(): AddressInfo | undefined {
    const address = this.metricsServer?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  /** How many running workflows this worker holds in its cache. */
  get cachedWorkflows(): number {
    return this.workflowTasks?.cache.size ?? 0;
  }

  /** Runs until {@link shutdown} is called or the process gets SIGINT or SIGTERM. */
  async run(): Promise<void> {
    if (this.state !== 'created') throw new IllegalStateError(`Worker cannot run: it is ${this.state}`);
    const onSignal = () => void this.shutdown();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const done = new Promise<void>((resolve) => (this.resolveRun = resolve));
    try {
      await this.start();
      await done;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /** Runs while `until` is pending, then shuts down; returns (or throws) what `until` did. */
  async runUntil<T>(until: Promise<T> | (() => Promise<T>)): Promise<T> {
    const running = this.run();
    try {
      return await (typeof until === 'function' ? until() : until);
    } finally {
      await this.shutdown();
      await running;
    }
  }

  /**
   * Stops taking tasks, lets running ones finish (activities for up to `shutdownGraceTime`, then
   * their cancellation signal fires and they are reported as failed, to be retried elsewhere),
   * and closes the worker's connections.
   */
  shutdown(): Promise<void> {
    if (this.state === 'created') {
      this.state = 'stopped';
      return Promise.resolve();
    }
    this.stopped ??= this.stop();
    return this.stopped;
  }

  private async start(): Promise<void> {
    this.state = 'running';
    if (this.prometheus) await this.serveMetrics(this.prometheus);
    const { engine } = this.client;
    const { keys } = engine;
    const { taskQueue } = this.options;
    const connection = () => {
      const duplicate = this.client.connection.duplicate({ maxRetriesPerRequest: null });
      this.connections.push(duplicate);
      if (this.client.connection.isCluster) this.adoptDuplicates(duplicate as Cluster);
      return duplicate;
    };
    const common = { connection: connection(), autorun: true } as const;

    if (this.workflowTasks) {
      const runner = this.workflowTasks;
      const processor = (job: Job<WorkflowTaskJobData>) => runner.run(job.data);
      const concurrency = this.options.maxConcurrentWorkflowTaskExecutions;
      this.addBullWorker(QueueNames.workflow, processor, { ...common, prefix: keys.taskQueuePrefix(taskQueue), concurrency });
      if (this.options.maxCachedWorkflows > 0) {
        this.addBullWorker(QueueNames.workflow, processor, {
          connection: connection(),
          autorun: true,
          prefix: keys.stickyPrefix(this.workerId),
          concurrency,
        });
      }
    }
    if (this.activityTasks) {
      const runner = this.activityTasks;
      this.addBullWorker(
        QueueNames.activity,
        async (job: Job<ActivityTaskJobData>, token?: string) => {
          const early = await runner.run(job.data);
          if (early) {
            await job.moveToDelayed(Date.now() + early.early, token);
            throw new DelayedError();
          }
        },
        {
          connection: connection(),
          autorun: true,
          prefix: keys.taskQueuePrefix(taskQueue),
          concurrency: this.options.maxConcurrentActivityTaskExecutions,
        },
      );
      this.subscriber = connection();
      this.subscriber.on('message', (_channel: string, message: string) => runner.deliverCancellation(message));
      this.subscriber.on('error', () => undefined);
      await this.subscriber.subscribe(keys.workerChannel(this.workerId));
    }
    this.addBullWorker(
      QueueNames.timers,
      async (job: Job<WakeJobData>, token?: string) => {
        const { early } = await engine.fireDueDeadlines(job.data.shard, job.data.at);
        if (early !== undefined) {
          await job.moveToDelayed(Date.now() + early, token);
          throw new DelayedError();
        }
      },
      { connection: connection(), autorun: true, prefix: keys.timerPrefix, concurrency: 8 },
    );
    if (this.options.sweepInterval > 0) {
      this.sweepTimer = setInterval(() => {
        this.sweeping ??= engine
          .sweep({ graceMs: Math.max(this.options.sweepInterval, 2_000) })
          .catch((error: Error) => this.logger.warn('Sweep failed', { error: error.message }))
          .finally(() => (this.sweeping = undefined));
      }, this.options.sweepInterval);
    }
    this.logger.info('Worker started', { taskQueue, workerId: this.workerId, namespace: this.client.namespace });
  }

  /** Serves the metrics registry at `GET /metrics` (Prometheus text format 0.0.4). */
  private async serveMetrics({ port, host }: { port: number; host?: string }): Promise<void> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found: metrics are at /metrics\n');
      } else if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      } else {
        const body = this.metrics.toPrometheus();
        response.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
        response.end(request.method === 'HEAD' ? undefined : body);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new Error(`Worker cannot serve metrics on ${host ?? '*'}:${port}: ${error.message}`, { cause: error })),
      );
      server.listen(port, host, () => resolve());
    });
    server.on('error', (error) => this.logger.warn('Metrics endpoint error', { error: error.message }));
    this.metricsServer = server;
    this.logger.info('Serving metrics', { url: `http://${host ?? 'localhost'}:${this.prometheusAddress?.port}/metrics` });
  }

  private async closeMetricsServer(): Promise<void> {
    const server = this.metricsServer;
    if (!server) return;
    this.metricsServer = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /**
   * Takes charge of the clusters BullMQ duplicates from `cluster` (each BullMQ worker's blocking
   * connection): once this worker stops they refuse to connect again, and {@link stop}
   * disconnects them with the worker's own connections. Closing a BullMQ worker on a Redis Cluster
   * interrupts its BZPOPMIN by disconnecting the blocking cluster, which BullMQ's cluster recovery
   * then reconnects before the close quits it; node connections opened by that reconnect outlive
   * the quit and keep the process alive (BullMQ 6.7, ioredis 5.11).
   */
  private adoptDuplicates(cluster: Cluster): void {
    const duplicate = cluster.duplicate.bind(cluster);
    cluster.duplicate = (...args: Parameters<Cluster['duplicate']>) => {
      const copy = duplicate(...args);
      const connect = copy.connect.bind(copy);
      copy.connect = () => (this.state === 'running' ? connect() : Promise.reject(new Error('Connection is closed.')));
      this.connections.push(copy);
      return copy;
    };
  }

  private addBullWorker<D>(
    name: string,
    processor: (job: Job<D>, token?: string) => Promise<void>,
    options: BullWorkerOptions,
  ): void {
    const worker = new BullWorker<D>(name, processor, options);
    worker.on('error', (error) => {
      if (this.state === 'running') this.logger.warn('Task queue connection error', { queue: name, error: error.message });
    });
    worker.on('failed', (job, error) => {
      if (!(error instanceof DelayedError)) {
        const data = job?.data as { workflowId?: string; runId?: string } | undefined;
        this.logger.error('Task processing failed', {
          queue: name,
          jobId: job?.id,
          workflowId: data?.workflowId,
          runId: data?.runId,
          error: error.message,
        });
      }
    });
    this.bullWorkers.push(worker as BullWorker);
  }

  private async stop(): Promise<void> {
    this.state = 'stopping';
    clearInterval(this.sweepTimer);
    const grace = setTimeout(() => this.activityTasks?.cancelAll(), this.options.shutdownGraceTime);
    try {
      await Promise.all(this.bullWorkers.map((worker) => worker.close()));
      while (this.background.size > 0) await Promise.all(this.background);
      await this.sweeping;
    } finally {
      clearTimeout(grace);
    }
    for (const connection of this.connections.splice(0)) connection.disconnect();
    if (this.workflowTasks) {
      try {
        await this.workflowTasks.releaseAll();
        // The sticky queue dies with the worker; anything routed to it from now on falls back.
        const { engine } = this.client;
        await engine.dispatcher.queue(engine.keys.stickyPrefix(this.workerId), QueueNames.workflow).obliterate({ force: true });
      } catch (error) {
        this.logger.warn('Could not hand cached workflows back to the task queue', { error: (error as Error).message });
      }
    }
    await this.closeMetricsServer();
    this.bullWorkers = [];
    this.state = 'stopped';
    this.logger.info('Worker stopped', { workerId: this.workerId });
    this.resolveRun?.();
  }
}
