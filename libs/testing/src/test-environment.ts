import { randomBytes } from 'node:crypto';
import { Client, Worker } from '@durabull/sdk';
import type { ClientOptions, Duration, WorkerOptions } from '@durabull/sdk';
import { QueueNames, advanceClock, namespaceTime, nextDueTime, toMilliseconds } from '@durabull/sdk/internal';
import { describeRedisFromEnvironment, redisFromEnvironment } from './redis-from-environment';

/** How often a time-skipping environment checks whether its workers are idle (ms). */
const TIME_SKIP_POLL_MS = 10;

/** Options of {@link TestEnvironment.create}. */
export interface TestEnvironmentOptions extends Omit<ClientOptions, 'namespace'> {
  /** Namespace to use. @default `test-<random>` */
  namespace?: string;
}

/**
 * A client on a fresh namespace of a real Redis: the `redis` option, else the Redis Cluster of
 * `DURABULL_TEST_REDIS_CLUSTER`, else `REDIS_URL`, else 127.0.0.1:6379 (see
 * {@link redisFromEnvironment}). There is no fallback: when Redis cannot be reached, `create()`
 * fails with the connection error.
 */
export class TestEnvironment {
  private readonly workers: Worker[] = [];
  private readonly clients: Client[] = [];
  /** The time-skipping loop, while it runs. */
  private skipping?: NodeJS.Timeout;
  /** The loop's round in progress, if any: teardown waits for it before it purges the namespace. */
  private skipRound?: Promise<void>;
  private idleRounds = 0;

  private constructor(
    readonly client: Client,
    private readonly options: TestEnvironmentOptions & { namespace: string },
  ) {}

  /**
   * An environment whose clock skips ahead, as Temporal's time-skipping test server does: while
   * every worker of the environment is idle and no task waits in its queues, the namespace's
   * clock jumps to the next timer, timeout or retry, so a workflow that sleeps for a day completes
   * in milliseconds. {@link sleep} moves the clock by hand. Time is the namespace's own (Redis time
   * plus an offset, read by every transition): history event times and `workflow.now()` follow
   * it; worker liveness and locks stay on real time. Retention deadlines are not skipped to.
   */
  static async createTimeSkipping(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
    const env = await TestEnvironment.create(options);
    env.skipping = setInterval(() => {
      env.skipRound ??= env.skipWhenIdle().finally(() => (env.skipRound = undefined));
    }, TIME_SKIP_POLL_MS);
    return env;
  }

  /** Whether this environment's clock skips ahead (see {@link createTimeSkipping}). */
  get timeSkipping(): boolean {
    return this.skipping !== undefined;
  }

  /**
   * Moves the namespace's clock `duration` forward at once; timers, timeouts and retries that come
   * due fire now, and the schedule actions that came due have started when it resolves (whoever
   * fired them). Works in any environment (a time-skipping one also skips by itself).
   */
  async sleep(duration: Duration): Promise<void> {
    await advanceClock(this.client.engine, toMilliseconds(duration, 'sleep duration'), this.taskQueues());
  }

  /** The namespace's current time (Redis time plus any skipped time). */
  async currentTime(): Promise<Date> {
    return new Date(await namespaceTime(this.client.engine));
  }

  private taskQueues(): string[] {
    return [...new Set(this.workers.map((worker) => worker.options.taskQueue))];
  }

  /** One round of the time-skipping loop: skips to the next due time after two idle rounds in a row. */
  private async skipWhenIdle(): Promise<void> {
    try {
      this.idleRounds = (await this.idle()) ? this.idleRounds + 1 : 0;
      if (this.idleRounds < 2) return;
      const { engine } = this.client;
      const [next, now] = await Promise.all([nextDueTime(engine), namespaceTime(engine)]);
      if (next !== undefined && next > now) {
        this.idleRounds = 0;
        await advanceClock(engine, next - now + 1, this.taskQueues());
      }
    } catch {
      // Redis went away (a restart test): the next round tries again.
    }
  }

  /** Whether no worker of the environment runs a task and no task waits in its queues. */
  private async idle(): Promise<boolean> {
    if (this.workers.some((worker) => worker.busy)) return false;
    const { engine } = this.client;
    const queues = [
      ...this.taskQueues().flatMap((taskQueue) => [
        engine.dispatcher.queue(engine.keys.taskQueuePrefix(taskQueue), QueueNames.workflow),
        engine.dispatcher.queue(engine.keys.taskQueuePrefix(taskQueue), QueueNames.activity),
      ]),
      ...this.workers.map((worker) => engine.dispatcher.queue(engine.keys.stickyPrefix(worker.workerId), QueueNames.workflow)),
      engine.dispatcher.queue(engine.keys.timerPrefix, QueueNames.timers),
      engine.dispatcher.queue(engine.keys.systemPrefix, QueueNames.messages),
    ];
    const [counts, firstTasks] = await Promise.all([
      Promise.all(queues.map((queue) => queue.getJobCounts('waiting', 'active', 'prioritized'))),
      // New runs' first tasks wait in their task queue's first-task list, not in a BullMQ queue.
      Promise.all(this.taskQueues().map((taskQueue) => engine.redis.llen(engine.keys.firstTasks(taskQueue)))),
    ]);
    return (
      firstTasks.every((length) => length === 0) &&
      counts.every((count) => count['waiting'] === 0 && count['active'] === 0 && count['prioritized'] === 0)
    );
  }

  static async create(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
    const namespace = options.namespace ?? `test-${randomBytes(6).toString('hex')}`;
    const redis = options.redis ?? redisFromEnvironment();
    const client = await Client.connect({ ...options, redis, namespace });
    try {
      await client.redis.ping();
    } catch (error) {
      await client.close();
      const target = options.redis === undefined ? describeRedisFromEnvironment() : 'the given redis option';
      throw new Error(`Durabull tests need Redis, and ${target} did not answer: ${(error as Error).message}`);
    }
    return new TestEnvironment(client, { ...options, redis, namespace });
  }

  get namespace(): string {
    return this.options.namespace;
  }

  /** A worker on this environment's client, shut down by {@link teardown}. */
  newWorker(options: WorkerOptions): Worker {
    const worker = new Worker(this.client, options);
    this.workers.push(worker);
    return worker;
  }

  /**
   * Another client on the same namespace (another process, say), closed by {@link teardown};
   * `options` override this environment's (a different data converter, say).
   */
  async newClient(options: Omit<TestEnvironmentOptions, 'namespace'> = {}): Promise<Client> {
    const client = await Client.connect({ ...this.options, ...options });
    this.clients.push(client);
    return client;
  }

  /** Stops the workers, deletes the namespace's keys and closes the clients. */
  async teardown(): Promise<void> {
    clearInterval(this.skipping);
    this.skipping = undefined;
    // A round still moving the clock would promote and add wake-up jobs while the purge runs,
    // leaving keys of the namespace behind.
    await this.skipRound;
    await Promise.all(this.workers.map((worker) => worker.shutdown()));
    await this.client.engine.purge();
    await Promise.all(this.clients.map((client) => client.close()));
    await this.client.close();
  }
}
