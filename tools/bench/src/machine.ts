import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Redis } from 'ioredis';
import { redisVersion } from './redis-stats';

/** The machine a benchmark ran on, as BENCHMARKS.md reports it. */
export interface MachineInfo {
  /** Logical CPUs this process may use (`nproc`). */
  nproc: number;
  /** `model name` from /proc/cpuinfo (else what Node reports). */
  cpuModel: string;
  /** Total RAM in bytes. */
  memoryBytes: number;
  platform: string;
  node: string;
  redis: string;
  bullmq: string;
  /** 1-minute load average when the run started: other work on the machine skews results. */
  loadAverage1m: number;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model.trim() ?? 'unknown';
}

function bullmqVersion(): string {
  try {
    return (require('bullmq/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Facts about this machine and the Redis `redis` talks to. */
export async function machineInfo(redis: Redis): Promise<MachineInfo> {
  return {
    nproc: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryBytes: os.totalmem(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: await redisVersion(redis),
    bullmq: bullmqVersion(),
    loadAverage1m: os.loadavg()[0] ?? 0,
  };
}
