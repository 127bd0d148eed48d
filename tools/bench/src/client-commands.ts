/**
 * Counts, on the client side, the Redis commands and round trips of every ioredis connection of
 * this process. INFO commandstats cannot give round trips: it also counts the commands a Lua
 * script runs inside Redis, and every other client of the same server. Counting in the process
 * that runs both the client and the workers (the latency scenario) gives what crossed the wire.
 */
import { Redis } from 'ioredis';

/** Commands and round trips sent so far (or between two snapshots). */
export interface ClientCommands {
  /** Commands written, pipelined ones included. */
  commands: number;
  /** Writes: a command on its own, or a whole pipeline/MULTI. */
  roundTrips: number;
  /** Commands by name. */
  byCommand: Record<string, number>;
  /** EVALSHA and FCALL calls by script name (BullMQ's `defineCommand` names, Durabull's scripts). */
  byScript: Record<string, number>;
}

interface CommandLike {
  name: string;
  args: unknown[];
}

/** Script names by SHA1, learned from the connections' `defineCommand` registry. */
const scriptNames = new Map<string, string>();

function scriptName(connection: unknown, sha: unknown): string {
  if (typeof sha !== 'string') return 'unknown';
  let name = scriptNames.get(sha);
  if (name === undefined) {
    const scripts = (connection as { scriptsSet?: Record<string, { sha: string }> }).scriptsSet ?? {};
    for (const [scriptName, script] of Object.entries(scripts)) scriptNames.set(script.sha, scriptName);
    name = scriptNames.get(sha) ?? 'unknown';
  }
  return name;
}

/** Script names by function name, so that counting costs a lookup, as for EVALSHA. */
const functionScriptNames = new Map<string, string>();

/** A function of Durabull's library (`durabull_<hash>_<script>`) by its script name. */
function functionScriptName(fn: unknown): string {
  if (typeof fn !== 'string') return 'unknown';
  let name = functionScriptNames.get(fn);
  if (name === undefined) functionScriptNames.set(fn, (name = fn.replace(/^durabull_[0-9a-f]+_/, '')));
  return name;
}

let totals: ClientCommands | undefined;

/** Starts counting (once per process; later calls do nothing). */
export function installCommandCounter(): void {
  if (totals) return;
  const counts: ClientCommands = { commands: 0, roundTrips: 0, byCommand: {}, byScript: {} };
  totals = counts;
  const pipelines = new WeakSet<object>();
  const prototype = Redis.prototype as unknown as { sendCommand(command: CommandLike, stream?: { isPipeline?: boolean }): unknown };
  const send = prototype.sendCommand;
  prototype.sendCommand = function (this: unknown, command: CommandLike, stream?: { isPipeline?: boolean }, ...rest: unknown[]) {
    const name = command.name.toLowerCase();
    // The benchmark's own INFO snapshots are not part of what it measures.
    if (name !== 'info') {
      counts.commands++;
      counts.byCommand[name] = (counts.byCommand[name] ?? 0) + 1;
      if (name === 'evalsha' || name === 'fcall') {
        const script = name === 'evalsha' ? scriptName(this, command.args[0]) : functionScriptName(command.args[0]);
        counts.byScript[script] = (counts.byScript[script] ?? 0) + 1;
      }
      // A pipeline passes the same stream object for each of its commands and writes them at once.
      if (!stream?.isPipeline) counts.roundTrips++;
      else if (!pipelines.has(stream)) {
        pipelines.add(stream);
        counts.roundTrips++;
      }
    }
    return (send as (...args: unknown[]) => unknown).call(this, command, stream, ...rest);
  };
}

/** The counts so far; zeros before {@link installCommandCounter}. */
export function clientCommands(): ClientCommands {
  return totals
    ? { ...totals, byCommand: { ...totals.byCommand }, byScript: { ...totals.byScript } }
    : { commands: 0, roundTrips: 0, byCommand: {}, byScript: {} };
}

function perUnit(before: Record<string, number>, after: Record<string, number>, units: number): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) {
    const delta = count - (before[name] ?? 0);
    if (delta > 0) result[name] = delta / units;
  }
  return Object.fromEntries(Object.entries(result).sort((a, b) => b[1] - a[1]));
}

/** What was sent between two snapshots, per unit of work. */
export function clientCommandsPer(before: ClientCommands, after: ClientCommands, units: number): ClientCommands {
  return {
    commands: (after.commands - before.commands) / units,
    roundTrips: (after.roundTrips - before.roundTrips) / units,
    byCommand: perUnit(before.byCommand, after.byCommand, units),
    byScript: perUnit(before.byScript, after.byScript, units),
  };
}

/** The sum of several processes' counts. */
export function sumClientCommands(list: readonly ClientCommands[]): ClientCommands {
  const sum: ClientCommands = { commands: 0, roundTrips: 0, byCommand: {}, byScript: {} };
  for (const item of list) {
    sum.commands += item.commands;
    sum.roundTrips += item.roundTrips;
    for (const [name, count] of Object.entries(item.byCommand)) sum.byCommand[name] = (sum.byCommand[name] ?? 0) + count;
    for (const [name, count] of Object.entries(item.byScript)) sum.byScript[name] = (sum.byScript[name] ?? 0) + count;
  }
  return sum;
}
