import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { portIsFree, startServer, stopServers, waitForServer } from './own-servers';
import type { OwnServer } from './own-servers';

/** A node's cluster bus listens on its port + 10000. */
const BUS_OFFSET = 10_000;

/**
 * A Redis Cluster of the benchmark's own: `primaries` cluster-enabled `redis-server` processes on
 * loopback, no persistence, slots split evenly by `redis-cli --cluster create` (as
 * tools/scripts/redis-cluster.mjs does for the `cluster` Jest project, which this TypeScript
 * program cannot import). For the cluster scenario, which checks how load spreads over primaries.
 */
export class LocalCluster {
  private constructor(
    private readonly servers: OwnServer[],
    private readonly dir: string,
    readonly ports: number[],
  ) {}

  static async start(primaries = 3): Promise<LocalCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'durabull-bench-cluster-'));
    const servers: OwnServer[] = [];
    try {
      const taken: number[] = [];
      const pickPort = async () => {
        const port = await freeNodePort(taken);
        taken.push(port);
        return port;
      };
      const options = (port: number) => ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000'];
      while (servers.length < primaries) servers.push(await startServer(dir, options, pickPort));
      const ports = servers.map((server) => server.port);
      await promisify(execFile)('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-yes']);
      for (const server of servers) {
        await waitForServer(server, async (redis) => /cluster_state:ok/.test(String(await redis.call('CLUSTER', 'INFO'))), 'reach cluster_state:ok');
      }
      return new LocalCluster(servers, dir, ports);
    } catch (error) {
      await stopServers(servers);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get nodes(): Array<{ host: string; port: number }> {
    return this.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  async stop(): Promise<void> {
    await stopServers(this.servers);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A free loopback port whose bus port (+10000) is free too, both below Linux's ephemeral range
 * (32768 and up), so that no connection made meanwhile takes one of them.
 */
async function freeNodePort(taken: number[]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 12_000 + Math.floor(Math.random() * 10_000);
    if (taken.some((other) => Math.abs(other - port) % BUS_OFFSET === 0)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + BUS_OFFSET))) return port;
  }
  throw new Error('bench: found no free loopback port pair (port and port + 10000) for a cluster node');
}
