import { randomBytes, randomUUID } from 'node:crypto';
import { EventType, WorkflowNotFoundError } from '@durabull/common';
import { RedisConnection } from './connection';
import { Engine } from './engine';
import { decodeAttributes } from './history-encoding';
import { parseClosedRunMessage } from './replies';
import type { CommandRecord } from './types';
import { ReplyCode, scriptLibrary } from './scripts';

/** The engine's fences, driven directly: no worker, so every step is explicit. Both ways of running its Lua. */
describe.each(['functions', 'eval'] as const)('Engine fences (scripts run as %s)', (scriptMode) => {
  let connection: RedisConnection;
  let engine: Engine;
  beforeEach(async () => {
    connection = RedisConnection.from();
    engine = await Engine.open(connection.client, { namespace: `test-${randomBytes(6).toString('hex')}`, shards: 4, scriptMode });
  });
  afterEach(async () => {
    await engine.purge();
    await engine.close();
    await connection.close();
  });

  async function startedTask() {
    const ref = { workflowId: 'fenced', runId: randomUUID() };
    await engine.startWorkflow({
      ...ref,
      workflowType: 'Fenced',
      taskQueue: 'q',
      attributes: { workflowType: 'Fenced', workflowId: 'fenced', taskQueue: 'q', input: [] },
      workflowTaskTimeout: 10_000,
      runTimeout: 0,
    });
    const task = { ...ref, token: '1', queue: 'q' };
    const start = await engine.startWorkflowTask(task, 'tester', 0);
    return { ref, task, start: start! };
  }

  type Task = { workflowId: string; runId: string; token: string };
  /** Completes the task, computed against history up to `fence`, with one command. */
  const completeWith = (task: Task, fence: number, command: CommandRecord) =>
    engine.completeWorkflowTask(task, { identity: 'tester', workerId: 'worker-1', stickyTimeout: 0, fence, commands: [command] });

  /** Completes the task with one command: a timer named `timerId`. */
  const complete = (task: Task, fence: number, timerId: string) =>
    completeWith(task, fence, {
      eventType: EventType.TimerStarted,
      attributes: { timerId, startToFireTimeout: 60_000, workflowTaskCompletedEventId: fence + 1 },
      meta: { ms: 60_000, timerId },
    });

  it(`sends its transitions as ${scriptMode === 'functions' ? 'FCALL' : 'EVALSHA'}`, async () => {
    const fcall = jest.spyOn(connection.client, 'fcall');
    await startedTask();
    const called = fcall.mock.calls.map(([fn]) => String(fn).slice(scriptLibrary().name.length + 1));
    // (A call that found the library not loaded yet is sent again once it is.)
    expect([...new Set(called)]).toEqual(scriptMode === 'functions' ? ['startWorkflow', 'startWorkflowTask'] : []);
  });

  it('lets exactly one of two concurrent completions of a workflow task append', async () => {
    const { ref, task, start } = await startedTask();
    expect(start.startedEventId).toBe(3);
    const codes = (await Promise.all([complete(task, 3, 'first'), complete(task, 3, 'second')])).map((r) => r.code);
    expect([...codes].sort()).toEqual([ReplyCode.Stale, ReplyCode.Ok].sort());
    const history = await engine.readHistory(ref);
    expect(history.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.TimerStarted,
    ]);
    expect(history.map((e) => e.eventId)).toEqual([1, 2, 3, 4, 5]);
    expect(['first', 'second']).toContain((history[4]!.attributes as { timerId: string }).timerId);
  });

  it('rejects a completion computed against an older history, leaving history as it was', async () => {
    const { ref, task } = await startedTask();
    const before = await engine.readHistory(ref);
    expect((await complete(task, 2, 'stale')).code).toBe(ReplyCode.Stale);
    expect(await engine.readHistory(ref)).toEqual(before);
  });

  it('refuses a completion with a command type it does not accept, writing nothing (not even its valid commands)', async () => {
    const { ref, task } = await startedTask();
    const keys = engine.keys.run(ref.workflowId, ref.runId);
    const snapshot = async () => ({
      history: await engine.readHistory(ref),
      state: await connection.client.hgetall(keys.state),
      deadlines: await connection.client.zrange(keys.deadlines, 0, -1),
      outbox: await connection.client.zrange(keys.outbox, 0, -1),
    });
    const before = await snapshot();
    const timer = {
      eventType: EventType.TimerStarted,
      attributes: { timerId: 't', startToFireTimeout: 60_000, workflowTaskCompletedEventId: 4 },
      meta: { ms: 60_000, timerId: 't' },
    };
    // An event type that is no command, and one the engine does not know at all.
    for (const eventType of [EventType.TimerFired, 'WorkflowExecutionSomethingElse' as EventType]) {
      const reply = await engine.completeWorkflowTask(task, {
        identity: 'tester',
        workerId: 'worker-1',
        stickyTimeout: 0,
        fence: 3,
        commands: [timer, { eventType, attributes: { timerId: 't', startedEventId: 5 }, meta: {} }],
      });
      expect(reply).toEqual({ code: ReplyCode.UnknownCommand, now: expect.any(Number), startedActivities: [], discarded: false, lastEventId: 0 });
      expect(await snapshot()).toEqual(before);
    }
    // The task is still the one started: its completion with known commands goes through.
    expect((await completeWith(task, 3, timer)).code).toBe(ReplyCode.Ok);
    expect((await engine.readHistory(ref)).map((e) => e.eventType).slice(3)).toEqual([
      EventType.WorkflowTaskCompleted,
      EventType.TimerStarted,
    ]);
  });

  it("counts the history's size in bytes of its JSON attributes, also of the commands a worker sends encoded", async () => {
    const { ref, task } = await startedTask();
    const keys = engine.keys.run(ref.workflowId, ref.runId);
    const scheduled = {
      eventType: EventType.ActivityTaskScheduled,
      attributes: { activityId: '1', activityType: 'überprüfen', taskQueue: 'q', input: [{ metadata: { encoding: 'json/plain' }, data: '✓' }], workflowTaskCompletedEventId: 4 },
      meta: { id: '1', type: 'überprüfen', tq: 'q', s2c: 0, s2s: 0, stc: 10_000, hb: 0, rp: { ii: 1000, bc: 2, mi: 100_000, ma: 0, nr: [] } },
    };
    expect((await completeWith(task, 3, scheduled)).code).toBe(ReplyCode.Ok);
    const entries = await connection.client.xrange(keys.history, '-', '+');
    const jsonBytes = entries.map(([, fields]) => Buffer.byteLength(decodeAttributes(fields[fields.indexOf('a') + 1]!)));
    expect(Number(await connection.client.hget(keys.state, 'hsz'))).toBe(jsonBytes.reduce((a, b) => a + b));
    // Stored as the Lua writer stores it: the payload prefix a byte, the names codes.
    const stored = entries[4]![1][entries[4]![1].indexOf('a') + 1]!;
    expect(stored).not.toContain('"activityType":');
    expect(JSON.parse(decodeAttributes(stored))).toEqual(scheduled.attributes);
  });

  it('rejects a second start of the same workflow task (a duplicate job)', async () => {
    const { task } = await startedTask();
    expect(await engine.startWorkflowTask(task, 'another worker', 0)).toBeUndefined();
  });

  it('refuses requests about a missing or closed run with errors naming the run and the transition', async () => {
    const missing = { workflowId: 'fenced', runId: 'no-such-run' };
    const notFound = await engine.requestCancelWorkflow(missing, '', 'tester').catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(WorkflowNotFoundError);
    expect(notFound).toMatchObject({
      message: 'Workflow execution not found: workflowId="fenced" runId="no-such-run"',
      transition: 'requestCancelWorkflow',
    });
    const { ref } = await startedTask();
    await engine.terminateWorkflow(ref, 'done', [], 'tester');
    const closed = await engine.terminateWorkflow(ref, 'again', [], 'tester').catch((error: unknown) => error);
    expect(closed).toBeInstanceOf(WorkflowNotFoundError);
    expect(closed).toMatchObject({
      message: `Workflow execution already completed: workflowId="fenced" runId=${JSON.stringify(ref.runId)}`,
      transition: 'terminateWorkflow',
    });
    await engine.deleteWorkflow(ref, 'tester');
    await expect(engine.deleteWorkflow(ref, 'tester')).rejects.toThrow(WorkflowNotFoundError);
  });

  it('records an activity result once, however often it is reported', async () => {
    const { ref, task } = await startedTask();
    await completeWith(task, 3, {
      eventType: EventType.ActivityTaskScheduled,
      attributes: { activityId: '1', activityType: 'a', taskQueue: 'q', input: [], workflowTaskCompletedEventId: 4 },
      meta: { id: '1', type: 'a', tq: 'q', s2c: 0, s2s: 0, stc: 10_000, hb: 0, rp: { ii: 1000, bc: 2, mi: 100_000, ma: 0, nr: [] } },
    });
    const attempt = { ...ref, scheduledEventId: 5, attempt: 1, taskQueue: 'q' };
    const started = await engine.startActivityTask(attempt, 'tester', 'worker-1');
    expect(started).toMatchObject({ activity: { activityId: '1', attempt: 1 } });
    expect(await engine.startActivityTask(attempt, 'tester', 'worker-2')).toBeUndefined();

    const result = { kind: 'completed' as const, result: [{ metadata: { encoding: 'json/plain' }, data: 42 }] };
    const reports = await Promise.all([
      engine.completeActivityTask(attempt, 'worker-1', result),
      engine.completeActivityTask(attempt, 'worker-1', result),
    ]);
    expect(reports.map((r) => r.recorded).sort()).toEqual([false, true]);
    // A report from a worker that never ran the attempt is refused too.
    expect((await engine.completeActivityTask(attempt, 'worker-2', result)).recorded).toBe(false);
    const types = (await engine.readHistory(ref)).map((e) => e.eventType);
    expect(types.filter((t) => t === EventType.ActivityTaskCompleted)).toHaveLength(1);
    expect(types.slice(5, 8)).toEqual([EventType.ActivityTaskStarted, EventType.ActivityTaskCompleted, EventType.WorkflowTaskScheduled]);
  });

  describe("an activity's result and the workflow task it hands over, in one call", () => {
    const result = [{ metadata: { encoding: 'json/plain' }, data: 42 }];
    const timer = (fence: number): CommandRecord => ({
      eventType: EventType.TimerStarted,
      attributes: { timerId: 't', startToFireTimeout: 60_000, workflowTaskCompletedEventId: fence + 1 },
      meta: { ms: 60_000, timerId: 't' },
    });

    /**
     * A run sticky to worker-1 (live), whose first task started activity 5 there eagerly, and the
     * task that activity's result hands over, as worker-1 predicts it.
     */
    async function predictedTask() {
      const { ref, task } = await startedTask();
      const keys = engine.keys.run(ref.workflowId, ref.runId);
      await connection.client.hset(keys.workers, 'worker-1', Date.now() + 60_000);
      const first = await engine.completeWorkflowTask(task, {
        identity: 'tester',
        workerId: 'worker-1',
        stickyTimeout: 5_000,
        fence: 3,
        commands: [
          {
            eventType: EventType.ActivityTaskScheduled,
            attributes: { activityId: '1', activityType: 'a', taskQueue: 'q', input: [], workflowTaskCompletedEventId: 4 },
            meta: { id: '1', type: 'a', tq: 'q', s2c: 0, s2s: 0, stc: 10_000, hb: 0, rp: { ii: 1000, bc: 2, mi: 100_000, ma: 0, nr: [] }, eager: 1 },
          },
        ],
      });
      const attempt = { ...ref, scheduledEventId: 5, attempt: 1 };
      const run = { taskQueue: 'q', taskTimeout: 10_000, token: '1', committedAt: first.now, written: (await engine.readHistory(ref)).slice(3) };
      const activity = first.startedActivities[0]!.activity;
      const next = engine.activityCompletedTask(attempt, run, activity, result, 'tester');
      const completion = { identity: 'tester', workerId: 'worker-1', stickyTimeout: 5_000, fence: next.startedEventId };
      return { ref, keys, attempt, next, completion, run, activity };
    }

    it("writes what the result and then the completion would, without the task's timeout or a job", async () => {
      const { ref, keys, attempt, next, completion } = await predictedTask();
      const replies = await engine.completeActivityWithNextTask(attempt, 'worker-1', result, undefined, next, { ...completion, commands: [timer(9)] });
      expect(replies.activity.recorded).toBe(true);
      expect(replies.activity.workflowTask).toMatchObject({ token: '2', attempt: 1, startedEventId: 9, events: [] });
      expect(replies.workflowTask).toMatchObject({ code: ReplyCode.Ok, lastEventId: 11, startedActivities: [] });
      const history = await engine.readHistory(ref);
      expect(history.map((e) => e.eventType).slice(3)).toEqual([
        EventType.WorkflowTaskCompleted,
        EventType.ActivityTaskScheduled,
        EventType.ActivityTaskStarted,
        EventType.ActivityTaskCompleted,
        EventType.WorkflowTaskScheduled,
        EventType.WorkflowTaskStarted,
        EventType.WorkflowTaskCompleted,
        EventType.TimerStarted,
      ]);
      // The task ran on exactly the events written; it completed at the call's time.
      expect(history.slice(3, 9)).toEqual(next.events);
      expect(history[9]).toMatchObject({ eventTime: new Date(replies.workflowTask.now).toISOString(), attributes: { scheduledEventId: 8, startedEventId: 9 } });
      const deadlines = await connection.client.zrange(keys.deadlines, 0, -1);
      expect(deadlines.map((member) => member.split('|')[0]).sort()).toEqual(['tmr']);
      expect(await connection.client.hmget(keys.state, 'wft', 'sticky')).toEqual(['', 'worker-1']);
      // No task for a queue: only the wake-ups of the activity's and the timer's deadlines.
      expect((await connection.client.zrange(keys.outbox, 0, -1)).map((member) => member.split('|')[0])).toEqual(['wake', 'wake']);
    });

    it("never predicts a time before the run's last event, which the script does not read: a clock behind takes the last commit's", async () => {
      const { ref, attempt, completion, run, activity } = await predictedTask();
      const realNow = Date.now;
      const behind = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 60_000);
      let next: ReturnType<typeof engine.activityCompletedTask>;
      try {
        next = engine.activityCompletedTask(attempt, run, activity, result, 'tester');
      } finally {
        behind.mockRestore();
      }
      expect(next.now).toBe(run.committedAt);
      const replies = await engine.completeActivityWithNextTask(attempt, 'worker-1', result, undefined, next, { ...completion, commands: [timer(9)] });
      expect(replies.activity.workflowTask).toMatchObject({ token: '2', startedEventId: 9 });
      const times = (await engine.readHistory(ref)).map((e) => Date.parse(e.eventTime));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(times.slice(6, 9)).toEqual([run.committedAt, run.committedAt, run.committedAt]);
    });

    it('leaves the task started, its timeout armed, when the completion is refused; the result stays recorded', async () => {
      const { ref, keys, attempt, next, completion } = await predictedTask();
      const unknown = { eventType: 'WorkflowExecutionSomethingElse' as EventType, attributes: {}, meta: {} };
      const replies = await engine.completeActivityWithNextTask(attempt, 'worker-1', result, undefined, next, { ...completion, commands: [unknown] });
      expect(replies.activity.recorded).toBe(true);
      expect(replies.workflowTask).toMatchObject({ code: ReplyCode.UnknownCommand, lastEventId: 0 });
      expect((await engine.readHistory(ref)).map((e) => e.eventType).slice(-2)).toEqual([EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted]);
      expect(await connection.client.hget(keys.state, 'wft')).toBe('started');
      expect(await connection.client.zrange(keys.deadlines, 0, -1)).toEqual([`wto|2||${ref.runId}|fenced`]);
      // The task is the one started: its completion goes through the ordinary way.
      expect((await completeWith({ ...ref, token: '2' }, 9, timer(9))).code).toBe(ReplyCode.Ok);
      expect(await connection.client.zrange(keys.deadlines, 0, -1)).toEqual([`tmr|11||${ref.runId}|fenced`]);
    });

    it('records the result alone when the run moved on from the prediction', async () => {
      const { ref, attempt, next, completion } = await predictedTask();
      await engine.signalWorkflow(ref, { signalName: 'poke', input: [], identity: 'tester' });
      const replies = await engine.completeActivityWithNextTask(attempt, 'worker-1', result, undefined, next, { ...completion, commands: [timer(9)] });
      expect(replies.activity).toEqual({ recorded: true, workflowTask: undefined });
      expect(replies.workflowTask.code).toBe(ReplyCode.Stale);
      expect((await engine.readHistory(ref)).map((e) => e.eventType).slice(5)).toEqual([
        EventType.WorkflowExecutionSignaled,
        EventType.WorkflowTaskScheduled,
        EventType.ActivityTaskStarted,
        EventType.ActivityTaskCompleted,
      ]);
    });
  });

  it('compacts a closed run: its state keeps only what a closed run needs', async () => {
    const { ref, task } = await startedTask();
    const reply = await completeWith(task, 3, {
      eventType: EventType.WorkflowExecutionCompleted,
      attributes: { result: [], workflowTaskCompletedEventId: 4 },
      meta: {},
    });
    expect(reply.code).toBe(ReplyCode.Ok);
    const keys = engine.keys.run(ref.workflowId, ref.runId);
    expect(await connection.client.object('ENCODING', keys.state)).toBe('listpack');
    expect((await connection.client.hkeys(keys.state)).sort()).toEqual(
      ['att', 'close', 'creq', 'frst', 'hsz', 'last', 'rto', 'start', 'status', 'sticky', 'tq', 'type', 'watt', 'wft', 'wid'].sort(),
    );
    expect(await connection.client.hmget(keys.state, 'status', 'last', 'wft')).toEqual(['COMPLETED', '5', '']);
  });

  it('runs a run whose state hash has more fields than it reads whole (by name), and compacts it at its close', async () => {
    const ref = { workflowId: 'many-fields', runId: randomUUID() };
    await engine.startWorkflow({
      ...ref,
      workflowType: 'Fenced',
      taskQueue: 'q',
      attributes: { workflowType: 'Fenced', workflowId: ref.workflowId, taskQueue: 'q', input: [] },
      workflowTaskTimeout: 10_000,
      runTimeout: 0,
    });
    // Each signal's request id is kept in the state hash (r:<requestId>) until the run is deleted.
    for (let i = 0; i < 70; i++) {
      await engine.signalWorkflow(ref, { signalName: 'poke', input: [], identity: 'tester', requestId: `request-${i}` });
    }
    const keys = engine.keys.run(ref.workflowId, ref.runId);
    expect(await connection.client.hlen(keys.state)).toBeGreaterThan(64);
    const start = await engine.startWorkflowTask({ ...ref, token: '1', queue: 'q' }, 'tester', 0);
    expect(start).toMatchObject({ attempt: 1, startedEventId: 73 });
    expect(start!.events.filter((e) => e.eventType === EventType.WorkflowExecutionSignaled)).toHaveLength(70);
    const reply = await completeWith({ ...ref, token: '1' }, 73, {
      eventType: EventType.WorkflowExecutionCompleted,
      attributes: { result: [], workflowTaskCompletedEventId: 74 },
      meta: {},
    });
    expect(reply.code).toBe(ReplyCode.Ok);
    expect((await engine.readHistory(ref)).slice(-2).map((e) => [e.eventId, e.eventType])).toEqual([
      [74, EventType.WorkflowTaskCompleted],
      [75, EventType.WorkflowExecutionCompleted],
    ]);
    expect(await connection.client.hmget(keys.state, 'status', 'last', 'wtok', 'wstd', 'uq')).toEqual(['COMPLETED', '75', null, null, null]);
    expect((await connection.client.hkeys(keys.state)).filter((field) => field.startsWith('r:'))).toHaveLength(70);
  });

  it('publishes a close with the close event when it is small, with the run id alone when it is not', async () => {
    const subscriber = connection.duplicate();
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(engine.keys.closedChannel);
    const close = async (result: string) => {
      const { ref, task } = await startedTask();
      await completeWith(task, 3, {
        eventType: EventType.WorkflowExecutionCompleted,
        attributes: { result: [{ metadata: { encoding: 'json/plain' }, data: result }], workflowTaskCompletedEventId: 4 },
        meta: {},
      });
      return ref;
    };
    const small = await close('small');
    const large = await close('x'.repeat(3000));
    while (messages.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    connection.release(subscriber);

    const [smallMessage, largeMessage] = messages.map(parseClosedRunMessage);
    expect(smallMessage).toEqual({ runId: small.runId, closeEvent: (await engine.readHistory(small)).at(-1) });
    expect(smallMessage!.closeEvent).toMatchObject({ eventId: 5, eventType: EventType.WorkflowExecutionCompleted });
    expect(largeMessage).toEqual({ runId: large.runId });
  });

  it('keeps namespaces apart: a run id of one namespace is unknown to another', async () => {
    const { ref } = await startedTask();
    const other = await Engine.open(connection.client, { namespace: `test-${randomBytes(6).toString('hex')}` });
    expect(await other.describeRun(ref)).toBeUndefined();
    expect(await other.readHistory(ref)).toEqual([]);
    await other.purge();
    await other.close();
  });
});

describe('the Lua function library', () => {
  let connection: RedisConnection;
  let engine: Engine;
  beforeEach(async () => {
    connection = RedisConnection.from();
    engine = await Engine.open(connection.client, { namespace: `test-${randomBytes(6).toString('hex')}` });
  });
  afterEach(async () => {
    await engine.purge();
    await engine.close();
    await connection.close();
  });

  const libraryLoaded = async () =>
    ((await connection.client.call('FUNCTION', 'LIST', 'LIBRARYNAME', scriptLibrary().name)) as unknown[]).length === 1;

  it('is loaded again when Redis lost it (a restart without persistence, FUNCTION FLUSH), and the call goes through', async () => {
    await engine.fireDueDeadlines(0);
    expect(await libraryLoaded()).toBe(true);
    await connection.client.call('FUNCTION', 'DELETE', scriptLibrary().name);
    expect(await libraryLoaded()).toBe(false);
    expect(await engine.fireDueDeadlines(0)).toEqual({});
    expect(await libraryLoaded()).toBe(true);
  });
});
