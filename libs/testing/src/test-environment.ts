import { randomBytes } from 'node:crypto';
import { Client, Worker } from '@durabull/sdk';
import type { ClientOptions, WorkerOptions } from '@durabull/sdk';
import { describeRedisFromEnvironment, redisFromEnvironment } from './redis-from-environment';

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

  private constructor(
    readonly client: Client,
    private readonly options: TestEnvironmentOptions & { namespace: string },
  ) {}

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
    await Promise.all(this.workers.map((worker) => worker.shutdown()));
    await this.client.engine.purge();
    await Promise.all(this.clients.map((client) => client.close()));
    await this.client.close();
  }
}
