import { clientCommands, clientCommandsPer, sumClientCommands } from './client-commands';
import type { ClientCommands } from './client-commands';
import type { BenchContext } from './context';
import type { WorkerHost } from './hosts';
import { aofSize, commandStats, commandUsage, redisCpuMicros } from './redis-stats';
import type { CommandUsage } from './redis-stats';
import { comparison } from './report';
import type { ResultRow } from './report';
import { median } from './stats';

/** Redis commands per unit of work, seen from both ends. */
export interface CommandMeasurement {
  /** INFO commandstats: every command Redis ran, those inside Lua scripts and other clients' included. */
  server: CommandUsage;
  /** What this process and `hosts` sent: commands and round trips. */
  client: ClientCommands;
  /** CPU time spent per unit of work, in microseconds. */
  cpu: CpuUsage;
  /** Bytes appended to the AOF per unit of work. Only on a Redis with AOF on. */
  aofBytes?: number;
}

/** CPU time per unit of work: what the work costs the machine, whatever else competes for it. */
export interface CpuUsage {
  /** The Redis server process. */
  redis: number;
  /** This process and `hosts` (the client and the workers). */
  node: number;
}

/** CPU time (user + system) this process has used so far, in microseconds. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function nodeCpuMicros(hosts: readonly WorkerHost[]): Promise<number> {
  return cpuMicros() + (await Promise.all(hosts.map((host) => host.cpu()))).reduce((sum, micros) => sum + micros, 0);
}

async function clientTotals(hosts: readonly WorkerHost[]): Promise<ClientCommands> {
  return sumClientCommands([clientCommands(), ...(await Promise.all(hosts.map((host) => host.commands())))]);
}

/** Runs `work` (worth `units` workflows or chains) and counts the Redis commands and CPU time it caused. */
export async function withCommands<T>(
  ctx: BenchContext,
  units: number,
  hosts: readonly WorkerHost[],
  work: () => Promise<T>,
): Promise<{ value: T; commands: CommandMeasurement }> {
  const clientBefore = await clientTotals(hosts);
  const [serverBefore, redisCpuBefore, nodeCpuBefore, aofBefore] = await Promise.all([
    commandStats(ctx.redis),
    redisCpuMicros(ctx.redis),
    nodeCpuMicros(hosts),
    aofSize(ctx.redis),
  ]);
  const value = await work();
  const [serverAfter, redisCpuAfter, nodeCpuAfter, aofAfter] = await Promise.all([
    commandStats(ctx.redis),
    redisCpuMicros(ctx.redis),
    nodeCpuMicros(hosts),
    aofSize(ctx.redis),
  ]);
  const clientAfter = await clientTotals(hosts);
  const client = clientCommandsPer(clientBefore, clientAfter, units);
  const cpu = { redis: (redisCpuAfter - redisCpuBefore) / units, node: (nodeCpuAfter - nodeCpuBefore) / units };
  const commands: CommandMeasurement = { server: commandUsage(serverBefore, serverAfter, units, client.byCommand), client, cpu };
  if (aofBefore !== undefined && aofAfter !== undefined) commands.aofBytes = (aofAfter - aofBefore) / units;
  return { value, commands };
}

/** The measurement with the median round trips: one repetition standing for all (they barely differ). */
export function medianMeasurement(list: readonly CommandMeasurement[]): CommandMeasurement {
  if (list.length === 0) throw new Error('No measurements');
  return [...list].sort((x, y) => x.client.roundTrips - y.client.roundTrips)[Math.floor(list.length / 2)]!;
}

/**
 * The row of AOF bytes per workflow (median of the repetitions) when the benchmark runs on its
 * durable Redis; none without AOF.
 */
export function aofBytesRows(key: string, metric: string, durabull: readonly CommandMeasurement[], baseline: readonly CommandMeasurement[]): ResultRow[] {
  const d = durabull.flatMap((m) => (m.aofBytes === undefined ? [] : [m.aofBytes]));
  const b = baseline.flatMap((m) => (m.aofBytes === undefined ? [] : [m.aofBytes]));
  if (d.length === 0 || b.length === 0) return [];
  return [comparison(key, metric, 'B', median(d), median(b))];
}
