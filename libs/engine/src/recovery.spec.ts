import { randomBytes, randomUUID } from 'node:crypto';
import { Worker as BullWorker } from 'bullmq';
import type { Redis } from 'ioredis';
import { EventType } from '@durabull/common';
import { RedisConnection } from './connection';
import { Engine } from './engine';
import { QueueNames } from './keys';
import { jobSpec, parseTask } from './tasks';

/**
 * Recovery of what dead processes leave behind, driven step by step on the engine: a job fetched
 * by a worker that died before starting it, a job that was never added, a backlog that must not be
 * duplicated, and workflow tasks routed to a dead worker's sticky queue.
 */
describe('Engine recovery', () => {
  let connection: RedisConnection;
  let engine: Engine;
  const bullWorkers: BullWorker[] = [];
  beforeEach(async () => {
    connection = RedisConnection.from();
    takerConnection = undefined;
    engine = await Engine.open(connection.client, { namespace: `test-${randomBytes(6).toString('hex')}`, shards: 2 });
  });
  afterEach(async () => {
    await Promise.all(bullWorkers.splice(0).map((worker) => worker.close(true)));
    await engine.purge();
    await engine.close();
    await connection.close();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function start(workflowId = 'recovered') {
    const ref = { workflowId, runId: randomUUID() };
    await engine.startWorkflow({
      ...ref,
      workflowType: 'Recovered',
      taskQueue: 'q',
      attributes: { workflowType: 'Recovered', workflowId, taskQueue: 'q', input: [] },
      workflowTaskTimeout: 10_000,
      runTimeout: 0,
    });
    return ref;
  }

  /**
   * Starts a run whose first task then has a BullMQ job: taken off the first-task list by a
   * worker that died, and dispatched as a job by a sweep.
   */
  async function startWithJob(workflowId = 'recovered') {
    const ref = await start(workflowId);
    expect((await engine.takeFirstTasks(taker(), 'q', 10, 1)).map((task) => task.runId)).toEqual([ref.runId]);
    await engine.sweep({ graceMs: 0 });
    return ref;
  }

  let takerConnection: Redis | undefined;
  /** A connection to take first tasks with (one per test: `connection.close()` closes it). */
  function taker(): Redis {
    takerConnection ??= connection.duplicate() as Redis;
    return takerConnection;
  }

  /** The run's shard outbox: descriptor -> due time. */
  async function outbox(workflowId: string): Promise<Map<string, number>> {
    const shard = engine.keys.shardOf(workflowId);
    const entries = await connection.client.zrange(engine.keys.shard(shard).outbox, 0, -1, 'WITHSCORES');
    const map = new Map<string, number>();
    for (let i = 0; i < entries.length; i += 2) map.set(entries[i]!, Number(entries[i + 1]));
    return map;
  }

  /** The BullMQ queue and job id of the run's one outbox task. */
  async function taskJob(workflowId: string) {
    const [member] = [...(await outbox(workflowId)).keys()];
    const spec = jobSpec(engine.keys, parseTask(member!, engine.keys.shardOf(workflowId)));
    return { member: member!, queue: engine.dispatcher.queue(spec.prefix, spec.queueName), jobId: spec.jobId };
  }

  /** A BullMQ worker of the task queue that fetches jobs by hand and never finishes them. */
  function fetcher(lockDuration: number): BullWorker {
    const worker = new BullWorker(QueueNames.workflow, null, {
      connection: connection.client.duplicate({ maxRetriesPerRequest: null }),
      prefix: engine.keys.taskQueuePrefix('q'),
      lockDuration,
      autorun: false,
    });
    bullWorkers.push(worker);
    return worker;
  }

  it('dispatches again a job that a worker fetched and died holding, once its lock has expired', async () => {
    const ref = await startWithJob();
    const { queue, jobId } = await taskJob(ref.workflowId);
    const job = await fetcher(400).getNextJob('dead-worker-token');
    expect(job?.id).toBe(jobId);
    expect(await queue.getJobState(jobId)).toBe('active');

    // While the lock holds, the holder may still start it: the sweep leaves it alone.
    await engine.sweep({ graceMs: 0 });
    expect(await queue.getJobState(jobId)).toBe('active');

    await sleep(500);
    await engine.sweep({ graceMs: 0 });
    expect(await queue.getJobState(jobId)).toBe('waiting');
    // Another worker takes it and starts the task.
    const again = await fetcher(30_000).getNextJob('live-worker-token');
    expect(again?.id).toBe(jobId);
    const started = await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'live', 0);
    expect(started?.attempt).toBe(1);
  });

  it('looks again at a job a worker holds when its lock would expire, not sooner or later', async () => {
    const ref = await startWithJob();
    const { member, queue, jobId } = await taskJob(ref.workflowId);
    expect((await fetcher(2_000).getNextJob('holder-token'))?.id).toBe(jobId);
    const sweptAt = Date.now();
    await engine.sweep({ graceMs: 0 });
    expect(await queue.getJobState(jobId)).toBe('active');
    // Due again at the lock's expiry (2 s after the fetch, plus 50 ms): the first sweep after
    // it finds the job of a holder that died, however often sweeps come meanwhile.
    const recheck = (await outbox(ref.workflowId)).get(member)! - sweptAt;
    expect(recheck).toBeGreaterThan(1_000);
    expect(recheck).toBeLessThanOrEqual(2_050 + 100);
  });

  it('adds again a committed task whose job is gone (its dispatcher died)', async () => {
    const ref = await startWithJob();
    const { queue, jobId } = await taskJob(ref.workflowId);
    await queue.remove(jobId);
    expect(await queue.getJobState(jobId)).toBe('unknown');
    await engine.sweep({ graceMs: 0 });
    expect(await queue.getJobState(jobId)).toBe('waiting');
  });

  it('leaves a job waiting in its queue alone (no duplicate) and looks at it again only later', async () => {
    const ref = await startWithJob();
    const { member, queue, jobId } = await taskJob(ref.workflowId);
    const before = (await outbox(ref.workflowId)).get(member)!;
    await engine.sweep({ graceMs: 0 });
    expect(await queue.getJobState(jobId)).toBe('waiting');
    expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 1, active: 0, delayed: 0 });
    expect((await outbox(ref.workflowId)).get(member)! - before).toBeGreaterThanOrEqual(3_000);
  });

  it('dispatches as a job a first task that a worker took off the first-task list and died holding', async () => {
    const ref = await start();
    const { queue, jobId } = await taskJob(ref.workflowId);
    expect(await queue.getJobState(jobId)).toBe('unknown');
    const [task] = await engine.takeFirstTasks(taker(), 'q', 1, 1);
    expect(task).toMatchObject({ runId: ref.runId, token: '1', queue: 'q' });
    await engine.sweep({ graceMs: 0 });
    const job = await queue.getJob(jobId);
    expect(job!.data).toEqual({ runId: ref.runId, workflowId: ref.workflowId, token: '1', queue: 'q' });
    expect(await queue.getJobState(jobId)).toBe('waiting');
    // Another worker starts the task from the job, with the run's history.
    const started = await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'live', 0);
    expect(started?.events.map((event) => event.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
    ]);
  });

  it('leaves a first task alone while its first-task list holds tasks (a backlog), and looks at it again only later', async () => {
    const ref = await start();
    const other = await start('other');
    const { member, queue, jobId } = await taskJob(ref.workflowId);
    const before = (await outbox(ref.workflowId)).get(member)!;
    await engine.sweep({ graceMs: 0 });
    expect(await queue.getJobState(jobId)).toBe('unknown');
    expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
    expect((await outbox(ref.workflowId)).get(member)! - before).toBeGreaterThanOrEqual(3_000);
    expect((await engine.takeFirstTasks(taker(), 'q', 10, 1)).map((task) => task.runId)).toEqual([ref.runId, other.runId]);
  });

  it('fires a deadline whose wake-up job was lost on the next visit, even one that recovers no task', async () => {
    const ref = { workflowId: 'late', runId: randomUUID() };
    await engine.startWorkflow({
      ...ref,
      workflowType: 'Late',
      taskQueue: 'q',
      attributes: { workflowType: 'Late', workflowId: 'late', taskQueue: 'q', input: [] },
      workflowTaskTimeout: 100,
      runTimeout: 0,
    });
    await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'dead', 0);
    // The task's 100 ms timeout is armed; its wake-up job is lost.
    await engine.dispatcher.queue(engine.keys.timerPrefix, QueueNames.timers).obliterate({ force: true });
    await sleep(400);
    await engine.sweep({ graceMs: 60_000, recover: false });
    const history = await engine.readHistory(ref);
    // Timed out; its retry (attempt 2, transient: no events until it completes) is queued.
    expect(history.map((e) => e.eventType).slice(3)).toEqual([EventType.WorkflowTaskTimedOut]);
    expect([...(await outbox('late')).keys()].filter((m) => m.startsWith('wft|'))).toEqual([`wft|${ref.runId}|2|q|late`]);
  });

  it('refreshes liveness only when asked not to recover', async () => {
    const ref = await start();
    const { queue, jobId } = await taskJob(ref.workflowId);
    await queue.remove(jobId);
    await engine.sweep({ graceMs: 0, recover: false, worker: { id: 'w1', liveMs: 60_000 } });
    expect(await queue.getJobState(jobId)).toBe('unknown');
    const shard = engine.keys.shard(engine.keys.shardOf(ref.workflowId));
    expect(await connection.client.hexists(shard.workers, 'w1')).toBe(1);
  });

  describe('sticky routing', () => {
    /** Takes and completes the first workflow task on `workerId` (sticky), then asks for another task. */
    async function cachedOn(workerId: string) {
      const ref = await start();
      const task = { ...ref, token: '1', queue: 'q' };
      await engine.startWorkflowTask(task, workerId, 0);
      await engine.completeWorkflowTask(task, { identity: workerId, workerId, stickyTimeout: 5_000, fence: 3, commands: [] });
      // A cancellation request schedules the run's next workflow task.
      await engine.requestCancelWorkflow(ref, 'next task', 'tester');
      return ref;
    }

    it('routes the next workflow task to a live worker that caches the run', async () => {
      await engine.sweep({ graceMs: 60_000, worker: { id: 'alive', liveMs: 60_000 } });
      const ref = await cachedOn('alive');
      expect([...(await outbox(ref.workflowId)).keys()].filter((m) => m.startsWith('wft|'))).toEqual([
        `wft|${ref.runId}|2|@alive|${ref.workflowId}`,
      ]);
    });

    it('skips the sticky queue of a worker whose liveness expired, and hands that worker to one sweeper', async () => {
      await engine.sweep({ graceMs: 60_000, worker: { id: 'gone', liveMs: 1 } });
      await sleep(20);
      expect(await engine.sweep({ graceMs: 60_000, worker: { id: 'sweeper', liveMs: 60_000 } })).toEqual(['gone']);
      expect(await engine.sweep({ graceMs: 60_000, worker: { id: 'sweeper', liveMs: 60_000 } })).toEqual([]);
      const ref = await cachedOn('gone');
      expect([...(await outbox(ref.workflowId)).keys()].filter((m) => m.startsWith('wft|'))).toEqual([
        `wft|${ref.runId}|2|q|${ref.workflowId}`,
      ]);
      expect(await connection.client.hget(engine.keys.run(ref.workflowId, ref.runId).state, 'sticky')).toBe('');
    });

    it('hands a dead worker to another sweeper when the one it was leased to did not recover it', async () => {
      await engine.sweep({ graceMs: 60_000, worker: { id: 'gone', liveMs: 1 } });
      await sleep(20);
      expect(await engine.sweep({ graceMs: 60_000, deadWorkerLeaseMs: 100 })).toEqual(['gone']);
      expect(await engine.sweep({ graceMs: 60_000, deadWorkerLeaseMs: 100 })).toEqual([]);
      await sleep(150);
      expect(await engine.sweep({ graceMs: 60_000 })).toEqual(['gone']);
      await engine.recoverDeadWorker('gone');
      const shard = engine.keys.shard(0);
      expect(await connection.client.hexists(shard.workers, 'gone')).toBe(0);
    });

    it("moves a task waiting on a dead worker's sticky queue to the task queue and deletes the queue", async () => {
      await engine.sweep({ graceMs: 60_000, worker: { id: 'dying', liveMs: 60_000 } });
      const ref = await cachedOn('dying');
      const sticky = engine.dispatcher.queue(engine.keys.stickyPrefix('dying'), QueueNames.workflow);
      expect(await sticky.getJobCounts('waiting')).toEqual({ waiting: 1 });

      await engine.recoverDeadWorker('dying');
      expect([...(await outbox(ref.workflowId)).keys()].filter((m) => m.startsWith('wft|'))).toEqual([
        `wft|${ref.runId}|3|q|${ref.workflowId}`,
      ]);
      const history = await engine.readHistory(ref);
      expect(history.slice(-3).map((e) => [e.eventType, e.attributes])).toEqual([
        [EventType.WorkflowTaskScheduled, { taskQueue: 'q', startToCloseTimeout: 10_000, attempt: 1 }],
        [EventType.WorkflowTaskTimedOut, { scheduledEventId: history.at(-3)!.eventId, startedEventId: 0, timeoutType: 'SCHEDULE_TO_START' }],
        [EventType.WorkflowTaskScheduled, { taskQueue: 'q', startToCloseTimeout: 10_000, attempt: 1 }],
      ]);
      expect(await connection.client.exists(`${engine.keys.stickyPrefix('dying')}:${QueueNames.workflow}:meta`)).toBe(0);
    });
  });
});
