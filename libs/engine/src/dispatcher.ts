import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { NamespaceKeys } from './keys';
import { jobSpec, parseTask } from './tasks';
import type { JobSpec } from './tasks';

/** BullMQ job options of every Durabull task: finished jobs are deleted, the engine keeps state. */
export const TASK_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: true,
  // A processor throws only when Redis itself failed; the outbox sweep is the last resort.
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
} as const;

/**
 * Turns committed outbox descriptors into BullMQ jobs. Adds are idempotent (deterministic job
 * ids), so a descriptor dispatched twice, by its committer and by a sweep, yields one job.
 */
export class Dispatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly keys: NamespaceKeys,
    private readonly redis: Redis | Cluster,
  ) {}

  queue(prefix: string, name: string): Queue {
    const id = `${prefix}|${name}`;
    let queue = this.queues.get(id);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix, defaultJobOptions: TASK_JOB_OPTIONS });
      // Errors surface on the add() that hit them; the queue's own 'error' event would be unhandled.
      queue.on('error', () => undefined);
      this.queues.set(id, queue);
    }
    return queue;
  }

  /** Adds the jobs of `members` (outbox descriptors of one shard) with delays measured on `now`. */
  async dispatch(shard: number, entries: Array<{ member: string; due: number }>, now: number): Promise<void> {
    if (entries.length === 0) return;
    const byQueue = new Map<Queue, Array<{ spec: JobSpec; delay: number }>>();
    for (const { member, due } of entries) {
      const spec = jobSpec(this.keys, parseTask(member, shard));
      const queue = this.queue(spec.prefix, spec.queueName);
      const list = byQueue.get(queue) ?? [];
      list.push({ spec, delay: Math.max(0, due - now) });
      byQueue.set(queue, list);
    }
    await Promise.all(
      [...byQueue].map(([queue, jobs]) =>
        jobs.length === 1
          ? queue.add(jobs[0]!.spec.jobName, jobs[0]!.spec.data, { jobId: jobs[0]!.spec.jobId, delay: jobs[0]!.delay })
          : queue.addBulk(
              jobs.map(({ spec, delay }) => ({ name: spec.jobName, data: spec.data, opts: { ...TASK_JOB_OPTIONS, jobId: spec.jobId, delay } })),
            ),
      ),
    );
  }

  /** Removes queued jobs that can no longer run (best effort: a job that still runs is fenced). */
  async withdraw(shard: number, members: string[]): Promise<void> {
    await Promise.all(
      members.map(async (member) => {
        const spec = jobSpec(this.keys, parseTask(member, shard));
        try {
          await this.queue(spec.prefix, spec.queueName).remove(spec.jobId);
        } catch {
          // A locked (running) job cannot be removed; its start script rejects it anyway.
        }
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
