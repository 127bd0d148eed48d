import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { EventType, WorkflowAlreadyStartedError } from '@durabull/common';
import { RedisConnection } from './connection';
import { Engine } from './engine';
import { jobSpec } from './tasks';
import type { WorkflowTaskJobData } from './tasks';
import { ReplyCode } from './scripts';
import type { CommandRecord, WorkflowTaskStart } from './types';

/**
 * A run's first workflow task, queued by the start on its task queue's first-task list with the
 * run's history, run from that history and taken by the transition that commits its outcome:
 * what is written, and every case where the take is refused.
 */
describe('first workflow task taken by its completion', () => {
  let connection: RedisConnection;
  let engine: Engine;
  beforeEach(async () => {
    connection = RedisConnection.from();
    engine = await Engine.open(connection.client, { namespace: `test-${randomBytes(6).toString('hex')}`, shards: 2 });
  });
  afterEach(async () => {
    await engine.purge();
    await engine.close();
    await connection.close();
  });

  /** The start of run `ref` of workflow type First on task queue q. */
  const startRequest = (ref: { workflowId: string; runId: string }, input: unknown[] = []) => ({
    ...ref,
    workflowType: 'First',
    taskQueue: 'q',
    attributes: { workflowType: 'First', workflowId: ref.workflowId, taskQueue: 'q', input },
    workflowTaskTimeout: 10_000,
    runTimeout: 0,
  });

  /** The first tasks queued on task queue q, oldest first. */
  const queued = async () =>
    (await connection.client.lrange(engine.keys.firstTasks('q'), 0, -1)).map((entry) => JSON.parse(entry) as WorkflowTaskJobData);

  /** Starts a run (with `input`) and returns it with its first task as queued. */
  async function started(input: unknown[] = []) {
    const ref = { workflowId: `first-${randomBytes(3).toString('hex')}`, runId: randomUUID() };
    await engine.startWorkflow(startRequest(ref, input));
    return { ref, task: (await queued()).find((task) => task.runId === ref.runId)! };
  }

  const completion: CommandRecord = { eventType: EventType.WorkflowExecutionCompleted, attributes: { result: [] }, meta: {} };
  const complete = (task: WorkflowTaskJobData, start: WorkflowTaskStart, takenAt = start.takenAt) =>
    engine.completeWorkflowTask(task, {
      identity: 'tester',
      workerId: 'worker-1',
      stickyTimeout: 0,
      fence: start.startedEventId,
      commands: [completion],
      takenAt,
    });

  /** What a refused take must leave as it was. */
  async function snapshot(ref: { workflowId: string; runId: string }) {
    const keys = engine.keys.run(ref.workflowId, ref.runId);
    return {
      history: await engine.readHistory(ref),
      state: await connection.client.hgetall(keys.state),
      deadlines: await connection.client.zrange(keys.deadlines, 0, -1),
      outbox: await connection.client.zrange(keys.outbox, 0, -1),
    };
  }

  it("gives the queued task the run's history, and writes WorkflowTaskStarted at the worker's time with the completion", async () => {
    const { ref, task } = await started(['hello']);
    expect((await engine.readHistory(ref)).map((e) => e.eventId)).toEqual([1, 2]);
    const start = engine.workflowTaskFromJob(task, 'tester')!;
    expect(start.events.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
    ]);
    expect(start.events.slice(0, 2)).toEqual(await engine.readHistory(ref));
    expect(start).toMatchObject({ attempt: 1, startedEventId: 3, updates: [] });
    expect(start.now).toBe(start.takenAt);
    expect(start.now).toBeGreaterThanOrEqual(start.scheduledTime);

    const reply = await complete(task, start);
    expect(reply.code).toBe(ReplyCode.Ok);
    const history = await engine.readHistory(ref);
    expect(history.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    // The event the worker ran the task with is the one written.
    expect(history[2]).toEqual(start.events[2]);
    expect(history[3]!.attributes).toEqual({ scheduledEventId: 2, startedEventId: 3, identity: 'tester' });
    expect(Date.parse(history[3]!.eventTime)).toBeGreaterThanOrEqual(start.takenAt!);
    // Nothing of the task is left: not its outbox entry, not a timeout (the closed run's
    // retention deadline and its wake-up job are all there is).
    const after = await snapshot(ref);
    expect(after.outbox).toEqual([expect.stringMatching(/^wake\|/)]);
    expect(after.deadlines).toEqual([expect.stringMatching(/^ret\|/)]);
  });

  it('refuses a take once the run moved on, a time outside the task, or a second take, writing nothing', async () => {
    const { ref, task } = await started();
    const start = engine.workflowTaskFromJob(task, 'tester')!;
    const before = await snapshot(ref);
    // A time after now, and one before the task was scheduled.
    expect((await complete(task, start, start.now + 60_000)).code).toBe(ReplyCode.Stale);
    expect((await complete(task, start, start.scheduledTime - 1)).code).toBe(ReplyCode.Stale);
    expect(await snapshot(ref)).toEqual(before);

    // A signal appended after the queued history: the task as the worker saw it is gone.
    await engine.signalWorkflow(ref, { signalName: 'poke', input: [], identity: 'tester' });
    const signalled = await snapshot(ref);
    expect((await complete(task, start)).code).toBe(ReplyCode.Stale);
    expect(await engine.failWorkflowTask(task, 'tester', 'WORKFLOW_WORKER_UNHANDLED_FAILURE', { message: 'x' }, taken(start))).toBe(
      ReplyCode.Stale,
    );
    expect(await snapshot(ref)).toEqual(signalled);
    expect(await engine.startWorkflowTask(task, 'tester', 0, taken(start))).toBeUndefined();
    expect((await snapshot(ref)).history).toEqual(signalled.history);
    // The ordinary start still takes it, with every event.
    const ordinary = await engine.startWorkflowTask(task, 'tester', 0);
    expect(ordinary!.events.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskStarted,
    ]);

    // Taken once, never twice.
    const other = await started();
    const first = engine.workflowTaskFromJob(other.task, 'tester')!;
    expect((await complete(other.task, first)).code).toBe(ReplyCode.Ok);
    expect((await complete(other.task, first)).code).toBe(ReplyCode.NotRunning);
    const third = await started();
    const taking = engine.workflowTaskFromJob(third.task, 'tester')!;
    expect(await engine.startWorkflowTask(third.task, 'tester', 0)).toBeDefined();
    expect((await complete(third.task, taking)).code).toBe(ReplyCode.Stale);
  });

  it('takes the task with its failure, or to run local activities with its timeout armed', async () => {
    const failing = await started();
    const failed = engine.workflowTaskFromJob(failing.task, 'tester')!;
    const failure = { message: 'a bug' };
    expect(await engine.failWorkflowTask(failing.task, 'tester', 'WORKFLOW_WORKER_UNHANDLED_FAILURE', failure, taken(failed))).toBe(ReplyCode.Ok);
    const history = await engine.readHistory(failing.ref);
    expect(history.map((e) => e.eventType).slice(2)).toEqual([EventType.WorkflowTaskStarted, EventType.WorkflowTaskFailed]);
    expect(history[2]).toEqual(failed.events[2]);

    const slow = await started();
    const start = engine.workflowTaskFromJob(slow.task, 'tester')!;
    const took = await engine.startWorkflowTask(slow.task, 'tester', 0, taken(start));
    expect(took).toMatchObject({ attempt: 1, startedEventId: 3, events: [] });
    expect((await engine.readHistory(slow.ref))[2]).toEqual(start.events[2]);
    const keys = engine.keys.run(slow.ref.workflowId, slow.ref.runId);
    expect(await connection.client.zrange(keys.deadlines, 0, -1)).toEqual([expect.stringMatching(/^wto\|/)]);
    // Completed later as any started task.
    expect((await complete(slow.task, { ...start, takenAt: undefined })).code).toBe(ReplyCode.Ok);
  });

  it('leaves a large history out of the queued task: that task is started as any other', async () => {
    const { task } = await started([{ metadata: { encoding: 'json/plain' }, data: 'x'.repeat(20_000) }]);
    expect(task.history).toBeUndefined();
    expect(engine.workflowTaskFromJob(task, 'tester')).toBeUndefined();
  });

  it("is queued by the start itself on the task queue's first-task list, as a job's data, without a job", async () => {
    const dispatched = jest.spyOn(engine.dispatcher, 'dispatch');
    const { ref, task } = await started(['stored']);
    const stored = await connection.client.xrange(engine.keys.run(ref.workflowId, ref.runId).history, '-', '+');
    expect(task).toEqual({ runId: ref.runId, workflowId: ref.workflowId, token: '1', queue: 'q', history: stored });
    expect(stored).toHaveLength(2);
    // No job: not in BullMQ's queue, and nothing for the caller to dispatch.
    const spec = jobSpec(engine.keys, { kind: 'workflow', ...ref, token: '1', queue: 'q' });
    const queue = engine.dispatcher.queue(spec.prefix, spec.queueName);
    expect(await queue.getJob(spec.jobId)).toBeUndefined();
    expect(await connection.client.llen(queue.toKey('wait'))).toBe(0);
    expect(dispatched).not.toHaveBeenCalled();
    // The descriptor stays for the sweep until the task is taken.
    expect(await connection.client.zrange(engine.keys.shard(engine.keys.shardOf(ref.workflowId)).outbox, 0, -1)).toEqual([
      `wft|${ref.runId}|1|q|${ref.workflowId}`,
    ]);
    // Taken off the list in the order the runs started, as many as asked for.
    const second = await started();
    const third = await started();
    const taker = connection.duplicate() as Redis;
    try {
      expect((await engine.takeFirstTasks(taker, 'q', 2, 1)).map((t) => t.runId)).toEqual([ref.runId, second.ref.runId]);
      expect((await engine.takeFirstTasks(taker, 'q', 5, 1)).map((t) => t.runId)).toEqual([third.ref.runId]);
      // An empty list is waited on, for as long as asked.
      expect(await engine.takeFirstTasks(taker, 'q', 5, 0.05)).toEqual([]);
    } finally {
      connection.release(taker);
    }
  });

  it('queues nothing for a start that made no run (refused by the id policy, or sent again)', async () => {
    const { ref } = await started();
    const dispatched = jest.spyOn(engine.dispatcher, 'dispatch');
    await expect(engine.startWorkflow(startRequest({ workflowId: ref.workflowId, runId: randomUUID() }))).rejects.toThrow(
      WorkflowAlreadyStartedError,
    );
    expect(await engine.startWorkflow(startRequest(ref))).toEqual({ started: true });
    expect((await queued()).map((task) => task.runId)).toEqual([ref.runId]);
    expect(dispatched).not.toHaveBeenCalled();
  });
});

function taken(start: WorkflowTaskStart): { at: number; startedEventId: number } {
  return { at: start.takenAt!, startedEventId: start.startedEventId };
}
