import { clientCommands, clientCommandsPer, sumClientCommands } from './client-commands';
import type { ClientCommands } from './client-commands';
import type { BenchContext } from './context';
import type { WorkerHost } from './hosts';
import { commandStats, commandUsage } from './redis-stats';
import type { CommandUsage } from './redis-stats';

/** Redis commands per unit of work, seen from both ends. */
export interface CommandMeasurement {
  /** INFO commandstats: every command Redis ran, those inside Lua scripts and other clients' included. */
  server: CommandUsage;
  /** What this process and `hosts` sent: commands and round trips. */
  client: ClientCommands;
}

async function clientTotals(hosts: readonly WorkerHost[]): Promise<ClientCommands> {
  return sumClientCommands([clientCommands(), ...(await Promise.all(hosts.map((host) => host.commands())))]);
}

/** Runs `work` (worth `units` workflows or chains) and counts the Redis commands it caused. */
export async function withCommands<T>(
  ctx: BenchContext,
  units: number,
  hosts: readonly WorkerHost[],
  work: () => Promise<T>,
): Promise<{ value: T; commands: CommandMeasurement }> {
  const clientBefore = await clientTotals(hosts);
  const serverBefore = await commandStats(ctx.redis);
  const value = await work();
  const serverAfter = await commandStats(ctx.redis);
  const clientAfter = await clientTotals(hosts);
  const client = clientCommandsPer(clientBefore, clientAfter, units);
  return { value, commands: { server: commandUsage(serverBefore, serverAfter, units, client.byCommand), client } };
}

/** The measurement with the median round trips: one repetition standing for all (they barely differ). */
export function medianMeasurement(list: readonly CommandMeasurement[]): CommandMeasurement {
  if (list.length === 0) throw new Error('No measurements');
  return [...list].sort((x, y) => x.client.roundTrips - y.client.roundTrips)[Math.floor(list.length / 2)]!;
}
