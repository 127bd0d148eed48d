import {
  Activity,
  Client,
  EventType,
  IllegalStateError,
  RedisConnectionError,
  TerminatedError,
  Worker,
  WorkflowAlreadyStartedError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowNotFoundError,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { ActivityInfo, HistoryEvent, Logger } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';

const infos: ActivityInfo[] = [];

class Echo {
  @Activity({ name: 'echo' })
  async echo(text: string): Promise<string> {
    infos.push(activity.info());
    activity.logger.info('echoing', { text });
    return text;
  }
}

@WorkflowDefn({ name: 'echo-workflow' })
class EchoWorkflow {
  @WorkflowRun()
  async run(text: string): Promise<string> {
    workflow.logger.info('before the activity');
    const echoed = await workflow.executeActivity(Echo.prototype.echo, text, { startToCloseTimeout: '5s' });
    workflow.logger.info('after the activity');
    return echoed;
  }
}

class MemoryLogger implements Logger {
  entries: Array<{ level: string; message: string; attributes?: Record<string, unknown> }> = [];
  debug(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'debug', message, attributes });
  }
  info(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, attributes });
  }
  error(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, attributes });
  }
}

describe('Client', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    infos.length = 0;
  });
  afterEach(() => env.teardown());

  it('starts by workflow type name, waits by id, and describes the latest run', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [EchoWorkflow], activities: [new Echo()] });
    const result = await worker.runUntil(env.client.executeWorkflow<string>('echo-workflow', 'by name', { id: 'named', taskQueue: 'q' }));
    expect(result).toBe('by name');
    const handle = env.client.getWorkflowHandle<string>('named');
    expect(await handle.result()).toBe('by name');
    expect(await handle.describe()).toMatchObject({ workflowType: 'echo-workflow', status: WorkflowExecutionStatus.COMPLETED });
  });

  it('refuses a second run of a running workflow id, and allows it once the first is closed', async () => {
    const first = await env.client.startWorkflow(EchoWorkflow, 'one', { id: 'dup', taskQueue: 'q' });
    const duplicate = env.client.startWorkflow(EchoWorkflow, 'two', { id: 'dup', taskQueue: 'q' });
    await expect(duplicate).rejects.toThrow(WorkflowAlreadyStartedError);
    await expect(duplicate).rejects.toThrow(`Workflow execution is already running. WorkflowId: dup, RunId: ${first.runId}.`);
    const worker = env.newWorker({ taskQueue: 'q', workflows: [EchoWorkflow], activities: [new Echo()] });
    await worker.runUntil(async () => {
      await first.result();
      const second = await env.client.startWorkflow(EchoWorkflow, 'two', { id: 'dup', taskQueue: 'q' });
      expect(second.runId).not.toBe(first.runId);
      expect(await env.client.getWorkflowHandle('dup').result()).toBe('two');
    });
    expect(await first.result()).toBe('one');
  });

  it('returns results of any size, whether the close notification carries them or they are read from history', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [EchoWorkflow], activities: [new Echo()] });
    const large = 'x'.repeat(5_000);
    const results = await worker.runUntil(async () => {
      const executed = await Promise.all(['small', large].map((text, i) => env.client.executeWorkflow(EchoWorkflow, text, { id: `sized-${i}`, taskQueue: 'q' })));
      const started = await Promise.all(['small', large].map((text, i) => env.client.startWorkflow(EchoWorkflow, text, { id: `waited-${i}`, taskQueue: 'q' })));
      return [...executed, ...(await Promise.all(started.map((handle) => handle.result())))];
    });
    expect(results).toEqual(['small', large, 'small', large]);
  });

  it('ends a wait whose close notification went out while its subscription was reconnecting', async () => {
    // No worker: the run waits until it is terminated.
    const handle = await env.client.startWorkflow(EchoWorkflow, 'never run', { id: 'lost-close', taskQueue: 'nobody' });
    const reads = jest.spyOn(env.client.engine, 'lastEvent');
    const outcome = handle.result().then(
      () => 'completed',
      (error: WorkflowFailureError) => error.cause,
    );
    // Parked: watching, and the read that follows found the run open.
    while (reads.mock.results.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await reads.mock.results[0]!.value;
    const { subscriber } = (env.client as unknown as { watcher: { subscriber: Redis | Cluster } }).watcher;
    const connection = subscriber instanceof Cluster ? (subscriber as unknown as { subscriber: { getInstance(): Redis } }).subscriber.getInstance() : subscriber;
    // The connection drops; the run closes before ioredis has reconnected, so its notification is lost.
    connection.stream.destroy();
    await handle.terminate('gone');
    const began = Date.now();
    // Read again after the reconnect (a cluster's subscriber moves unseen: its poll, every 2 s).
    expect(await outcome).toBeInstanceOf(TerminatedError);
    expect(Date.now() - began).toBeLessThan(5_000);
  }, 15_000);

  it('reports an unknown workflow id with WorkflowNotFoundError', async () => {
    const handle = env.client.getWorkflowHandle('nobody');
    await expect(handle.describe()).rejects.toThrow(WorkflowNotFoundError);
    await expect(handle.describe()).rejects.toThrow('Workflow execution not found: workflowId="nobody"');
    await expect(handle.result()).rejects.toThrow(WorkflowNotFoundError);
    await expect(handle.cancel()).rejects.toThrow(WorkflowNotFoundError);
    await expect(env.client.getWorkflowHandle('nobody', 'no-such-run').fetchHistory()).rejects.toThrow(
      'Workflow execution not found: workflowId="nobody" runId="no-such-run"',
    );
  });

  it('rejects bad start options at the call, naming the bad value', async () => {
    const start = (options: object) => env.client.startWorkflow(EchoWorkflow, 'x', { id: 'bad', taskQueue: 'q', ...options });
    await expect(start({ taskTimeout: 'soon' })).rejects.toThrow(TypeError);
    await expect(start({ taskTimeout: 'soon' })).rejects.toThrow('"soon"');
    await expect(start({ runTimeout: -5 })).rejects.toThrow('-5');
    await expect(start({ taskQueue: 'has space' })).rejects.toThrow('Invalid taskQueue: "has space"');
    await expect(start({ id: '' })).rejects.toThrow('Invalid workflow id: ""');
    await expect(start({ retries: 3 })).rejects.toThrow('Unknown workflow start option(s): retries');
    await expect(env.client.startWorkflow(EchoWorkflow, { id: 'both', taskQueue: 'q', args: ['a'] } as never)).resolves.toBeDefined();
    await expect(
      (env.client.startWorkflow as (...a: unknown[]) => Promise<unknown>)(EchoWorkflow, 'x', { id: 'both2', taskQueue: 'q', args: ['a'] }),
    ).rejects.toThrow('Cannot pass both an argument and options.args to a workflow');
    await expect(env.client.startWorkflow(class NotAWorkflow {} as never, { id: 'n', taskQueue: 'q' })).rejects.toThrow(
      'NotAWorkflow is not a workflow: decorate the class with @WorkflowDefn',
    );
  });

  it('rejects bad connection and worker options', async () => {
    await expect(Client.connect({ namespace: 'has space' })).rejects.toThrow('Invalid namespace: "has space"');
    await expect(Client.connect({ redis: 'http://example' })).rejects.toThrow('Invalid Redis URL: "http://example"');
    expect(() => new Worker(env.client, { taskQueue: 'q' })).toThrow('A worker needs at least one workflow or activity');
    expect(() => new Worker(env.client, { taskQueue: 'q', workflows: [EchoWorkflow], maxConcurrentActivityTaskExecutions: 0 })).toThrow(
      'Invalid maxConcurrentActivityTaskExecutions: 0',
    );
    expect(() => new Worker(env.client, { taskQueue: 'q', activities: [{}] })).toThrow('Object has no activities');
    expect(() => new Worker(env.client, { taskQueue: 'q', workflows: [EchoWorkflow], shutdownGraceTime: '10 parsecs' })).toThrow(
      '"10 parsecs"',
    );
  });

  it('gives activities their info and both sides a logger with their ids; the workflow logger is silent on replay', async () => {
    const logger = new MemoryLogger();
    // No cache: the second workflow task replays the first, whose log line must not repeat.
    const worker = env.newWorker({ taskQueue: 'q', workflows: [EchoWorkflow], activities: [new Echo()], logger, maxCachedWorkflows: 0 });
    const handle = await env.client.startWorkflow(EchoWorkflow, 'hi', { id: 'logged', taskQueue: 'q' });
    await worker.runUntil(handle.result());
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({
      activityId: '1',
      activityType: 'echo',
      attempt: 1,
      taskQueue: 'q',
      workflowId: 'logged',
      workflowRunId: handle.runId,
      workflowType: 'echo-workflow',
      namespace: env.namespace,
      startToCloseTimeout: 5_000,
      heartbeatDetails: [],
    });
    expect(infos[0]!.startedTime.getTime()).toBeGreaterThanOrEqual(infos[0]!.scheduledTime.getTime());
    const lines = logger.entries.filter((e) => e.level === 'info' && e.message !== 'Worker started' && e.message !== 'Worker stopped');
    expect(lines.map((e) => e.message)).toEqual(['before the activity', 'echoing', 'after the activity']);
    expect(lines[0]!.attributes).toMatchObject({ workflowId: 'logged', runId: handle.runId, workflowType: 'echo-workflow' });
    expect(lines[1]!.attributes).toMatchObject({ workflowId: 'logged', activityId: '1', activityType: 'echo', attempt: 1, text: 'hi' });
  });

  it('follows a history as it grows, until the close event', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [EchoWorkflow], activities: [new Echo()] });
    const handle = await env.client.startWorkflow(EchoWorkflow, 'followed', { id: 'followed', taskQueue: 'q' });
    const followed: HistoryEvent[] = [];
    await worker.runUntil(async () => {
      for await (const event of handle.followHistory()) followed.push(event);
    });
    expect(followed).toEqual(await handle.fetchHistory());
    expect(followed.at(-1)!.eventType).toBe(EventType.WorkflowExecutionCompleted);
  });

  it('fails with RedisConnectionError naming the Redis and the socket error when Redis cannot be reached', async () => {
    const connecting = Client.connect({ redis: 'redis://127.0.0.1:1', namespace: env.namespace });
    await expect(connecting).rejects.toThrow(RedisConnectionError);
    await expect(connecting).rejects.toThrow('Redis is unreachable at redis://127.0.0.1:1: connect ECONNREFUSED');
  });

  it('refuses workflow and activity calls outside their code', () => {
    expect(() => workflow.now()).toThrow(IllegalStateError);
    expect(() => workflow.now()).toThrow('workflow.now() may only be called from workflow code');
    expect(() => activity.info()).toThrow('activity.info() may only be called from an activity');
  });
});
