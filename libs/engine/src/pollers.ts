// Which workers poll a task queue: each worker records itself, every maintenance round, in a hash
// of its namespace per task queue, `P:{ns}:pollers:<taskQueue>` (worker id -> JSON
// `{ identity, lastSeen }`), beside the shards' liveness hashes (`P:{ns:s}:workers`) that say
// whether it is still alive. `describeTaskQueue` reads both and writes nothing.
import type { Cluster, Redis } from 'ioredis';
import type { NamespaceKeys } from './keys';

/** How long an entry of a worker that stopped refreshing it is kept (and the hash, once none does). */
export const POLLER_RETENTION_MS = 5 * 60_000;

/** The hash of the workers that poll `taskQueue`: worker id -> `{ identity, lastSeen }` as JSON. */
export function pollersKey(keys: NamespaceKeys, taskQueue: string): string {
  return `${keys.prefix}:{${keys.namespace}}:pollers:${taskQueue}`;
}

/** One worker of a task queue, as {@link describeTaskQueue} reports it. */
export interface TaskQueuePoller {
  /** The worker's id (the key of its liveness entries). */
  workerId: string;
  /** The worker's identity option (`<pid>@<host>...` by default). */
  identity: string;
  /** When it last recorded itself (its clock), about every second while it runs. */
  lastSeen: Date;
  /**
   * `live`: its liveness entry holds; `dead`: its entry expired or is being recovered (it crashed
   * or lost Redis); `stopped`: it shut down.
   */
  state: 'live' | 'dead' | 'stopped';
  /** The activity types it runs. */
  activityTypes: string[];
}

interface PollerEntry {
  identity: string;
  lastSeen: number;
  stopped?: true;
  activityTypes?: string[];
}

/**
 * Records that `workerId` polls `taskQueue` (called by each maintenance round; `stopped` at
 * shutdown), and forgets entries not refreshed for {@link POLLER_RETENTION_MS}.
 */
export async function recordPoller(
  redis: Redis | Cluster,
  keys: NamespaceKeys,
  poller: { taskQueue: string; workerId: string; identity: string; activityTypes?: readonly string[]; stopped?: boolean },
): Promise<void> {
  const key = pollersKey(keys, poller.taskQueue);
  const now = Date.now();
  const entry: PollerEntry = {
    identity: poller.identity,
    lastSeen: now,
    ...(poller.stopped ? { stopped: true as const } : {}),
    activityTypes: [...(poller.activityTypes ?? [])],
  };
  const [, , [, all]] = (await redis
    .multi()
    .hset(key, poller.workerId, JSON.stringify(entry))
    .pexpire(key, POLLER_RETENTION_MS)
    .hgetall(key)
    .exec()) as [[null, number], [null, number], [null, Record<string, string>]];
  const stale = Object.entries(all ?? {})
    .filter(([, value]) => (parseEntry(value)?.lastSeen ?? 0) < now - POLLER_RETENTION_MS)
    .map(([workerId]) => workerId);
  if (stale.length > 0) await redis.hdel(key, ...stale);
}

function parseEntry(value: string): PollerEntry | undefined {
  try {
    const entry = JSON.parse(value) as PollerEntry;
    return typeof entry.lastSeen === 'number' ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The workers that polled `taskQueue` in the last {@link POLLER_RETENTION_MS}, live ones first
 * (then by identity), each with its state from its liveness entry in shard 0 (every worker
 * refreshes its entry in every shard). Writes nothing.
 */
export async function describeTaskQueue(redis: Redis | Cluster, keys: NamespaceKeys, taskQueue: string): Promise<TaskQueuePoller[]> {
  const [entries, liveness, time] = await Promise.all([
    redis.hgetall(pollersKey(keys, taskQueue)),
    redis.hgetall(keys.shard(0).workers),
    redis.time(),
  ]);
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const order = { live: 0, dead: 1, stopped: 2 } as const;
  return Object.entries(entries)
    .flatMap(([workerId, value]) => {
      const entry = parseEntry(value);
      if (!entry) return [];
      const expiry = liveness[workerId];
      const alive = expiry !== undefined && !expiry.startsWith('d') && Number(expiry) > now;
      const state: TaskQueuePoller['state'] = entry.stopped ? 'stopped' : alive ? 'live' : 'dead';
      const activityTypes = Array.isArray(entry.activityTypes) ? entry.activityTypes.map(String) : [];
      return [{ workerId, identity: String(entry.identity), lastSeen: new Date(entry.lastSeen), state, activityTypes }];
    })
    .sort((a, b) => order[a.state] - order[b.state] || a.identity.localeCompare(b.identity) || a.workerId.localeCompare(b.workerId));
}
