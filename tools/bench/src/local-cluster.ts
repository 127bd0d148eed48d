import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startServer, stopServers } from './replica-pair';

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
    private readonly servers: ChildProcess[],
    private readonly dir: string,
    readonly ports: number[],
  ) {}

  static async start(primaries = 3): Promise<LocalCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'durabull-bench-cluster-'));
    const servers: ChildProcess[] = [];
    try {
      const ports: number[] = [];
      while (ports.length < primaries) ports.push(await freeNodePort(ports));
      for (const port of ports) {
        servers.push(
          startServer(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000']),
        );
      }
      for (const port of ports) await waitFor(port, async (redis) => (await redis.ping()) === 'PONG', 'answer PING');
      await promisify(execFile)('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-yes']);
      for (const port of ports) {
        await waitFor(port, async (redis) => /cluster_state:ok/.test(String(await redis.call('CLUSTER', 'INFO'))), 'reach cluster_state:ok');
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

async function waitFor(port: number, ready: (redis: Redis) => Promise<boolean>, what: string): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null, retryStrategy: () => 50, lazyConnect: false });
  redis.on('error', () => undefined);
  try {
    const deadline = Date.now() + 20_000;
    while (!(await ready(redis).catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`bench: cluster node 127.0.0.1:${port} did not ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    redis.disconnect();
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free loopback port whose bus port (+10000) is free too. */
async function freeNodePort(taken: number[]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.some((other) => Math.abs(other - port) % BUS_OFFSET === 0)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + BUS_OFFSET))) return port;
  }
  throw new Error('bench: found no free loopback port pair (port and port + 10000) for a cluster node');
}
