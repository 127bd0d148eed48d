// Reports how much Durabull work each primary of the cluster did (evidence that the suite ran on
// the cluster and that runs spread over its slots), then stops the cluster global-setup.mjs started.
//
// DURABULL_DEBUG_HANDLES=1 also lists what still keeps the process alive before the cluster stops
// and 3 s after (Jest runs in band on small machines, so the tests' leftovers are in this process;
// open sockets are matched with the node's CLIENT LIST to name their connection).
import { formatNodes, sendCommand } from '../../tools/scripts/redis-cluster.mjs';

/** `calls` of one command in INFO commandstats (commands run from Lua scripts count too). */
function calls(stats, name) {
  return Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

async function reportOpenResources(when) {
  process.stderr.write(`cluster tests: active resources ${when}: ${process.getActiveResourcesInfo().join(', ') || 'none'}\n`);
  for (const socket of process._getActiveHandles().filter((handle) => handle.remotePort)) {
    const list = await sendCommand(socket.remotePort, ['CLIENT', 'LIST']).catch((error) => error.message);
    const client = String(list)
      .split('\n')
      .find((line) => line.includes(`addr=${socket.localAddress}:${socket.localPort} `));
    process.stderr.write(`  socket to :${socket.remotePort} ${client ?? '(not a client of that node)'}\n`);
  }
}

export default async function globalTeardown() {
  const cluster = globalThis.__durabullRedisCluster;
  if (!cluster) return;
  globalThis.__durabullRedisCluster = undefined;
  const debug = Boolean(process.env.DURABULL_DEBUG_HANDLES);
  try {
    if (debug) await reportOpenResources('after the suite');
    const lines = await Promise.all(
      cluster.nodes.map(async ({ host, port }) => {
        const stats = await sendCommand(port, ['INFO', 'commandstats']);
        return `  ${host}:${port}  fcall=${calls(stats, 'fcall')} evalsha=${calls(stats, 'evalsha')} xadd(history)=${calls(stats, 'xadd')} bzpopmin=${calls(stats, 'bzpopmin')}`;
      }),
    );
    process.stderr.write(`\ncluster tests: commands per primary of ${formatNodes(cluster.nodes)}\n${lines.join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`cluster tests: could not read INFO commandstats: ${error.message}\n`);
  } finally {
    await cluster.stop();
    if (debug) setTimeout(() => void reportOpenResources('3 s after the cluster stopped'), 3_000).unref();
  }
}
