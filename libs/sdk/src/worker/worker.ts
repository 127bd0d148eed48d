import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DelayedError, Worker as BullWorker } from 'bullmq';
import type { Job, WorkerOptions as BullWorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { IllegalStateError } from '@durabull/common';
import { QueueNames, handOverQueries } from '@durabull/engine';
import type { ActivityTaskJobData, MessageJobData, QueryJobData, WakeJobData, WorkflowTaskJobData } from '@durabull/engine';
import type { Client } from '../client/client';
import type { Logger } from '../logger';
import { MetricsRegistry } from '../observability/metrics';
import { WorkerMetrics } from '../observability/worker-metrics';
import { ActivityTaskRunner } from './activity-tasks';
import { BULLMQ_RECOVERY_OPTIONS, WakeUpWorker, WorkerConnections, abandonBullWorker, settlesBefore } from './connections';
import { FirstTaskFetcher } from './first-tasks';
import { Maintenance } from './maintenance';
import { checkWorkerOptions } from './options';
import type { ResolvedWorkerOptions, WorkerOptions } from './options';
import { PrometheusServer } from '../observability/prometheus-server';
import { QueryResponder } from './queries';
import { Slots } from './slots';
import { WorkflowTaskRunner } from './workflow-tasks';
import { LocalActivityExecutor } from './local-activities';

/**
 * How long shutdown waits for Redis beyond `shutdownGraceTime` (closing queues, handing cached
 * runs back) before it drops the connections: a worker exits even while Redis is unreachable,
 * and what it held is recovered by the engine's deadlines and the other workers' sweeps.
 */
const SHUTDOWN_REDIS_MARGIN_MS = 2_000;

/**
 * How long a completed activity waits for a workflow task slot to take its run's next workflow
 * task at once: about a workflow task's run time, and far below any activity timeout.
 */
const EAGER_WORKFLOW_TASK_SLOT_WAIT_MS = 20;

type State = 'created' | 'running' | 'stopping' | 'stopped';

/**
 * Runs the workflow and activity tasks of one task queue. Any number of workers, in any number
 * of processes and machines, may serve the same task queue. `run()` runs until `shutdown()` or
 * SIGINT/SIGTERM; `runUntil(promise)` while a promise is pending.
 */
export class Worker {
  /** Unique id of this worker: its sticky queue and cancellation channel. */
  readonly workerId = randomBytes(8).toString('hex');
  readonly options: ResolvedWorkerOptions;
  /** Where this worker records its metrics (the `metrics.registry` option, or its own; empty with `metrics.meter`). */
  readonly metrics: MetricsRegistry;
  private readonly prometheus?: PrometheusServer;
  private readonly logger: Logger;
  private readonly workflowTasks?: WorkflowTaskRunner;
  private readonly activityTasks?: ActivityTaskRunner;
  /** Answers queries of the runs of this worker's workflows (with workflows only). */
  private readonly queries?: QueryResponder;
  private state: State = 'created';
  private bullWorkers: BullWorker[] = [];
  /** Takes new runs' first workflow tasks off the task queue's first-task list (single Redis). */
  private firstTasks?: FirstTaskFetcher;
  private readonly connections: WorkerConnections;
  private readonly background = new Set<Promise<void>>();
  private readonly maintenance: Maintenance;
  private stopped?: Promise<void>;
  private resolveRun?: () => void;

  constructor(
    readonly client: Client,
    options: WorkerOptions,
  ) {
    const checked = checkWorkerOptions(options, `${client.identity}#${this.workerId.slice(0, 6)}`);
    const { workflows, activities, interceptors } = checked;
    this.options = checked.options;
    this.logger = checked.logger;
    this.metrics = checked.metrics.registry ?? new MetricsRegistry();
    const { prometheus } = checked.metrics;
    if (prometheus) this.prometheus = new PrometheusServer(this.metrics, { ...prometheus }, this.logger);
    const running = () => this.state === 'running';
    this.connections = new WorkerConnections(client.connection, running);
    this.maintenance = new Maintenance(client.engine, {
      workerId: this.workerId,
      poller: { taskQueue: this.options.taskQueue, identity: this.options.identity, activityTypes: [...activities.keys()] },
      sweepInterval: this.options.sweepInterval,
      logger: this.logger,
      running,
    });
    const { engine, payloads, failures, namespace } = client;
    const metrics = new WorkerMetrics(checked.metrics.meter ?? this.metrics, { namespace, task_queue: this.options.taskQueue });
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
      const workflowTasks = this.workflowTasks;
      // Local activities run here, with this worker's registered activities.
      workflowTasks.localActivities = new LocalActivityExecutor(activities, {
        namespace,
        logger: this.logger,
        payloads,
        failures,
        interceptors: [...(interceptors.activity ?? [])],
      });
      this.queries = new QueryResponder(
        engine,
        workflows,
        { namespace, payloads, failures, logger: this.logger, interceptors: [...(interceptors.workflow ?? [])] },
        { workerId: this.workerId, logger: this.logger, codecs: client.codecs, cached: (runId) => workflowTasks.cache.peek(runId) },
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
        reserve: () => {
          if (!accepting() || this.options.maxCachedWorkflows === 0) return false;
          if (workflowSlots.tryAcquire()) return true;
          // Worth a short wait when every slot is busy: taken here, the task skips its queue's
          // round trips (an add, a fetch, a start), which under load is what the slots wait on.
          return workflowSlots.acquireFirst(EAGER_WORKFLOW_TASK_SLOT_WAIT_MS).then((taken) => {
            if (taken && accepting()) return true;
            if (taken) workflowSlots.release();
            return false;
          });
        },
        release: () => workflowSlots.release(),
        seenEventId: (runId) => workflowTasks.seenEventId(runId),
        run: (task, start) => this.inBackground(workflowTasks.runTaken(task, start), task),
        completeAndRun: (task, start, result, details) => workflowTasks.completeActivityAndRun(task, start, result, details),
      };
    }
  }

  /** Runs a task taken eagerly; shutdown waits for it like for a job. */
  private inBackground(task: Promise<void>, ids: { workflowId: string; runId: string }): void {
    // One `then` (not catch, then finally): each promise costs its async hooks, on every task.
    const tracked: Promise<void> = task.then(
      () => {
        this.background.delete(tracked);
      },
      (error: Error) => {
        this.logger.error('Task processing failed', { workflowId: ids.workflowId, runId: ids.runId, error: error.message });
        this.background.delete(tracked);
      },
    );
    this.background.add(tracked);
  }

  /**
   * Where the Prometheus endpoint listens (`http://<address>:<port>/metrics`) while the worker
   * runs; undefined without the `metrics.prometheus` option, before it listens and after shutdown.
   */
  get prometheusAddress(): AddressInfo | undefined {
    return this.prometheus?.address;
  }

  /** How many running workflows this worker holds in its cache. */
  get cachedWorkflows(): number {
    return this.workflowTasks?.cache.size ?? 0;
  }

  /**
   * Whether the worker is working on a task: a workflow task or activity attempt holds a slot, or
   * a task taken eagerly runs. (A time-skipping test environment moves the clock only while
   * every worker is idle.)
   */
  get busy(): boolean {
    const inUse = (slots?: { free: number; size: number }) => slots !== undefined && slots.free < slots.size;
    return inUse(this.workflowTasks?.slots) || inUse(this.activityTasks?.slots) || this.background.size > 0;
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
    await this.prometheus?.start();
    const { engine } = this.client;
    const { keys } = engine;
    const { taskQueue } = this.options;
    const connection = () => this.connections.open();
    const common = { connection: connection(), autorun: true, ...BULLMQ_RECOVERY_OPTIONS } as const;
    // Live (and sweeping once) before taking a task: a run's next task is routed here only while
    // this worker's liveness entry holds.
    await this.maintenance.maintain();
    if (this.activityTasks) {
      // Cancellation requests for the attempts running here, listened to before one can start.
      const runner = this.activityTasks;
      const subscriber = connection();
      subscriber.on('message', (_channel: string, message: string) => runner.deliverCancellation(message));
      subscriber.on('error', () => undefined);
      // A shutdown meanwhile closes the connection: nothing to listen for then.
      await subscriber.subscribe(keys.workerChannel(this.workerId)).catch((error: unknown) => {
        if (this.state === 'running') throw error;
      });
    }
    // Shut down while starting (the stop found nothing to close): nothing more to start. Every
    // task queue's worker is created below without an await in between, so that a stop sees all.
    if (this.state !== 'running') return;

    if (this.workflowTasks) {
      const runner = this.workflowTasks;
      const processor = (job: Job<WorkflowTaskJobData>) => runner.run(job.data);
      const concurrency = this.options.maxConcurrentWorkflowTaskExecutions;
      this.addBullWorker(QueueNames.workflow, processor, { ...common, prefix: keys.taskQueuePrefix(taskQueue), concurrency });
      if (this.options.maxCachedWorkflows > 0) {
        this.addBullWorker(QueueNames.workflow, processor, {
          ...common,
          connection: connection(),
          prefix: keys.stickyPrefix(this.workerId),
          concurrency,
        });
      }
      if (!this.client.connection.isCluster) {
        this.firstTasks = new FirstTaskFetcher(
          engine,
          connection() as Redis,
          taskQueue,
          runner.slots,
          (task) => this.inBackground(runner.run(task), task),
          () => this.state === 'running',
          this.logger,
        );
        this.firstTasks.start();
      }
    }
    if (this.queries) {
      // Queries: any worker of the task queue answers one by replay; the one that caches the run
      // gets it on its sticky query queue and answers from its cache.
      const queries = this.queries;
      const processor = (job: Job<QueryJobData>) => queries.answer(job.data);
      const concurrency = this.options.maxConcurrentWorkflowTaskExecutions;
      this.addBullWorker(QueueNames.query, processor, { ...common, connection: connection(), prefix: keys.taskQueuePrefix(taskQueue), concurrency });
      if (this.options.maxCachedWorkflows > 0) {
        this.addBullWorker(QueueNames.query, processor, { ...common, connection: connection(), prefix: keys.stickyPrefix(this.workerId), concurrency });
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
          ...common,
          connection: connection(),
          prefix: keys.taskQueuePrefix(taskQueue),
          concurrency: this.options.maxConcurrentActivityTaskExecutions,
        },
      );
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
      { ...common, connection: connection(), prefix: keys.timerPrefix, concurrency: 8 },
      WakeUpWorker,
    );
    // Messages between runs (signal or cancel another workflow): any worker of the namespace delivers them.
    this.addBullWorker(
      QueueNames.messages,
      (job: Job<MessageJobData>) => engine.deliverMessage(job.data),
      { ...common, connection: connection(), prefix: keys.systemPrefix, concurrency: 8 },
    );
    this.maintenance.schedule();
    this.logger.info('Worker started', { taskQueue, workerId: this.workerId, namespace: this.client.namespace });
  }

  private addBullWorker<D>(
    name: string,
    processor: (job: Job<D>, token?: string) => Promise<void>,
    options: BullWorkerOptions,
    WorkerClass: typeof BullWorker = BullWorker,
  ): void {
    const worker = new WorkerClass<D>(name, processor, options);
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
    this.maintenance.stop();
    const grace = setTimeout(() => {
      this.activityTasks?.cancelAll();
      this.workflowTasks?.localActivities?.stopAll();
    }, this.options.shutdownGraceTime);
    // Whatever Redis does, the worker has stopped this long after shutdown began.
    const deadline = Date.now() + this.options.shutdownGraceTime + SHUTDOWN_REDIS_MARGIN_MS;
    const drained = await settlesBefore(deadline, async () => {
      await Promise.all([...this.bullWorkers.map((worker) => worker.close()), this.firstTasks?.stop(this.client.engine.redis as Redis)]);
      while (this.background.size > 0) await Promise.all(this.background);
      await this.maintenance.current;
    });
    clearTimeout(grace);
    if (!drained) {
      this.logger.warn('Shutdown: Redis did not answer in time; the tasks still held are left to the other workers', {
        workerId: this.workerId,
      });
      for (const worker of this.bullWorkers) abandonBullWorker(worker);
    }
    // Also BullMQ's own (blocking) connections: a queue still waiting on Redis lets go.
    this.connections.disconnectAll();
    // `durabull task-queue describe` shows this worker as stopped, not dead.
    if (drained) await settlesBefore(Date.now() + 1_000, () => this.maintenance.recordPoller(true)).catch(() => false);
    // Handing cached runs back needs Redis; without it their tasks fall back after the liveness TTL.
    if (this.workflowTasks && drained) {
      const { engine } = this.client;
      const handedBack = await settlesBefore(Math.max(deadline, Date.now() + 1_000), async () => {
        await engine.forgetWorker(this.workerId);
        await this.workflowTasks!.releaseAll();
        // The sticky queue dies with the worker; anything routed to it from now on falls back.
        await engine.dispatcher.queue(engine.keys.stickyPrefix(this.workerId), QueueNames.workflow).obliterate({ force: true });
        // Queries sent here and not taken go to their task queues.
        await handOverQueries(engine, this.workerId);
      }).catch((error: Error) => {
        this.logger.warn('Could not hand cached workflows back to the task queue', { error: error.message });
        return true;
      });
      if (!handedBack) this.logger.warn('Could not hand cached workflows back to the task queue: Redis did not answer in time');
    }
    await this.prometheus?.close();
    this.bullWorkers = [];
    this.firstTasks = undefined;
    this.state = 'stopped';
    this.logger.info('Worker stopped', { workerId: this.workerId });
    this.resolveRun?.();
  }
}
