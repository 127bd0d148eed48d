// Reaching the Redis of `--redis`: the CLI makes the ioredis connection itself, so that an
// unreachable Redis is one clear error (the socket error, not ioredis' retry-limit message) and
// ioredis never prints "Unhandled error event" lines. `--redis` is a redis:// or rediss:// URL,
// or a comma-separated list of Redis Cluster nodes (`host:port,host:port`, or URLs, the first of
// which gives the user, password and TLS of all).
import { readFileSync } from 'node:fs';
import { connectSettled } from '@durabull/sdk/internal';
import { Cluster, Redis } from 'ioredis';
import type { ClusterNode, RedisOptions } from 'ioredis';
import { CliError, UsageError, oneLine } from './errors';

const REDIS_FORMAT = 'a redis:// or rediss:// URL, or Redis Cluster nodes host:port,host:port';

/** Where `--redis` points: one Redis, or the seed nodes of a Redis Cluster. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: ClusterNode[]; options: RedisOptions };

/** How to connect besides the target: the CA of a TLS Redis (`--tls-ca`). */
export interface ConnectOptions {
  /** Path of a PEM file with the certificate authorities to trust for rediss:// (else Node's). */
  tlsCa?: string;
}

function badRedis(value: string): UsageError {
  return new UsageError(`--redis must be ${REDIS_FORMAT}, got ${JSON.stringify(value)}`);
}

/** Parses one node: `host:port` or a redis[s]:// URL. */
function parseNode(text: string, whole: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `redis://${text}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw badRedis(whole);
  }
  if ((parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') throw badRedis(whole);
  return parsed;
}

/** Parses a `--redis` value. @throws UsageError naming the value */
export function parseRedisTarget(value: string): RedisTarget {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw badRedis(value);
  const urls = parts.map((part) => parseNode(part, value));
  if (urls.length === 1) {
    // A bare host:port is a single Redis at that address.
    return { kind: 'single', url: /^rediss?:\/\//i.test(value) ? value : urls[0]!.toString() };
  }
  const first = urls[0]!;
  const options: RedisOptions = {};
  if (first.username) options.username = decodeURIComponent(first.username);
  if (first.password) options.password = decodeURIComponent(first.password);
  if (first.protocol === 'rediss:') options.tls = {};
  return { kind: 'cluster', nodes: urls.map((url) => ({ host: url.hostname, port: Number(url.port || 6379) })), options };
}

/** Checks a `--redis` value. @throws UsageError */
export function checkRedisUrl(url: string): void {
  parseRedisTarget(url);
}

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  if (url.includes(',')) return url.split(',').map(redactUrl).join(',');
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** `connect ECONNREFUSED` for a socket error, the message for anything else. */
export function describeConnectionError(error: unknown): string {
  const { syscall, code } = (error ?? {}) as { syscall?: unknown; code?: unknown };
  if (typeof syscall === 'string' && typeof code === 'string') return `${syscall} ${code}`;
  return oneLine(error instanceof Error ? error.message : String(error));
}

/** A Redis connection of the CLI, remembering the last socket error it saw. */
export interface CliRedis {
  redis: Redis | Cluster;
  /** The last error the connection emitted (a socket error when Redis went away). */
  lastError(): unknown;
  /** The one-line error for a Redis that cannot be reached, naming the URL and the cause. */
  unreachable(cause?: unknown): CliError;
  close(): Promise<void>;
}

/** The TLS settings for `--tls-ca`. @throws UsageError when the file cannot be read */
function tlsOptions(options: ConnectOptions): { ca: Buffer } | undefined {
  if (options.tlsCa === undefined) return undefined;
  try {
    return { ca: readFileSync(options.tlsCa) };
  } catch (error) {
    throw new UsageError(`--tls-ca ${JSON.stringify(options.tlsCa)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Connects to `url` (see {@link parseRedisTarget}) and waits until the connection is ready (AUTH
 * and SELECT done; for a cluster, its slots known).
 * @throws CliError `Redis is unreachable at <url>: <cause>` when it cannot.
 */
export async function connectRedis(url: string, options: ConnectOptions = {}): Promise<CliRedis> {
  const target = parseRedisTarget(url);
  const ca = tlsOptions(options);
  // No reconnection while connecting: a Redis that cannot be reached fails at once, and the
  // connection ends by itself (a disconnect() after a failed connect leaves ioredis' 2 s
  // destroy timer running, which would hold the process).
  const common: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null };
  let redis: Redis | Cluster;
  if (target.kind === 'single') {
    const tls = ca && target.url.toLowerCase().startsWith('rediss:') ? { tls: ca } : {};
    redis = new Redis(target.url, { ...common, ...tls });
  } else {
    const tls = target.options.tls ? { tls: { ...target.options.tls, ...ca } } : {};
    redis = new Cluster(target.nodes, {
      lazyConnect: true,
      clusterRetryStrategy: () => null,
      redisOptions: { ...common, ...target.options, ...tls },
    });
  }
  let last: unknown;
  redis.on('error', (error: unknown) => {
    last = error;
  });
  const unreachable = (cause?: unknown) =>
    new CliError(`Redis is unreachable at ${redactUrl(url)}: ${describeConnectionError(last ?? cause)}`);
  const close = async () => {
    if (redis.status === 'end') return;
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  };
  try {
    // Settled also when a Cluster's ready check fails (cluster_state:fail) and, with no retries, it
    // ends: ioredis' own promise would stay pending and the CLI exit silently with code 0.
    await connectSettled(redis);
  } catch (error) {
    if (redis.status !== 'end') redis.disconnect();
    // Every node answered, but the ready check did not pass (no socket error was seen).
    if (redis instanceof Cluster && last === undefined) {
      throw new CliError(`Redis is unreachable at ${redactUrl(url)}: the cluster is not ready (CLUSTER INFO does not report cluster_state:ok)`);
    }
    throw unreachable(error);
  }
  // Connected: from now on reconnect as ioredis does by default, so that commands fail after three
  // reconnection attempts (as Durabull's own connections do) instead of waiting for Redis forever.
  if (redis instanceof Redis) redis.options.retryStrategy = (times: number) => Math.min(times * 50, 2000);
  else redis.options.clusterRetryStrategy = (times: number) => Math.min(100 + times * 2, 2000);
  return { redis, lastError: () => last, unreachable, close };
}
