import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startServer, stopServers } from './replica-pair';

/** The AOF fsync policies the benchmark's durable mode measures. */
export const DURABILITY_POLICIES = ['always', 'everysec'] as const;
export type DurabilityPolicy = (typeof DURABILITY_POLICIES)[number];

/**
 * A throwaway redis-server of the benchmark's own with AOF on and `appendfsync <policy>`, in a
 * temporary directory on this machine's disk: the durable mode (`--durability`) runs every
 * scenario, Durabull and the raw chain alike, against it.
 */
export class DurableRedis {
  private constructor(
    private readonly server: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    readonly policy: DurabilityPolicy,
  ) {}

  static async start(policy: DurabilityPolicy): Promise<DurableRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'durabull-bench-aof-'));
    const port = await freePort();
    const server = startServer(port, dir, ['--appendonly', 'yes', '--appendfsync', policy]);
    const durable = new DurableRedis(server, dir, `redis://127.0.0.1:${port}`, policy);
    try {
      await durable.waitUntilReady();
      return durable;
    } catch (error) {
      await durable.stop();
      throw error;
    }
  }

  private async waitUntilReady(): Promise<void> {
    const redis = new Redis(this.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const [, fsync] = ((await redis.config('GET', 'appendfsync').catch(() => [])) as string[]) ?? [];
        if (fsync === this.policy) return;
        if (Date.now() > deadline) throw new Error(`bench: the durable redis-server at ${this.url} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      redis.disconnect();
    }
  }

  async stop(): Promise<void> {
    await stopServers([this.server]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
