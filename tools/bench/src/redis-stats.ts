import type { Redis } from 'ioredis';

/** Calls per command name, from `INFO commandstats`. */
export type CommandCounts = Record<string, number>;

/** `INFO commandstats`: calls per command name, and the microseconds Redis spent in each. */
export interface CommandStats {
  calls: CommandCounts;
  usec: CommandCounts;
}

/** Commands that run Lua on the server: one round trip each, however much work they do. */
const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/** Parses the `cmdstat_<name>:calls=<n>,usec=<n>,...` lines of `INFO commandstats`. */
export function parseCommandStats(info: string): CommandStats {
  const stats: CommandStats = { calls: {}, usec: {} };
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match) {
      stats.calls[match[1]!] = Number(match[2]);
      stats.usec[match[1]!] = Number(match[3]);
    }
  }
  return stats;
}

/** Server-wide command statistics now. */
export async function commandStats(redis: Redis): Promise<CommandStats> {
  return parseCommandStats(await redis.info('commandstats'));
}

/** What ran between two {@link commandCounts} snapshots, per unit of work. */
export interface CommandUsage {
  /** Commands per unit (our own `INFO` calls excluded). */
  total: number;
  /** EVAL/EVALSHA/FCALL calls per unit. */
  scripts: number;
  /** `scripts / total`. */
  scriptShare: number;
  /**
   * Microseconds Redis spent executing commands per unit (a script's time includes its inner
   * calls, which are also listed under their own names, so only top-level commands are summed).
   */
  usec: number;
  /** Calls per unit of each command that ran, most frequent first. */
  byCommand: CommandCounts;
}

/**
 * The commands that ran between `before` and `after`, divided by `units` (workflows or chains).
 * `INFO commandstats` is server-wide: anything else using the same Redis meanwhile is counted too.
 * `clientSent` (commands by name that clients sent) tells top-level commands from calls made
 * inside scripts, for the time spent.
 */
export function commandUsage(before: CommandStats, after: CommandStats, units: number, clientSent: CommandCounts = {}): CommandUsage {
  const byCommand: CommandCounts = {};
  let total = 0;
  let scripts = 0;
  let usec = 0;
  for (const [name, calls] of Object.entries(after.calls)) {
    const delta = calls - (before.calls[name] ?? 0);
    // The snapshots are taken with INFO; they are not part of the work measured.
    if (delta <= 0 || name === 'info') continue;
    byCommand[name] = delta / units;
    total += delta;
    if (SCRIPT_COMMANDS.has(name)) scripts += delta;
    const spent = (after.usec[name] ?? 0) - (before.usec[name] ?? 0);
    if (SCRIPT_COMMANDS.has(name)) usec += spent;
    // Calls of this name beyond what clients sent ran inside scripts: already in the scripts' time.
    else if (clientSent[name] !== undefined) usec += (spent / delta) * Math.min(delta, clientSent[name] * units);
  }
  const sorted = Object.fromEntries(Object.entries(byCommand).sort((a, b) => b[1] - a[1]));
  return { total: total / units, scripts: scripts / units, scriptShare: total === 0 ? 0 : scripts / total, usec: usec / units, byCommand: sorted };
}

/** `used_memory` from `INFO memory`: bytes Redis has allocated for data and overhead. */
export async function usedMemory(redis: Redis): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  if (!match) throw new Error('INFO memory has no used_memory line');
  return Number(match[1]);
}

/**
 * CPU time the Redis server process has used (`INFO cpu`: user + system, all its threads), in
 * microseconds. Unlike commandstats' usec, which is wall-clock time inside commands and grows
 * when the machine's other processes take the core Redis runs on, this is work done.
 */
export async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return Math.round((seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6);
}

/**
 * The size of the append-only file in bytes (`INFO persistence`: aof_current_size), or undefined
 * when the server has AOF off. It only grows while the AOF is not rewritten: the benchmark's
 * durable Redis never rewrites it on its own (durable-redis.ts).
 */
export async function aofSize(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('persistence');
  if (!/^aof_enabled:1/m.test(info)) return undefined;
  return Number(/^aof_current_size:(\d+)/m.exec(info)?.[1] ?? NaN);
}

/** `redis_version` from `INFO server`. */
export async function redisVersion(redis: Redis): Promise<string> {
  return /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? 'unknown';
}

/**
 * Deletes every key matching `pattern` (SCAN + UNLINK in batches): the baseline's queues and
 * counters live under one random prefix.
 */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
