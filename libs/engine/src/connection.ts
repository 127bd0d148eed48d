import { RedisConnectionError } from '@durabull/common';
import { Cluster, Redis } from 'ioredis';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';

/**
 * How to reach Redis: a URL (`redis://host:port/db`), ioredis options, an ioredis `Redis` or
 * `Cluster` instance (used as is and never closed by Durabull), or cluster nodes.
 */
export type RedisConnectionOption =
  | string
  | RedisOptions
  | Redis
  | Cluster
  | { cluster: ClusterNode[]; options?: ClusterOptions };

/** The default when no `redis` option is given: `REDIS_URL`, else 127.0.0.1:6379. */
export function defaultRedisUrl(): string {
  return process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

/**
 * Owns the connections of one client or worker. `client` runs the engine's scripts, reads and
 * BullMQ `add`s; `duplicate()` makes further connections (BullMQ workers, pub/sub) with the same
 * target. Commands fail after a few reconnection attempts instead of waiting for Redis forever.
 */
export class RedisConnection {
  readonly client: Redis | Cluster;
  private readonly owned: Array<Redis | Cluster> = [];
  /** The last error a connection of ours emitted: the socket error when Redis went away. */
  private lastError?: unknown;

  private constructor(
    client: Redis | Cluster,
    owned: boolean,
    private readonly factory: (overrides: RedisOptions) => Redis | Cluster,
    /** Which Redis, for messages (password masked). */
    readonly target: string,
  ) {
    this.client = client;
    if (owned) this.own(client);
  }

  /**
   * Keeps a connection's errors: they surface on the commands that hit them (as a
   * {@link RedisConnectionError} naming the socket error), not as ioredis "Unhandled error event" logs.
   */
  private own(connection: Redis | Cluster): void {
    this.owned.push(connection);
    connection.on('error', (error: unknown) => {
      this.lastError = error;
    });
  }

  /** The error to raise for a failed call: a RedisConnectionError naming this Redis when it could not be reached. */
  failure(error: unknown): unknown {
    const mapped = asRedisConnectionError(error);
    if (!(mapped instanceof RedisConnectionError)) return mapped;
    return new RedisConnectionError(this.lastError ?? (mapped.cause as Error), this.target);
  }

  static from(option: RedisConnectionOption = defaultRedisUrl()): RedisConnection {
    const commandDefaults: RedisOptions = { maxRetriesPerRequest: 3, lazyConnect: false };
    if (option instanceof Redis || option instanceof Cluster) {
      return new RedisConnection(
        option,
        false,
        (overrides) =>
          option instanceof Cluster
            ? option.duplicate(undefined, { redisOptions: { ...option.options.redisOptions, ...overrides } })
            : option.duplicate(overrides),
        option instanceof Cluster ? 'the given Redis Cluster' : 'the given Redis',
      );
    }
    if (typeof option === 'string') {
      let url: URL;
      try {
        url = new URL(option);
      } catch {
        throw new TypeError(`Invalid Redis URL: ${JSON.stringify(option)} (expected redis://host:port)`);
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
        throw new TypeError(`Invalid Redis URL: ${JSON.stringify(option)} (expected redis:// or rediss://)`);
      }
      const factory = (overrides: RedisOptions) => new Redis(option, { ...commandDefaults, ...overrides });
      if (url.password) url.password = '***';
      return new RedisConnection(factory({}), true, factory, url.toString());
    }
    if (typeof option === 'object' && option !== null && 'cluster' in option) {
      const { cluster, options = {} } = option;
      const factory = (overrides: RedisOptions) =>
        new Cluster(cluster, { ...options, redisOptions: { ...commandDefaults, ...options.redisOptions, ...overrides } });
      const nodes = cluster.map((node) => (typeof node === 'object' ? `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}` : String(node)));
      return new RedisConnection(factory({}), true, factory, `the Redis Cluster at ${nodes.join(',')}`);
    }
    if (typeof option === 'object' && option !== null) {
      const factory = (overrides: RedisOptions) => new Redis({ ...commandDefaults, ...option, ...overrides });
      const target = option.path ?? `redis://${option.host ?? '127.0.0.1'}:${option.port ?? 6379}`;
      return new RedisConnection(factory({}), true, factory, target);
    }
    throw new TypeError(`Invalid redis option: ${String(option)}`);
  }

  /** A new connection to the same Redis, owned (and closed) by this object. */
  duplicate(overrides: RedisOptions = {}): Redis | Cluster {
    const connection = this.factory(overrides);
    this.own(connection);
    return connection;
  }

  /** Closes a connection made by {@link duplicate} before the rest. */
  release(connection: Redis | Cluster): void {
    const index = this.owned.indexOf(connection);
    if (index >= 0) this.owned.splice(index, 1);
    // Once: a second disconnect() of a closed ioredis connection arms a 2 s timer that holds the process.
    if (connection.status !== 'end') connection.disconnect();
  }

  get isCluster(): boolean {
    return this.client instanceof Cluster;
  }

  /**
   * Closes the connections this object owns: QUIT, or a plain disconnect when Redis does not
   * answer within {@link QUIT_TIMEOUT_MS} (down or unreachable: closing never waits for it).
   */
  async close(): Promise<void> {
    await Promise.all(
      this.owned.splice(0).map(async (connection) => {
        if (connection.status === 'end') return;
        let timer: NodeJS.Timeout | undefined;
        const quit = connection.quit().then(
          () => true,
          () => false,
        );
        const quitted = await Promise.race([quit, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), QUIT_TIMEOUT_MS)))]);
        clearTimeout(timer);
        if (!quitted && (connection.status as string) !== 'end') connection.disconnect();
      }),
    );
  }
}

/** How long closing waits for Redis to answer QUIT. */
const QUIT_TIMEOUT_MS = 1_000;

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

/**
 * `connect()` of `connection` (given as `connect`, the method itself when omitted), settled once
 * the connection is up, or has ended, whichever attempt got it there. ioredis 5.11 leaves a
 * Cluster's `connect()` pending for good when its slots refresh succeeds and its ready check then
 * fails (`cluster_state:fail`, as while a failover is under way): the cluster disconnects and
 * reconnects by itself, and the first promise is neither resolved nor rejected. Awaiting that
 * promise would wait for ever on a cluster that is up.
 */
export function connectSettled(connection: Redis | Cluster, connect: () => Promise<void> = () => connection.connect()): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Status events come a tick after the status changed: one of an earlier connection (its
    // `end`, say) may still arrive after this attempt began, so the status decides.
    const onReady = () => {
      if (connection.status === 'ready') settle();
    };
    const onEnd = () => {
      if (connection.status === 'end') settle(new Error('Connection is closed.'));
    };
    const settle = (error?: Error) => {
      connection.off('ready', onReady);
      connection.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    connection.on('ready', onReady);
    connection.on('end', onEnd);
    connect().then(() => settle(), settle);
  });
}

/**
 * The error to raise for a failed Redis call: a {@link RedisConnectionError} when Redis could not
 * be reached (refused, closed, out of reconnection retries), the error itself otherwise.
 */
export function asRedisConnectionError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof RedisConnectionError) return error;
  const code = (error as { code?: string }).code;
  const unreachable =
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    (code !== undefined && CONNECTION_CODES.has(code)) ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue/.test(error.message) ||
    // A cluster that could not serve the slot within ioredis' retry budget (16 tries 100 ms
    // apart): its primary is gone and no replica has taken over yet.
    /^Too many Cluster redirections|^CLUSTERDOWN/.test(error.message);
  return unreachable ? new RedisConnectionError(error) : error;
}
