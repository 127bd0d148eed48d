import { randomBytes, randomUUID } from 'node:crypto';
import { EventType } from '@durabull/common';
import { RedisConnection } from './connection';
import { Engine } from './engine';
import { QueueNames } from './keys';
import type { MessageJobData } from './tasks';
import type { RunRef } from './types';

/**
 * Messages between runs on different shards (includes/messages.lua), driven step by step: the
 * sender's workflow task commits the initiating event and the message, a worker delivers it to
 * the target and resolves it on the sender; delivering it again (after a crash) changes nothing.
 */
describe('Engine messages between runs', () => {
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

  async function start(workflowId: string): Promise<RunRef> {
    const ref = { workflowId, runId: randomUUID() };
    await engine.startWorkflow({
      ...ref,
      workflowType: 'Messaging',
      taskQueue: 'q',
      attributes: { workflowType: 'Messaging', workflowId, taskQueue: 'q', input: [] },
      workflowTaskTimeout: 10_000,
      runTimeout: 0,
    });
    return ref;
  }

  /** Two workflow ids on different shards. */
  function idsOnTwoShards(): [string, string] {
    const senderShard = engine.keys.shardOf('sender');
    for (let i = 0; i < 1000; i++) {
      if (engine.keys.shardOf(`target-${i}`) !== senderShard) return ['sender', `target-${i}`];
    }
    throw new Error('no workflow id on another shard than "sender"');
  }

  /** Runs the sender's first workflow task with one command event, and returns the message job it dispatched. */
  async function send(sender: RunRef, eventType: string, attributes: Record<string, unknown>): Promise<MessageJobData> {
    const task = { ...sender, token: '1', queue: 'q' };
    await engine.startWorkflowTask(task, 'tester', 0);
    const reply = await engine.completeWorkflowTask(task, {
      identity: 'tester',
      workerId: 'w',
      stickyTimeout: 0,
      fence: 3,
      commands: [{ eventType: eventType as EventType, attributes: { ...attributes, workflowTaskCompletedEventId: 4 }, meta: {} }],
    });
    expect(reply.code).toBe(1);
    const jobs = await engine.dispatcher.queue(engine.keys.systemPrefix, QueueNames.messages).getJobs(['wait']);
    expect(jobs.map((job) => job.id)).toEqual([`m.${sender.runId}.5`]);
    return jobs[0]!.data as MessageJobData;
  }

  const types = async (ref: RunRef) => (await engine.readHistory(ref)).map((e) => e.eventType as string);

  it('signals a run on another shard exactly once, however often the message is delivered', async () => {
    const [senderId, targetId] = idsOnTwoShards();
    const [sender, target] = [await start(senderId), await start(targetId)];
    const message = await send(sender, 'SignalExternalWorkflowExecutionInitiated', {
      workflowExecution: { workflowId: targetId, runId: '' },
      signalName: 'hello',
      input: [{ metadata: { encoding: 'json/plain' }, data: '"there"' }],
    });
    // A crash after the target took the signal and before the sender heard of it delivers it again.
    await engine.deliverMessage(message);
    await engine.deliverMessage(message);

    const signaled = (await engine.readHistory(target)).filter((e) => e.eventType === EventType.WorkflowExecutionSignaled);
    expect(signaled.map((e) => e.attributes)).toEqual([
      {
        signalName: 'hello',
        input: [{ metadata: { encoding: 'json/plain' }, data: '"there"' }],
        identity: `workflow ${senderId}`,
        externalWorkflowExecution: sender,
        requestId: `${sender.runId}:5`,
      },
    ]);
    const history = await engine.readHistory(sender);
    expect(history.slice(4).map((e) => [e.eventType, e.attributes])).toEqual([
      ['SignalExternalWorkflowExecutionInitiated', expect.objectContaining({ signalName: 'hello' })],
      ['ExternalWorkflowExecutionSignaled', { initiatedEventId: 5, workflowExecution: target }],
      [EventType.WorkflowTaskScheduled, expect.anything()],
    ]);
    // Resolved: nothing of the message is left on the sender's shard.
    const shard = engine.keys.shard(engine.keys.shardOf(senderId));
    expect((await connection.client.zrange(shard.outbox, 0, -1)).filter((m) => m.startsWith('msg|'))).toEqual([]);
    expect(await connection.client.hexists(engine.keys.run(senderId, sender.runId).state, 'x:5')).toBe(0);
  });

  it('tells the sender when the run to signal does not exist', async () => {
    const sender = await start('lonely');
    const message = await send(sender, 'SignalExternalWorkflowExecutionInitiated', {
      workflowExecution: { workflowId: 'nobody', runId: '' },
      signalName: 'hello',
      input: [],
    });
    await engine.deliverMessage(message);
    expect((await engine.readHistory(sender)).slice(5).map((e) => [e.eventType, e.attributes])).toEqual([
      [
        'SignalExternalWorkflowExecutionFailed',
        { cause: 'EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND', initiatedEventId: 5, workflowExecution: { workflowId: 'nobody', runId: '' } },
      ],
      [EventType.WorkflowTaskScheduled, expect.anything()],
    ]);
  });

  it('requests the cancellation of a run on another shard, once', async () => {
    const [senderId, targetId] = idsOnTwoShards();
    const [sender, target] = [await start(senderId), await start(targetId)];
    const message = await send(sender, 'RequestCancelExternalWorkflowExecutionInitiated', {
      workflowExecution: { workflowId: targetId, runId: target.runId },
      reason: 'no longer needed',
    });
    await engine.deliverMessage(message);
    await engine.deliverMessage(message);
    expect((await types(target)).filter((t) => t === EventType.WorkflowExecutionCancelRequested)).toHaveLength(1);
    expect((await engine.readHistory(sender))[5]).toMatchObject({
      eventType: 'ExternalWorkflowExecutionCancelRequested',
      attributes: { initiatedEventId: 5, workflowExecution: target },
    });
  });

  it('dispatches a message again when its job was lost (the sweep)', async () => {
    const [senderId, targetId] = idsOnTwoShards();
    const [sender] = [await start(senderId), await start(targetId)];
    await send(sender, 'SignalExternalWorkflowExecutionInitiated', { workflowExecution: { workflowId: targetId, runId: '' }, signalName: 's', input: [] });
    const queue = engine.dispatcher.queue(engine.keys.systemPrefix, QueueNames.messages);
    await queue.obliterate({ force: true });
    await engine.sweep({ graceMs: 0 });
    expect((await queue.getJobs(['wait'])).map((job) => job.id)).toEqual([`m.${sender.runId}.5`]);
  });
});
