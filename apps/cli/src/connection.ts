// Reaching the Redis of `--redis`: the CLI makes the ioredis connection itself, so that an
// unreachable Redis is one clear error (the socket error, not ioredis' retry-limit message) and
// ioredis never prints "Unhandled error event" lines.
import { Redis } from 'ioredis';
import { CliError, UsageError, oneLine } from './errors';

/** Checks a `--redis` value: a redis:// or rediss:// URL. @throws UsageError */
export function checkRedisUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
}

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
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
  redis: Redis;
  /** The last error the connection emitted (a socket error when Redis went away). */
  lastError(): unknown;
  /** The one-line error for a Redis that cannot be reached, naming the URL and the cause. */
  unreachable(cause?: unknown): CliError;
  close(): Promise<void>;
}

/**
 * Connects to `url` and waits until the connection is ready (AUTH and SELECT done).
 * @throws CliError `Redis is unreachable at <url>: <cause>` when it cannot.
 */
export async function connectRedis(url: string): Promise<CliRedis> {
  checkRedisUrl(url);
  // No reconnection while connecting: a Redis that cannot be reached fails at once, and the
  // connection ends by itself (a disconnect() after a failed connect leaves ioredis' 2 s
  // destroy timer running, which would hold the process).
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null });
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
    await redis.connect();
  } catch (error) {
    if (redis.status !== 'end') redis.disconnect();
    throw unreachable(error);
  }
  // Connected: from now on reconnect as ioredis does by default, so that commands fail after three
  // reconnection attempts (as Durabull's own connections do) instead of waiting for Redis forever.
  redis.options.retryStrategy = (times: number) => Math.min(times * 50, 2000);
  return { redis, lastError: () => last, unreachable, close };
}
