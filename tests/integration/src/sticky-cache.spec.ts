import { Activity, ApplicationError, EventType, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Counter {
  @Activity()
  async increment(n: number): Promise<number> {
    return n + 1;
  }
}

/** `steps` activities in sequence: one workflow task per step. */
@WorkflowDefn()
class Count {
  @WorkflowRun()
  async run(steps: number): Promise<number> {
    let n = 0;
    for (let i = 0; i < steps; i++) n = await workflow.executeActivity(Counter.prototype.increment, n, { startToCloseTimeout: '5s' });
    return n;
  }
}

class FlakyCounter {
  /** Fails its first attempt: a retry's result is recorded alone, handing the next task over. */
  @Activity()
  async bump(n: number): Promise<number> {
    if (activity.info().attempt === 1) throw new ApplicationError('not yet');
    return n + 1;
  }
}

/**
 * Like Count, with every activity completing on its second attempt. (A first attempt's result
 * is committed with the workflow task it wakes, run on predicted events: merged-transitions.spec.)
 */
@WorkflowDefn()
class CountRetried {
  @WorkflowRun()
  async run(steps: number): Promise<number> {
    let n = 0;
    for (let i = 0; i < steps; i++) {
      n = await workflow.executeActivity(FlakyCounter.prototype.bump, n, { startToCloseTimeout: '5s', retryPolicy: { initialInterval: 10 } });
    }
    return n;
  }
}

/** Like Count, with the activities on another task queue. */
@WorkflowDefn()
class CountElsewhere {
  @WorkflowRun()
  async run(steps: number): Promise<number> {
    let n = 0;
    for (let i = 0; i < steps; i++) {
      n = await workflow.executeActivity(Counter.prototype.increment, n, { startToCloseTimeout: '5s', taskQueue: 'elsewhere' });
    }
    return n;
  }
}

describe('workflow cache and sticky routing', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  /**
   * Each workflow task a worker took from a queue: the event id the worker already held, and the
   * first event it got (from startWorkflowTask, or from the job of a run's first task).
   */
  function recordTaskStarts() {
    const calls: Array<{ seen: number; firstEventId?: number; identity: string }> = [];
    const { engine } = env.client;
    const original = engine.startWorkflowTask.bind(engine);
    jest.spyOn(engine, 'startWorkflowTask').mockImplementation(async (task, identity, seen, taken) => {
      const start = await original(task, identity, seen, taken);
      if (start && !taken) calls.push({ seen, firstEventId: start.events[0]?.eventId, identity });
      return start;
    });
    const fromJob = engine.workflowTaskFromJob.bind(engine);
    jest.spyOn(engine, 'workflowTaskFromJob').mockImplementation((task, identity) => {
      const start = fromJob(task, identity);
      if (start) calls.push({ seen: 0, firstEventId: start.events[0]?.eventId, identity });
      return start;
    });
    return calls;
  }

  const taskIdentities = (history: HistoryEvent[]) =>
    history.filter((e) => e.eventType === EventType.WorkflowTaskStarted).map((e) => (e.attributes as { identity: string }).identity);

  it('applies only the new events to a cached run, and keeps a run on the worker that holds it', async () => {
    const calls = recordTaskStarts();
    // Every workflow task through the queues (no eager hand-over), so each one is a task start.
    const options = { taskQueue: 'q', workflows: [Count], activities: [new Counter()], eagerExecution: false };
    const a = env.newWorker({ ...options, identity: 'worker-a' });
    const b = env.newWorker({ ...options, identity: 'worker-b' });
    const handle = await env.client.startWorkflow(Count, 5, { id: 'count', taskQueue: 'q' });
    expect(await a.runUntil(b.runUntil(handle.result()))).toBe(5);

    expect(calls).toHaveLength(6);
    expect(calls[0]).toMatchObject({ seen: 0, firstEventId: 1 });
    for (const call of calls.slice(1)) {
      expect(call.seen).toBeGreaterThan(0);
      expect(call.firstEventId).toBe(call.seen + 1);
    }
    // Sticky: every task after the first ran where the first did.
    const identities = taskIdentities(await handle.fetchHistory());
    expect(new Set(identities).size).toBe(1);
    expect(identities).toHaveLength(6);
  });

  it('takes the next workflow task at once where an activity of a cached run completes, with only the new events', async () => {
    const calls = recordTaskStarts();
    const handed: Array<{ seen: number; firstEventId?: number }> = [];
    const original = env.client.engine.completeActivityTask.bind(env.client.engine);
    jest.spyOn(env.client.engine, 'completeActivityTask').mockImplementation(async (ref, workerId, outcome, details, eager) => {
      const reply = await original(ref, workerId, outcome, details, eager);
      if (reply.workflowTask) handed.push({ seen: eager!.seenEventId, firstEventId: reply.workflowTask.events[0]?.eventId });
      return reply;
    });
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CountRetried], activities: [new FlakyCounter()] });
    const handle = await env.client.startWorkflow(CountRetried, 4, { id: 'eager', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe(4);
    expect(calls).toHaveLength(1); // only the first task came from a queue
    expect(handed).toHaveLength(4);
    for (const task of handed) {
      expect(task.seen).toBeGreaterThan(0);
      expect(task.firstEventId).toBe(task.seen + 1);
    }
    // The history is the same as through the queues: Scheduled, Started, Completed per task.
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.eventType === EventType.WorkflowTaskScheduled)).toHaveLength(5);
    expect(history.filter((e) => e.eventType === EventType.WorkflowTaskStarted)).toHaveLength(5);
    expect(history.filter((e) => e.eventType === EventType.ActivityTaskStarted)).toHaveLength(4);
  });

  /**
   * Makes each eager hand-over report `seen(actual)` as the last event id the worker holds, as
   * when its cached runtime was away (held by a stale task, evicted) or came back meanwhile.
   */
  function misreportSeenEventId(seen: (actual: number) => number) {
    const handed: number[] = [];
    const original = env.client.engine.completeActivityTask.bind(env.client.engine);
    jest.spyOn(env.client.engine, 'completeActivityTask').mockImplementation(async (ref, workerId, outcome, details, eager) => {
      const reply = await original(ref, workerId, outcome, details, eager && { ...eager, seenEventId: seen(eager.seenEventId) });
      if (reply.workflowTask) handed.push(reply.workflowTask.events[0]!.eventId);
      return reply;
    });
    return handed;
  }

  it.each([
    ['the whole history while the run is cached', () => 0, (seen: number[]) => expect(seen).toEqual([1, 1, 1])],
    ['events that do not continue the cached run', (actual: number) => actual - 1, (seen: number[]) => expect(seen).toEqual([3, 9, 15])],
  ])('rebuilds the run by replay when a task brings %s', async (_case, seen, expectHanded) => {
    const handed = misreportSeenEventId(seen);
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CountRetried], activities: [new FlakyCounter()] });
    const handle = await env.client.startWorkflow(CountRetried, 3, { id: 'misreported', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe(3);
    expectHanded(handed);
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.eventType === EventType.WorkflowTaskFailed)).toEqual([]);
    expect(history.filter((e) => e.eventType === EventType.WorkflowTaskCompleted)).toHaveLength(4);
  });

  it('rebuilds an evicted run by replaying its whole history', async () => {
    const calls = recordTaskStarts();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Count], activities: [new Counter()], maxCachedWorkflows: 1, eagerExecution: false });
    const handles = await Promise.all([0, 1, 2].map((i) => env.client.startWorkflow(Count, 3, { id: `count-${i}`, taskQueue: 'q' })));
    expect(await worker.runUntil(Promise.all(handles.map((h) => h.result())))).toEqual([3, 3, 3]);
    // With room for one run, interleaved runs keep evicting each other: some later tasks start over.
    const fullReplays = calls.filter((c) => c.seen === 0);
    expect(fullReplays.length).toBeGreaterThan(handles.length);
    for (const replay of fullReplays) expect(replay.firstEventId).toBe(1);
  });

  it('sends the next task of a run to the task queue when its sticky worker shuts down', async () => {
    const handle = await env.client.startWorkflow(CountElsewhere, 2, { id: 'handed-back', taskQueue: 'q' });
    // The first worker runs workflow tasks only: the run waits for its activity when it stops.
    const first = env.newWorker({ taskQueue: 'q', workflows: [CountElsewhere], identity: 'first' });
    await first.runUntil(waitForEvent(() => handle.fetchHistory(), EventType.ActivityTaskScheduled));
    // Were the run still routed to the first worker, this sticky timeout would never let it go.
    const second = env.newWorker({ taskQueue: 'q', workflows: [CountElsewhere], identity: 'second', stickyQueueScheduleToStartTimeout: '1h' });
    const activities = env.newWorker({ taskQueue: 'elsewhere', activities: [new Counter()] });
    expect(await second.runUntil(activities.runUntil(handle.result()))).toBe(2);
    const history = await handle.fetchHistory();
    const identities = taskIdentities(history);
    expect(identities[0]).toBe('first');
    expect(identities.slice(1)).toEqual(['second', 'second']);
    expect(history.some((e) => e.eventType === EventType.WorkflowTaskTimedOut)).toBe(false);
  });
});

async function waitForEvent(read: () => Promise<HistoryEvent[]>, type: EventType): Promise<HistoryEvent> {
  for (;;) {
    const event = (await read()).find((e) => e.eventType === type);
    if (event) return event;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
