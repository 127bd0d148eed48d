import { randomBytes, randomUUID } from 'node:crypto';
import { EventType } from '@durabull/common';
import { childRunId } from './children';
import { RedisConnection } from './connection';
import { Engine } from './engine';
import { QueueNames } from './keys';
import type { MessageJobData } from './tasks';
import type { RunRef } from './types';

/**
 * Child workflows in the engine (lua/includes/children.lua), driven hop by hop: the parent's
 * workflow task initiates the child, a message starts it (on another shard) and resolves on the
 * parent, the child's close is a message back; each delivery repeated changes nothing.
 */
describe('Engine child workflows', () => {
  let connection: RedisConnection;
  let engine: Engine;
  beforeEach(async () => {
    connection = RedisConnection.from();
    engine = await Engine.open(connection.client, { namespace: `test-${randomBytes(6).toString('hex')}`, shards: 4 });
  });
  afterEach(async () => {
    await engine.purge();
    await engine.close();
    await connection.close();
  });

  const messages = () => engine.dispatcher.queue(engine.keys.systemPrefix, QueueNames.messages);
  async function takeMessages(): Promise<MessageJobData[]> {
    const jobs = await messages().getJobs(['wait']);
    await messages().obliterate({ force: true });
    return jobs.map((job) => job.data as MessageJobData);
  }

  async function start(workflowId: string): Promise<RunRef> {
    const ref = { workflowId, runId: randomUUID() };
    await engine.startWorkflow({
      ...ref,
      workflowType: 'Parent',
      taskQueue: 'q',
      attributes: { workflowType: 'Parent', workflowId, taskQueue: 'q', input: [] },
      workflowTaskTimeout: 10_000,
      runTimeout: 0,
    });
    return ref;
  }

  /** Runs the run's pending workflow task with these commands. */
  async function complete(ref: RunRef, commands: Array<{ eventType: string; attributes: Record<string, unknown>; meta?: Record<string, unknown> }>) {
    const state = await connection.client.hmget(engine.keys.run(ref.workflowId, ref.runId).state, 'wtok', 'wq');
    const task = { ...ref, token: state[0]!, queue: state[1]! };
    const started = await engine.startWorkflowTask(task, 'tester', 0);
    const last = Number(await connection.client.hget(engine.keys.run(ref.workflowId, ref.runId).state, 'last'));
    const reply = await engine.completeWorkflowTask(task, {
      identity: 'tester',
      workerId: 'w',
      stickyTimeout: 0,
      fence: last,
      commands: commands.map((c) => ({
        eventType: c.eventType as EventType,
        attributes: { ...c.attributes, workflowTaskCompletedEventId: (started?.startedEventId ?? 0) + 1 },
        meta: c.meta ?? {},
      })),
    });
    expect(reply.code).toBe(1);
  }

  const initiate = (childId: string, policy = 'TERMINATE') => ({
    eventType: EventType.StartChildWorkflowExecutionInitiated,
    attributes: {
      workflowId: childId,
      workflowType: 'Child',
      taskQueue: 'q',
      input: [],
      workflowExecutionTimeout: 0,
      workflowRunTimeout: 0,
      workflowTaskTimeout: 10_000,
      parentClosePolicy: policy,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    },
    meta: { wid: childId, type: 'Child', pcp: policy },
  });

  const history = async (ref: RunRef) => (await engine.readHistory(ref)).map((e) => [e.eventType, e.attributes] as const);

  function idOnAnotherShard(of: string): string {
    for (let i = 0; ; i++) if (engine.keys.shardOf(`child-${i}`) !== engine.keys.shardOf(of)) return `child-${i}`;
  }

  it('starts a child on another shard, once, and records its result on the parent', async () => {
    const parent = await start('parent');
    const childId = idOnAnotherShard('parent');
    await complete(parent, [initiate(childId)]);
    const [startMessage] = await takeMessages();
    expect(startMessage).toEqual({ ...parent, initiatedEventId: 5 });
    await engine.deliverMessage(startMessage!);
    await engine.deliverMessage(startMessage!);
    const child = { workflowId: childId, runId: childRunId(parent.runId, 5) };
    expect(await engine.currentRunId(childId)).toBe(child.runId);
    const [started] = await engine.readHistory(child);
    expect(started!.attributes).toMatchObject({ parentWorkflowExecution: parent, parentInitiatedEventId: 5, firstExecutionRunId: child.runId });
    expect((await history(parent)).slice(4)).toEqual([
      [EventType.StartChildWorkflowExecutionInitiated, expect.objectContaining({ workflowId: childId })],
      [EventType.ChildWorkflowExecutionStarted, { initiatedEventId: 5, workflowExecution: child, workflowType: 'Child' }],
      [EventType.WorkflowTaskScheduled, expect.anything()],
    ]);

    await complete(child, [{ eventType: EventType.WorkflowExecutionCompleted, attributes: { result: [{ metadata: {}, data: '1' }] } }]);
    const [closeMessage] = await takeMessages();
    await engine.deliverMessage(closeMessage!);
    await engine.deliverMessage(closeMessage!);
    expect((await history(parent)).slice(7)).toEqual([
      [
        EventType.ChildWorkflowExecutionCompleted,
        { startedEventId: 6, workflowExecution: child, workflowType: 'Child', initiatedEventId: 5, result: [{ metadata: {}, data: '1' }] },
      ],
    ]);
    const state = await connection.client.hgetall(engine.keys.run(parent.workflowId, parent.runId).state);
    expect(Object.keys(state).filter((f) => /^(c|cs|x):/.test(f))).toEqual([]);
  });

  it('records the Started event first when the child closes before its start was resolved', async () => {
    const parent = await start('parent');
    await complete(parent, [initiate('kid')]);
    const [startMessage] = await takeMessages();
    const child = { workflowId: 'kid', runId: childRunId(parent.runId, 5) };
    // The child ran and closed before the parent heard it started (a crash after the start).
    await engine.startWorkflow({
      ...child,
      workflowType: 'Child',
      taskQueue: 'q',
      attributes: {},
      workflowTaskTimeout: 10_000,
      runTimeout: 0,
      parent: { ...parent, initiatedEventId: 5 },
    });
    await engine.terminateWorkflow(child, 'stop', [], 'tester');
    for (const message of await takeMessages()) await engine.deliverMessage(message);
    await engine.deliverMessage(startMessage!);
    expect((await history(parent)).slice(5).map(([type]) => type)).toEqual([
      EventType.ChildWorkflowExecutionStarted,
      EventType.ChildWorkflowExecutionTerminated,
      EventType.WorkflowTaskScheduled,
    ]);
  });

  it('names the Started event id in the close event when both were buffered by a running workflow task', async () => {
    const parent = await start('parent');
    await complete(parent, [initiate('kid')]);
    const [startMessage] = await takeMessages();
    const child = { workflowId: 'kid', runId: childRunId(parent.runId, 5) };
    // The parent's next workflow task (for a signal) runs while the child starts and closes.
    await engine.signalWorkflow(parent, { signalName: 'poke', input: [], identity: 'tester' });
    const keys = engine.keys.run(parent.workflowId, parent.runId);
    const [token, queue] = await connection.client.hmget(keys.state, 'wtok', 'wq');
    const task = { ...parent, token: token!, queue: queue! };
    await engine.startWorkflowTask(task, 'tester', 0);
    await engine.deliverMessage(startMessage!);
    await engine.terminateWorkflow(child, 'stop', [], 'tester');
    for (const message of await takeMessages()) await engine.deliverMessage(message);
    expect(await connection.client.hget(keys.state, 'nbuf')).toBe('2');
    const reply = await engine.completeWorkflowTask(task, {
      identity: 'tester',
      workerId: 'w',
      stickyTimeout: 0,
      fence: Number(await connection.client.hget(keys.state, 'last')),
      commands: [{ eventType: EventType.TimerStarted, attributes: { timerId: '1', startToFireTimeout: 1000 }, meta: { ms: 1000, timerId: '1' } }],
    });
    expect(reply.code).toBe(1);
    const events = (await engine.readHistory(parent)).slice(8).map((e) => [e.eventId, e.eventType, e.attributes['startedEventId']]);
    expect(events).toEqual([
      [9, EventType.WorkflowTaskCompleted, 8],
      [10, EventType.TimerStarted, undefined],
      [11, EventType.ChildWorkflowExecutionStarted, undefined],
      [12, EventType.ChildWorkflowExecutionTerminated, 11],
      [13, EventType.WorkflowTaskScheduled, undefined],
    ]);
    expect((await connection.client.hkeys(keys.state)).filter((f) => /^(c|cs|x):/.test(f))).toEqual([]);
  });

  it('fails the start when the id is taken', async () => {
    const parent = await start('parent');
    await start('taken');
    await complete(parent, [initiate('taken')]);
    for (const message of await takeMessages()) await engine.deliverMessage(message);
    expect((await history(parent))[5]).toEqual([
      EventType.StartChildWorkflowExecutionFailed,
      { workflowId: 'taken', workflowType: 'Child', cause: 'WORKFLOW_ALREADY_EXISTS', initiatedEventId: 5, workflowTaskCompletedEventId: 4 },
    ]);
  });

  it('terminates a pending child when the parent closes (TERMINATE)', async () => {
    const parent = await start('parent');
    await complete(parent, [initiate('kid')]);
    for (const message of await takeMessages()) await engine.deliverMessage(message);
    await complete(parent, [{ eventType: EventType.WorkflowExecutionCompleted, attributes: { result: [] } }]);
    for (const message of await takeMessages()) await engine.deliverMessage(message);
    const child = { workflowId: 'kid', runId: childRunId(parent.runId, 5) };
    expect(await engine.lastEvent(child)).toMatchObject({
      eventType: EventType.WorkflowExecutionTerminated,
      attributes: { reason: 'by parent close policy', identity: 'history-service' },
    });
    // The child's close reached a closed parent: nothing recorded.
    for (const message of await takeMessages()) await engine.deliverMessage(message);
    expect((await engine.lastEvent(parent))?.eventType).toBe(EventType.WorkflowExecutionCompleted);
  });
});
