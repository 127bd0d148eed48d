import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { NamespaceKeys } from './keys';
import { jobSpec, parseTask } from './tasks';
import type { JobSpec, WorkflowTaskJobData } from './tasks';
import type { StreamEntry } from './replies';

/** BullMQ job options of every Durabull task: finished jobs are deleted, the engine keeps state. */
export const TASK_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: true,
  // A processor throws only when Redis itself failed; the outbox sweep is the last resort.
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
} as const;

/**
 * How long a sweep leaves a task alone once it found its job waiting in its queue (not fetched):
 * a backlog is not re-examined every second, while a job fetched meanwhile by a worker that dies
 * is still found within a few seconds.
 */
export const WAITING_RECHECK_MS = 3_000;

/** How long after a held job's lock would expire a sweep looks at it again (Redis expiry is not exact). */
const LOCK_EXPIRY_MARGIN_MS = 50;

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

  /**
   * Adds the jobs of `members` (outbox descriptors of one shard) with delays measured on `now`.
   * `firstTaskHistory` goes with the workflow task among them (a run's first: see
   * {@link WorkflowTaskJobData.history}).
   */
  async dispatch(shard: number, entries: Array<{ member: string; due: number }>, now: number, firstTaskHistory?: StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const byQueue = new Map<Queue, Array<{ spec: JobSpec; delay: number }>>();
    for (const { member, due } of entries) {
      const task = parseTask(member, shard);
      const spec = jobSpec(this.keys, task);
      if (firstTaskHistory && task.kind === 'workflow') (spec.data as WorkflowTaskJobData).history = firstTaskHistory;
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

  /**
   * Recovers outbox tasks a sweep found overdue (`members`, of one shard): dispatches again a task
   * whose job is gone (its dispatcher died before adding it, or it was deleted), and one whose job
   * was fetched by a worker that then died before starting it (the job is active but its BullMQ
   * lock, renewed by a live worker every second, has expired): the stuck copy is removed first so
   * that the new one gets the same job id. A job still waiting in its queue (a backlog) is left
   * alone and looked at again only after {@link WAITING_RECHECK_MS}; one held by a worker is
   * looked at again when its lock would expire (`graceMs` is the sweep's: a task is looked at once
   * it is that late), so that a job fetched by a worker that died is dispatched again by the first
   * sweep after its lock lapsed. A run's first task queued on its task queue's first-task list
   * (`NamespaceKeys.firstTasks`) has no job: while that list holds tasks it may still be among
   * them and counts as waiting; once the list is empty, a worker took it and died before taking
   * it in Redis (a live one takes it within milliseconds), and it is dispatched as a job.
   */
  async recover(shard: number, members: string[], now: number, graceMs: number): Promise<void> {
    const byQueue = new Map<Queue, Array<{ member: string; jobId: string; firstTasks?: string }>>();
    for (const member of members) {
      const task = parseTask(member, shard);
      const spec = jobSpec(this.keys, task);
      const queue = this.queue(spec.prefix, spec.queueName);
      const list = byQueue.get(queue) ?? [];
      const firstTasks = task.kind === 'workflow' && !task.queue.startsWith('@') ? this.keys.firstTasks(task.queue) : undefined;
      list.push({ member, jobId: spec.jobId, firstTasks });
      byQueue.set(queue, list);
    }
    const lost: Array<{ member: string; due: number }> = [];
    const waiting: string[] = [];
    const held: Array<number | string> = [];
    await Promise.all(
      [...byQueue].map(async ([queue, jobs]) => {
        // One round trip per queue: every key of a BullMQ queue shares its prefix's hash tag.
        const pipeline = this.redis.pipeline();
        for (const { jobId } of jobs) {
          pipeline.exists(queue.toKey(jobId)).pttl(`${queue.toKey(jobId)}:lock`).lpos(queue.toKey('active'), jobId);
        }
        // Workflow tasks of one queue: one task queue, so one first-task list.
        const firstTasks = jobs[0]!.firstTasks;
        if (firstTasks) pipeline.llen(firstTasks);
        const replies = (await pipeline.exec()) ?? [];
        const values = replies.map(([error, value]) => {
          if (error) throw error;
          return value;
        });
        const firstTasksQueued = firstTasks !== undefined && (values[3 * jobs.length] as number) > 0;
        await Promise.all(
          jobs.map(async ({ member, jobId }, i) => {
            const [exists, lockTtl, activeAt] = values.slice(3 * i, 3 * i + 3) as [number, number, number | null];
            if (exists === 0 && firstTasksQueued) {
              waiting.push(member);
            } else if (exists === 0) {
              lost.push({ member, due: 0 });
            } else if (activeAt === null) {
              waiting.push(member);
            } else if (lockTtl === -2) {
              // Fetched by a worker that died before starting it; nobody else can take it.
              await queue.remove(jobId);
              lost.push({ member, due: 0 });
            } else if (lockTtl >= 0) {
              held.push(now + lockTtl + LOCK_EXPIRY_MARGIN_MS - graceMs, member);
            }
          }),
        );
      }),
    );
    if (held.length > 0) await this.redis.zadd(this.keys.shard(shard).outbox, 'XX', ...held);
    if (waiting.length > 0) {
      await this.redis.zadd(this.keys.shard(shard).outbox, 'XX', ...waiting.flatMap((member) => [now + WAITING_RECHECK_MS, member]));
    }
    await this.dispatch(shard, lost, now);
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
