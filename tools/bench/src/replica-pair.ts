import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServers, waitForServer } from './own-servers';
import type { OwnServer } from './own-servers';

/**
 * A Redis primary with one replica, both `redis-server` processes of the benchmark's own on free
 * loopback ports, without persistence (as the benchmark's main Redis). For the replication
 * scenario, which measures what waiting for the replica costs.
 */
export class ReplicaPair {
  private constructor(
    private readonly servers: OwnServer[],
    /** The servers' working directory (the replica writes the RDB of its first sync there). */
    private readonly dir: string,
    readonly primaryUrl: string,
    readonly replicaUrl: string,
  ) {}

  /** Starts both servers; resolves once the replica is in sync with the primary. */
  static async start(): Promise<ReplicaPair> {
    const servers: OwnServer[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'durabull-bench-replica-'));
    try {
      const primary = await startServer(dir, () => []);
      servers.push(primary);
      const replica = await startServer(dir, () => ['--replicaof', '127.0.0.1', String(primary.port)]);
      servers.push(replica);
      await waitForServer(primary, async (redis) => /^slave0:.*state=online/m.test(await redis.info('replication')), 'see its replica online');
      return new ReplicaPair(servers, dir, `redis://127.0.0.1:${primary.port}`, `redis://127.0.0.1:${replica.port}`);
    } catch (error) {
      await stopServers(servers);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    await stopServers(this.servers);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
