import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A Redis primary with one replica, both `redis-server` processes of the benchmark's own on free
 * loopback ports, without persistence (as the benchmark's main Redis). For the replication
 * scenario, which measures what waiting for the replica costs.
 */
export class ReplicaPair {
  private constructor(
    private readonly servers: ChildProcess[],
    /** The servers' working directory (the replica writes the RDB of its first sync there). */
    private readonly dir: string,
    readonly primaryUrl: string,
    readonly replicaUrl: string,
  ) {}

  /** Starts both servers; resolves once the replica is in sync with the primary. */
  static async start(): Promise<ReplicaPair> {
    const servers: ChildProcess[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'durabull-bench-replica-'));
    try {
      const primaryPort = await freePort();
      servers.push(startServer(primaryPort, dir, []));
      const replicaPort = await freePort();
      servers.push(startServer(replicaPort, dir, ['--replicaof', '127.0.0.1', String(primaryPort)]));
      const pair = new ReplicaPair(servers, dir, `redis://127.0.0.1:${primaryPort}`, `redis://127.0.0.1:${replicaPort}`);
      await pair.waitForReplica();
      return pair;
    } catch (error) {
      await stopServers(servers);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private async waitForReplica(): Promise<void> {
    const primary = new Redis(this.primaryUrl, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    // Refused until the server listens: the loop below waits for it.
    primary.on('error', () => undefined);
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const info = await primary.info('replication').catch(() => '');
        if (/^slave0:.*state=online/m.test(info)) return;
        if (Date.now() > deadline) throw new Error(`bench: the replica of ${this.primaryUrl} did not come online:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      primary.disconnect();
    }
  }

  async stop(): Promise<void> {
    await stopServers(this.servers);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts a redis-server of the benchmark's own (no persistence unless `extra` turns it on). */
export function startServer(port: number, dir: string, extra: string[]): ChildProcess {
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--dbfilename', `dump-${port}.rdb`,
      '--save', '',
      '--appendonly', 'no',
      '--repl-diskless-sync-delay', '0',
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  child.on('error', () => undefined);
  return child;
}

/** Kills servers started by {@link startServer} and waits for them to exit. */
export async function stopServers(servers: ChildProcess[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }),
  );
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
