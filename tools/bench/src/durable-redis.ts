import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServers } from './own-servers';
import type { OwnServer } from './own-servers';

/** The AOF fsync policies the benchmark's durable mode measures. */
export const DURABILITY_POLICIES = ['always', 'everysec'] as const;
export type DurabilityPolicy = (typeof DURABILITY_POLICIES)[number];

/**
 * A throwaway redis-server of the benchmark's own with AOF on and `appendfsync <policy>`, in a
 * temporary directory on this machine's disk: the durable mode (`--durability`) runs every
 * scenario, Durabull and the raw chain alike, against it.
 *
 * Its AOF is never rewritten (`auto-aof-rewrite-percentage 0`). A rewrite forks a process that
 * serializes the whole dataset, everything both systems and earlier repetitions left, for up to a
 * second on this machine's two cores; it would land in whichever repetition runs when the file
 * has doubled and charge that side for it. What rewrites cost each system grows with the bytes it
 * appends per workflow, which the report gives instead (BENCHMARKS.md, "Durable mode"). So the
 * file only grows: a full run of every scenario appends about 0.8 GB to the temporary directory,
 * deleted when the run ends.
 */
export class DurableRedis {
  private constructor(
    private readonly server: OwnServer,
    private readonly dir: string,
    readonly url: string,
    readonly policy: DurabilityPolicy,
  ) {}

  static async start(policy: DurabilityPolicy): Promise<DurableRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'durabull-bench-aof-'));
    try {
      const server = await startServer(dir, () => ['--appendonly', 'yes', '--appendfsync', policy, '--auto-aof-rewrite-percentage', '0']);
      return new DurableRedis(server, dir, `redis://127.0.0.1:${server.port}`, policy);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    await stopServers([this.server]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
