import { randomBytes } from 'node:crypto';
import { Client, Worker } from '@durabull/sdk';
import type { ClientOptions, WorkerOptions } from '@durabull/sdk';

/** Options of {@link TestEnvironment.create}. */
export interface TestEnvironmentOptions extends Omit<ClientOptions, 'namespace'> {
  /** Namespace to use. @default `test-<random>` */
  namespace?: string;
}

/**
 * A client on a fresh namespace of a real Redis (`REDIS_URL`, else 127.0.0.1:6379). There is no
 * fallback: when Redis cannot be reached, `create()` fails with the connection error.
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
    const client = await Client.connect({ ...options, namespace });
    try {
      await client.redis.ping();
    } catch (error) {
      await client.close();
      throw new Error(`Durabull tests need Redis (REDIS_URL or 127.0.0.1:6379): ${(error as Error).message}`);
    }
    return new TestEnvironment(client, { ...options, namespace });
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

  /** Another client on the same namespace (another process, say), closed by {@link teardown}. */
  async newClient(): Promise<Client> {
    const client = await Client.connect({ ...this.options });
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
