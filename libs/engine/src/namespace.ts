import type { Cluster, Redis } from 'ioredis';
import { NamespaceKeys } from './keys';
import type { ScriptMode } from './scripts';

/** Settings of a namespace, fixed when its first client connects. */
export interface NamespaceOptions {
  /** Namespace name: letters, digits, `.`, `_` and `-`. */
  namespace: string;
  /** Prefix of every key. @default 'durabull' */
  prefix?: string;
  /** Shards a new namespace spreads its runs over (ignored when the namespace exists). @default 16 */
  shards?: number;
  /** Limits of a new namespace (ignored when the namespace exists). @default Temporal's */
  limits?: Partial<NamespaceLimits>;
  /**
   * How the Lua transitions run: `functions` (a Redis Functions library, Redis 7+) or `eval`
   * (EVALSHA). @default functions where Redis has them, else eval
   */
  scriptMode?: ScriptMode;
  /**
   * How long closed runs are kept (ms, {@link MIN_RETENTION_MS} to {@link MAX_RETENTION_MS}):
   * sets the namespace's retention, for every client and worker of it, from the runs that close
   * afterwards on. @default the namespace's current retention ({@link DEFAULT_RETENTION_MS} for a
   * new namespace)
   */
  retention?: number;
  /**
   * Whether opening creates the namespace (fixing its shard count and limits) when it does not
   * exist yet. With `false`, opening writes nothing: a namespace no client has opened fails with
   * {@link NamespaceNotFoundError}, and `shards`, `limits` and `retention` may not be given.
   * @default true
   */
  create?: boolean;
}

/** A namespace opened with `create: false` that no client or worker has created. */
export class NamespaceNotFoundError extends Error {
  constructor(readonly namespace: string) {
    super(`Namespace ${JSON.stringify(namespace)} does not exist (no client or worker has opened it)`);
    this.name = 'NamespaceNotFoundError';
  }
}

/** Retention of a namespace no client set one for: 72 h, Temporal CLI's default. */
export const DEFAULT_RETENTION_MS = 72 * 3_600_000;
/** The shortest retention: a second, so that a run's waiters can still read its close. */
export const MIN_RETENTION_MS = 1_000;
/** The longest retention: ten years (deadlines beyond are past BullMQ's delayed-job precision). */
export const MAX_RETENTION_MS = 3650 * 86_400_000;

/** Checks a retention in ms; `shown` is the value as the user gave it, for the error. */
export function assertRetention(ms: number, shown: unknown = ms): void {
  if (!Number.isInteger(ms) || ms < MIN_RETENTION_MS || ms > MAX_RETENTION_MS) {
    throw new TypeError(
      `Invalid retention: ${typeof shown === 'number' ? String(shown) : JSON.stringify(shown)} (from 1 second to 3650 days)`,
    );
  }
}

/**
 * Stores a namespace's retention in its meta and in every shard's settings hash (where the scripts
 * that close runs read it); without one, a new namespace gets the default and an existing one
 * keeps its own.
 */
async function storeRetention(redis: Redis | Cluster, keys: NamespaceKeys, retention: number | undefined): Promise<void> {
  if (retention === undefined) {
    await redis.hsetnx(keys.meta, 'retention', DEFAULT_RETENTION_MS);
    return;
  }
  await redis.hset(keys.meta, 'retention', retention);
  await Promise.all(Array.from({ length: keys.shardCount }, (_, shard) => redis.hset(keys.shard(shard).settings, 'retention', retention)));
}

/**
 * Size limits of a namespace, as Temporal's server defaults them (TEMPORAL-SEMANTICS §4.4).
 * Fixed when the namespace is first used; every client and worker of it reads them.
 */
export interface NamespaceLimits {
  /** A run whose history reaches this many events is terminated. @default 51200 */
  historyEvents: number;
  /** A run whose history reaches this many bytes is terminated. @default 50 MiB */
  historyBytes: number;
  /** Workers warn when a run's history reaches this many events. @default 10240 */
  historyEventsWarning: number;
  /** A payload larger than this is refused, naming its workflow or activity. @default 2 MiB */
  payloadBytes: number;
  /** Workers and clients warn about a payload larger than this. @default 256 KiB */
  payloadBytesWarning: number;
}

export const DEFAULT_NAMESPACE_LIMITS: Readonly<NamespaceLimits> = Object.freeze({
  historyEvents: 51_200,
  historyBytes: 50 * 1024 * 1024,
  historyEventsWarning: 10_240,
  payloadBytes: 2 * 1024 * 1024,
  payloadBytesWarning: 256 * 1024,
});

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Checks a namespace, prefix or task queue name: it becomes part of Redis keys and hash tags. */
export function assertName(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new TypeError(
      `Invalid ${what}: ${JSON.stringify(value)} (1-100 characters: letters, digits, '.', '_' or '-', starting with a letter or digit)`,
    );
  }
}

/** A namespace as {@link openNamespace} found (or created) it. */
export interface OpenedNamespace {
  /** Its keys, over the shard count fixed when it was created. */
  keys: NamespaceKeys;
  /** Its limits, as fixed when it was created. */
  limits: Readonly<NamespaceLimits>;
}

/**
 * Checks a namespace's options and reads its settings, creating them on first use: the first
 * client of a namespace fixes its shard count and limits, later ones read them; a retention given
 * is stored for the whole namespace.
 */
export async function openNamespace(redis: Redis | Cluster, options: NamespaceOptions): Promise<OpenedNamespace> {
  const prefix = options.prefix ?? 'durabull';
  assertName('namespace', options.namespace);
  assertName('prefix', prefix);
  const requested = options.shards ?? 16;
  if (!Number.isInteger(requested) || requested < 1 || requested > 1024) {
    throw new TypeError(`Invalid shards: ${JSON.stringify(options.shards)} (an integer from 1 to 1024)`);
  }
  const requestedLimits = { ...DEFAULT_NAMESPACE_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(requestedLimits)) {
    if (!Number.isInteger(value) || value < 0) throw new TypeError(`Invalid limits.${name}: ${JSON.stringify(value)} (an integer >= 0)`);
  }
  if (options.retention !== undefined) assertRetention(options.retention);
  if (options.create === false) return readNamespace(redis, prefix, options);
  const probe = new NamespaceKeys(prefix, options.namespace, requested);
  // The first client of a namespace fixes its settings; later ones read them.
  const settings: Record<string, number> = { shards: requested, ...requestedLimits };
  await Promise.all(Object.entries(settings).map(([field, value]) => redis.hsetnx(probe.meta, field, value)));
  const stored = await redis.hmget(probe.meta, ...Object.keys(settings));
  const values = Object.fromEntries(Object.keys(settings).map((field, i) => [field, Number(stored[i])]));
  const limits = Object.fromEntries(Object.keys(requestedLimits).map((field) => [field, values[field]!])) as unknown as NamespaceLimits;
  await storeRetention(redis, new NamespaceKeys(prefix, options.namespace, values['shards']!), options.retention);
  return { keys: new NamespaceKeys(prefix, options.namespace, values['shards']!), limits: Object.freeze(limits) };
}

/** Reads an existing namespace's settings without writing anything. @throws NamespaceNotFoundError */
async function readNamespace(redis: Redis | Cluster, prefix: string, options: NamespaceOptions): Promise<OpenedNamespace> {
  for (const option of ['shards', 'limits', 'retention'] as const) {
    if (options[option] !== undefined) throw new TypeError(`Invalid ${option}: a namespace opened with create: false keeps its settings`);
  }
  const fields = ['shards', ...Object.keys(DEFAULT_NAMESPACE_LIMITS)];
  const stored = await redis.hmget(new NamespaceKeys(prefix, options.namespace, 1).meta, ...fields);
  if (stored[0] === null) throw new NamespaceNotFoundError(options.namespace);
  const values = Object.fromEntries(fields.map((field, i) => [field, stored[i] === null ? undefined : Number(stored[i])]));
  const limits = Object.fromEntries(
    Object.entries(DEFAULT_NAMESPACE_LIMITS).map(([field, fallback]) => [field, values[field] ?? fallback]),
  ) as unknown as NamespaceLimits;
  return { keys: new NamespaceKeys(prefix, options.namespace, values['shards']!), limits: Object.freeze(limits) };
}
