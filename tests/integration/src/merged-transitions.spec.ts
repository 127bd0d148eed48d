import { Activity, EventType, WorkflowAlreadyStartedError, WorkflowDefn, WorkflowRun, WorkflowSignal, workflow } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { QueueNames, ReplyCode } from '@durabull/engine';
import { TestEnvironment } from '@durabull/testing';
import { Cluster } from 'ioredis';

class Echo {
  @Activity()
  async echo(value: string): Promise<string> {
    return value;
  }

  @Activity()
  async shout(value: string): Promise<string> {
    return value.toUpperCase();
  }
}

/** `steps` activities in sequence, then a local one: a workflow task per result. */
@WorkflowDefn()
class Chain {
  @WorkflowRun()
  async run(steps: number, local: boolean): Promise<string> {
    let text = 'go';
    for (let i = 0; i < steps; i++) text = await workflow.executeActivity(Echo.prototype.echo, `${text}.${i}`, { startToCloseTimeout: '5s' });
    if (local) text = await workflow.executeLocalActivity(Echo.prototype.shout, text, { startToCloseTimeout: '5s' });
    return text;
  }
}

@WorkflowDefn()
class OneStep {
  @WorkflowRun()
  async run(value: string): Promise<string> {
    return await workflow.executeActivity(Echo.prototype.echo, value, { startToCloseTimeout: '5s' });
  }
}

/** Returns, in its first activation, the signals it had by then. */
@WorkflowDefn()
class FirstLook {
  private readonly pokes: string[] = [];

  @WorkflowSignal()
  poke(value: string): void {
    this.pokes.push(value);
  }

  @WorkflowRun()
  async run(): Promise<string[]> {
    return [...this.pokes];
  }
}

/** `count` activities at once: their results wake workflow tasks of the same run together. */
@WorkflowDefn()
class FanOut {
  @WorkflowRun()
  async run(count: number): Promise<string[]> {
    const calls = Array.from({ length: count }, (_, i) => workflow.executeActivity(Echo.prototype.echo, `r${i}`, { startToCloseTimeout: '5s' }));
    return Promise.all(calls);
  }
}

const eventTypes = (history: HistoryEvent[]) => history.map((e) => e.eventType);

/**
 * A run's first workflow task runs from the history it was queued with (or its job carries), and
 * the transition that commits its outcome takes it: no startWorkflowTask for it, unless the run
 * moved on first.
 */
describe("a run's first workflow task", () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('runs from its queued history and is started and completed by one transition, with the usual history', async () => {
    const starts = jest.spyOn(env.client.engine, 'startWorkflowTask');
    const worker = env.newWorker({ taskQueue: 'q', workflows: [OneStep], activities: [new Echo()], identity: 'the-worker' });
    const handle = await env.client.startWorkflow(OneStep, 'hi', { id: 'one-step', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe('hi');
    // The second task was handed over eagerly by the activity's completion: nothing was started alone.
    expect(starts).not.toHaveBeenCalled();
    const history = await handle.fetchHistory();
    expect(history.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect(history[2]!.attributes).toEqual({ scheduledEventId: 2, identity: 'the-worker' });
    const times = history.map((e) => Date.parse(e.eventTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('starts the ordinary way when a signal came after it was queued, and sees the signal', async () => {
    const starts = jest.spyOn(env.client.engine, 'startWorkflowTask');
    const handle = await env.client.startWorkflow(FirstLook, { id: 'first-look', taskQueue: 'q' });
    await handle.signal(FirstLook.prototype.poke, 'early');
    const worker = env.newWorker({ taskQueue: 'q', workflows: [FirstLook] });
    expect(await worker.runUntil(handle.result())).toEqual(['early']);
    expect(starts).toHaveBeenCalledTimes(1);
    const history = await handle.fetchHistory();
    expect(history.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
  });
});

/**
 * A run's first task, with the events the start wrote: on a single Redis the start's script
 * queues it itself on the task queue's first-task list, which workers take without a BullMQ job;
 * on a Redis Cluster, where the task queue's keys are on another node than the run's, the client
 * dispatches its job after the start's reply.
 */
describe("a run's first task", () => {
  let env: TestEnvironment;
  let onCluster: boolean;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    onCluster = env.client.engine.redis instanceof Cluster;
  });
  afterEach(() => env.teardown());

  it('carries exactly the events the start wrote, and the worker takes the task with its completion', async () => {
    const { engine } = env.client;
    const dispatched = jest.spyOn(engine.dispatcher, 'dispatch');
    const handle = await env.client.startWorkflow(OneStep, { args: ['a/b "c" é'], id: 'first', taskQueue: 'q', memo: { note: 'x' } });
    expect(dispatched).toHaveBeenCalledTimes(onCluster ? 1 : 0);
    // On a single Redis the start queues the task on the task queue's first-task list; on a
    // cluster (where that list is on another node) the client dispatches its job.
    const job = await engine.dispatcher.queue(engine.keys.taskQueuePrefix('q'), QueueNames.workflow).getJob(`w.${handle.runId}.1`);
    const listed = await engine.redis.lrange(engine.keys.firstTasks('q'), 0, -1);
    const task = onCluster ? job!.data : JSON.parse(listed[0]!);
    expect(onCluster ? listed : job).toEqual(onCluster ? [] : undefined);
    const stored = await engine.redis.xrange(engine.keys.run('first', handle.runId).history, '-', '+');
    expect(task).toEqual({ runId: handle.runId, workflowId: 'first', token: '1', queue: 'q', history: stored });
    expect(stored).toHaveLength(2);

    const starts = jest.spyOn(engine, 'startWorkflowTask');
    const worker = env.newWorker({ taskQueue: 'q', workflows: [OneStep], activities: [new Echo()] });
    expect(await worker.runUntil(handle.result())).toBe('a/b "c" é');
    expect(starts).not.toHaveBeenCalledWith(expect.objectContaining({ runId: handle.runId }), expect.anything(), expect.anything());
    const history = await handle.fetchHistory();
    expect(history[2]!.eventType).toBe(EventType.WorkflowTaskStarted);
    expect(eventTypes(history)).toHaveLength(11);
  });

  it('is taken off the first-task list in batches no larger than the free workflow task slots', async () => {
    const { engine } = env.client;
    const handles = await Promise.all(
      Array.from({ length: 7 }, (_, i) => env.client.startWorkflow(OneStep, { args: [`x${i}`], id: `batch-${i}`, taskQueue: 'q' })),
    );
    const takes = jest.spyOn(engine, 'takeFirstTasks');
    const worker = env.newWorker({ taskQueue: 'q', workflows: [OneStep], activities: [new Echo()], maxConcurrentWorkflowTaskExecutions: 2 });
    expect(await worker.runUntil(Promise.all(handles.map((handle) => handle.result())))).toEqual(handles.map((_, i) => `x${i}`));
    // On a cluster there is no list: the tasks came as jobs.
    expect(takes.mock.calls.length > 0).toBe(!onCluster);
    for (const [, taskQueue, max] of takes.mock.calls) {
      expect(taskQueue).toBe('q');
      expect(max).toBeGreaterThanOrEqual(1);
      expect(max).toBeLessThanOrEqual(2);
    }
    expect(takes.mock.calls.some(([, , max]) => max === 2)).toBe(!onCluster);
    expect(await engine.redis.llen(engine.keys.firstTasks('q'))).toBe(0);
  });

  it('is not queued for a start the id policy refused: no worker runs a phantom first task', async () => {
    const { engine } = env.client;
    const first = await env.client.startWorkflow(FirstLook, { id: 'taken-id', taskQueue: 'q' });
    await expect(env.client.startWorkflow(FirstLook, { id: 'taken-id', taskQueue: 'q' })).rejects.toThrow(WorkflowAlreadyStartedError);
    const queue = engine.dispatcher.queue(engine.keys.taskQueuePrefix('q'), QueueNames.workflow);
    const jobs = (await queue.getWaiting()).map((job) => job.id);
    const listed = (await engine.redis.lrange(engine.keys.firstTasks('q'), 0, -1)).map((entry) => (JSON.parse(entry) as { runId: string }).runId);
    expect(onCluster ? jobs : listed).toEqual(onCluster ? [`w.${first.runId}.1`] : [first.runId]);
    expect(onCluster ? listed : jobs).toEqual([]);
    const worker = env.newWorker({ taskQueue: 'q', workflows: [FirstLook] });
    expect(await worker.runUntil(first.result())).toEqual([]);
  });
});

/**
 * An activity's first attempt completing in a worker that holds its run: the worker runs the
 * workflow task the result wakes on the events recording it will write, and sends both in one
 * round trip; when the run moved on, the result is recorded and the task runs the ordinary way.
 */
describe("an activity's result and the workflow task it wakes", () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  type PredictedTask = ReturnType<TestEnvironment['client']['engine']['activityCompletedTask']>;

  /** Every predicted task (passed through `distort`), and each pair of replies. */
  function recordMerges(distort: (task: PredictedTask) => PredictedTask = (task) => task) {
    const { engine } = env.client;
    const predicted: HistoryEvent[][] = [];
    const predict = engine.activityCompletedTask.bind(engine);
    jest.spyOn(engine, 'activityCompletedTask').mockImplementation((...args) => {
      const task = distort(predict(...args));
      predicted.push(task.events);
      return task;
    });
    const codes: number[] = [];
    const merge = engine.completeActivityWithNextTask.bind(engine);
    jest.spyOn(engine, 'completeActivityWithNextTask').mockImplementation(async (...args) => {
      const replies = await merge(...args);
      codes.push(replies.workflowTask.code);
      return replies;
    });
    return { predicted, codes };
  }

  it('runs the task on exactly the events the result writes, and commits both together', async () => {
    const { predicted, codes } = recordMerges();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Chain], activities: [new Echo()] });
    const handle = await env.client.startWorkflow(Chain, { args: [3, false], id: 'chain', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe('go.0.1.2');
    expect(codes).toEqual([ReplyCode.Ok, ReplyCode.Ok, ReplyCode.Ok]);
    const history = await handle.fetchHistory();
    // What the worker ran each task on is what was written, event for event.
    for (const events of predicted) {
      for (const event of events) expect(event).toEqual(history[event.eventId - 1]);
      expect(events.at(-1)!.eventType).toBe(EventType.WorkflowTaskStarted);
    }
    expect(predicted.map((events) => events[0]!.eventId)).toEqual([4, 10, 16]);
    expect(eventTypes(history).filter((t) => t === EventType.WorkflowTaskCompleted)).toHaveLength(4);
    const times = history.map((e) => Date.parse(e.eventTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it.each([
    // The time is refused (later than now): the task is not taken, and goes through the sticky queue.
    ['a time the result cannot take', (task: PredictedTask) => ({ ...task, now: task.now + 60_000 })],
    // Taken, but on other events than predicted: run again from the whole history.
    [
      'events other than written',
      (task: PredictedTask) => {
        const last = task.events.at(-1)!;
        const phantom = { ...last, eventId: last.eventId + 1, eventType: EventType.WorkflowExecutionSignaled, attributes: { signalName: 'phantom', input: [] } };
        return { ...task, events: [...task.events, phantom] };
      },
    ],
  ])('records the result and runs the task the ordinary way after a wrong prediction: %s', async (_case, distort) => {
    const { codes } = recordMerges(distort);
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Chain], activities: [new Echo()] });
    const handle = await env.client.startWorkflow(Chain, { args: [2, false], id: 'mispredicted', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe('go.0.1');
    expect(codes).toEqual([ReplyCode.Stale, ReplyCode.Stale]);
    const history = await handle.fetchHistory();
    expect(eventTypes(history).filter((t) => t === EventType.WorkflowTaskFailed)).toEqual([]);
    expect(eventTypes(history).filter((t) => t === EventType.ActivityTaskCompleted)).toHaveLength(2);
    expect(eventTypes(history).filter((t) => t === EventType.WorkflowTaskCompleted)).toHaveLength(3);
  });

  it('commits a predicted task only if its own result took it, when results of one run come together', async () => {
    const { codes } = recordMerges();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [FanOut], activities: [new Echo()] });
    const handles = await Promise.all([1, 2, 3].map((i) => env.client.startWorkflow(FanOut, { args: [8], id: `fan-${i}`, taskQueue: 'q' })));
    const expected = Array.from({ length: 8 }, (_, i) => `r${i}`);
    expect(await worker.runUntil(Promise.all(handles.map((h) => h.result())))).toEqual([expected, expected, expected]);
    expect(codes.length).toBeGreaterThan(0);
    for (const handle of handles) {
      const history = await handle.fetchHistory();
      expect(eventTypes(history).filter((t) => t === EventType.WorkflowTaskFailed)).toEqual([]);
      const results = history.filter((e) => e.eventType === EventType.ActivityTaskCompleted).map((e) => (e.attributes as { result: [{ data: string }] }).result[0].data);
      expect([...results].sort()).toEqual(expected);
    }
  });

  it('records the result alone when the task it wakes runs local activities, which then run the ordinary way', async () => {
    const { codes } = recordMerges();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Chain], activities: [new Echo()] });
    const handle = await env.client.startWorkflow(Chain, { args: [1, true], id: 'then-local', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe('GO.0');
    expect(codes).toEqual([]);
    const history = await handle.fetchHistory();
    expect(eventTypes(history).slice(4)).toEqual([
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.WorkflowExecutionCompleted,
    ]);
  });
});
