/**
 * The raw-BullMQ baseline: the jobs Durabull needs for a workflow, without Durabull. A
 * one-activity workflow is a chain of three jobs on two queues, as Durabull's engine runs it:
 *
 *   start (queue `wf`, the first workflow task) adds `activity` (queue `act`), whose processor
 *   adds `end` (queue `wf`, the final workflow task); the client waits for `end` to complete.
 *
 * Each processor adds the next job before it returns, as Durabull's engine dispatches the next
 * task inside the processor that committed it. Jobs use Durabull's job options (removed when
 * finished) and the workers Durabull's concurrency, so the difference between the two is what
 * Durabull adds: history, state, fencing, replay.
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Job, JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { StepRecorder } from './workloads';

/** Queue names of the baseline, one per Durabull task kind. */
export const RAW_QUEUES = { workflow: 'wf', activity: 'act' } as const;

/** The options Durabull gives its task jobs (`TASK_JOB_OPTIONS` in the engine's dispatcher). */
const JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
};

/**
 * Every baseline queue keeps up to this many events: the waiting client reads the `completed`
 * events from the stream, and BullMQ's default (10,000) could trim unread ones away when
 * thousands of chains finish at once.
 */
const EVENTS_MAX_LEN = 100_000;

/** Data of a baseline job; `id` names the chain, fan-out or sequence it belongs to. */
export type RawJobData =
  | { kind: 'start'; id: string; input: string }
  | { kind: 'activity'; id: string; input: string }
  | { kind: 'end'; id: string; result: unknown }
  | { kind: 'fanOut'; id: string; count: number }
  | { kind: 'fanItem'; id: string; index: number }
  | { kind: 'step'; id: string; index: number; count: number }
  | { kind: 'continue'; id: string; index: number; count: number };

/** The job a client waits for: the chain's last. */
function endJobId(id: string): string {
  return `${id}.end`;
}

function newConnection(redisUrl: string): Redis {
  // BullMQ requires maxRetriesPerRequest: null on connections that block.
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

function newQueue(name: string, prefix: string, connection: Redis): Queue {
  const queue = new Queue(name, { connection, prefix, defaultJobOptions: JOB_OPTIONS, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
  queue.on('error', () => undefined);
  return queue;
}

/** Options of {@link RawChainWorkers}. */
export interface RawWorkerOptions {
  redisUrl: string;
  /** BullMQ key prefix: a random one per benchmark run. */
  prefix: string;
  /** Concurrency of the `wf` worker (Durabull's maxConcurrentWorkflowTaskExecutions). */
  workflowConcurrency: number;
  /** Concurrency of the `act` worker (Durabull's maxConcurrentActivityTaskExecutions). */
  activityConcurrency: number;
  /** Notes when each sequence step runs (in-process long-history scenario). */
  recorder?: StepRecorder;
}

/** The baseline's workers: the processors of both queues, in this process. */
export class RawChainWorkers {
  private readonly connection: Redis;
  private readonly workflowQueue: Queue;
  private readonly activityQueue: Queue;
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];

  constructor(private readonly options: RawWorkerOptions) {
    this.connection = newConnection(options.redisUrl);
    this.connections.push(this.connection);
    this.workflowQueue = newQueue(RAW_QUEUES.workflow, options.prefix, this.connection);
    this.activityQueue = newQueue(RAW_QUEUES.activity, options.prefix, this.connection);
    this.addWorker(RAW_QUEUES.workflow, options.workflowConcurrency);
    this.addWorker(RAW_QUEUES.activity, options.activityConcurrency);
  }

  private addWorker(name: string, concurrency: number): void {
    // One connection per worker, as Durabull's Worker does.
    const connection = newConnection(this.options.redisUrl);
    this.connections.push(connection);
    const worker = new Worker<RawJobData>(name, (job) => this.process(job), { connection, prefix: this.options.prefix, concurrency });
    worker.on('error', () => undefined);
    this.workers.push(worker as Worker);
  }

  private async process(job: Job<RawJobData>): Promise<unknown> {
    const data = job.data;
    switch (data.kind) {
      case 'start':
        await this.activityQueue.add('activity', { kind: 'activity', id: data.id, input: data.input }, { jobId: `${data.id}.act` });
        return undefined;
      case 'activity':
        await this.workflowQueue.add('end', { kind: 'end', id: data.id, result: data.input }, { jobId: endJobId(data.id) });
        return data.input;
      case 'end':
        return data.result;
      case 'fanOut': {
        // A counter stands for the workflow's state: the item that brings it to 0 adds the end job.
        await this.connection.set(this.counterKey(data.id), data.count, 'PX', 600_000);
        await this.activityQueue.addBulk(
          Array.from({ length: data.count }, (_, index) => ({
            name: 'fanItem',
            data: { kind: 'fanItem' as const, id: data.id, index },
            opts: { ...JOB_OPTIONS, jobId: `${data.id}.f${index}` },
          })),
        );
        return undefined;
      }
      case 'fanItem': {
        const left = await this.connection.decr(this.counterKey(data.id));
        if (left === 0) {
          await this.connection.del(this.counterKey(data.id));
          await this.workflowQueue.add('end', { kind: 'end', id: data.id, result: data.index }, { jobId: endJobId(data.id) });
        }
        return data.index;
      }
      case 'step': {
        this.options.recorder?.record(data.id);
        const last = data.index === data.count - 1;
        await this.workflowQueue.add(
          last ? 'end' : 'continue',
          last ? { kind: 'end', id: data.id, result: data.count } : { kind: 'continue', id: data.id, index: data.index, count: data.count },
          { jobId: last ? endJobId(data.id) : `${data.id}.w${data.index}` },
        );
        return data.index;
      }
      case 'continue': {
        const index = data.index + 1;
        await this.activityQueue.add('step', { kind: 'step', id: data.id, index, count: data.count }, { jobId: `${data.id}.s${index}` });
        return undefined;
      }
    }
  }

  private counterKey(id: string): string {
    return `${this.options.prefix}:counter:${id}`;
  }

  /** Stops the workers (running jobs finish) and closes their connections. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all([this.workflowQueue.close(), this.activityQueue.close()]);
    for (const connection of this.connections) connection.disconnect();
  }
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The baseline's client: adds the first job of a chain and waits for its last one through
 * BullMQ's QueueEvents (the `completed` event of the `end` job).
 */
export class RawChainClient {
  private readonly waiters = new Map<string, Waiter>();

  private constructor(
    private readonly connections: Redis[],
    private readonly workflowQueue: Queue,
    private readonly events: QueueEvents,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, (waiter) => waiter.resolve(returnvalue)));
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, (waiter) => waiter.reject(new Error(failedReason))));
    events.on('error', () => undefined);
  }

  /** Connects to the baseline queues under `prefix`. */
  static async open(redisUrl: string, prefix: string): Promise<RawChainClient> {
    const connection = newConnection(redisUrl);
    const eventsConnection = newConnection(redisUrl);
    // The prefix is fresh, so reading its event stream from the start misses nothing and cannot
    // race the first XREAD.
    const events = new QueueEvents(RAW_QUEUES.workflow, { connection: eventsConnection, prefix, lastEventId: '0' });
    await events.waitUntilReady();
    return new RawChainClient([connection, eventsConnection], newQueue(RAW_QUEUES.workflow, prefix, connection), events);
  }

  private settle(jobId: string, how: (waiter: Waiter) => void): void {
    const waiter = this.waiters.get(jobId);
    if (!waiter) return;
    this.waiters.delete(jobId);
    how(waiter);
  }

  private run(id: string, name: string, data: RawJobData): Promise<unknown> {
    const done = new Promise<unknown>((resolve, reject) => this.waiters.set(endJobId(id), { resolve, reject }));
    return this.workflowQueue.add(name, data, { jobId: `${id}.start` }).then(() => done);
  }

  /** Runs one three-job chain (`start` → `activity` → `end`); resolves to the activity's result. */
  chain(id: string, input: string): Promise<unknown> {
    return this.run(id, 'start', { kind: 'start', id, input });
  }

  /** One job adds `count` jobs; the last of them to finish adds the `end` job. */
  fanOut(id: string, count: number): Promise<unknown> {
    return this.run(id, 'fanOut', { kind: 'fanOut', id, count });
  }

  /**
   * `count` activity jobs in sequence, each followed by a workflow-task job (2 jobs per step),
   * after a first workflow-task job, as a Durabull workflow's first task schedules its first
   * activity.
   */
  sequence(id: string, count: number): Promise<unknown> {
    return this.run(id, 'continue', { kind: 'continue', id, index: -1, count });
  }

  /** Stops listening and closes the connections. */
  async close(): Promise<void> {
    for (const waiter of this.waiters.values()) waiter.reject(new Error('RawChainClient closed'));
    this.waiters.clear();
    await this.events.close();
    await this.workflowQueue.close();
    for (const connection of this.connections) connection.disconnect();
  }
}
