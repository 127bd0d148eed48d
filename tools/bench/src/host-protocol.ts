/** Messages between the benchmark and its worker processes (`worker-process.ts`), over Node IPC. */
import type { WorkerOptions } from '@durabull/sdk';

/** The Durabull worker settings a benchmark may tune (everything else stays at its default). */
export type WorkerTuning = Pick<
  WorkerOptions,
  'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'
>;

/** What a worker process runs until it is told to stop. */
export interface HostStartConfig {
  redisUrl: string;
  /** A Durabull worker for the benchmark workflows on this namespace and task queue. */
  durabull?: { namespace: string; taskQueue: string; tuning?: WorkerTuning };
  /** The raw-BullMQ baseline's workers under this prefix. */
  raw?: { prefix: string; workflowConcurrency: number; activityConcurrency: number };
}

/** Memory of a worker process after a full garbage collection, in bytes. */
export interface HostMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** What a worker process can be asked. */
export type HostRequestBody = { type: 'start'; config: HostStartConfig } | { type: 'stop' } | { type: 'memory' } | { type: 'commands' } | { type: 'cpu' };

/** A request to a worker process; it answers with a {@link HostReply} of the same id. */
export type HostRequest = { id: number } & HostRequestBody;

/** A worker process's answer. */
export type HostReply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string };

/** Sent once by a worker process when it is ready for requests. */
export interface HostReady {
  type: 'ready';
}
