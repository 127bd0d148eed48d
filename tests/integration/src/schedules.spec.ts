import {
  ApplicationError,
  Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  TimeoutError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowRun,
  WorkflowSignal,
  workflow,
} from '@durabull/sdk';
import type { ScheduleHandle, ScheduleOptions, Worker } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

// Schedules (API.md "Starting, ids, schedules, retention"; TEMPORAL-SEMANTICS §22): started ids,
// overlap policies, catch-up window, pause/unpause/trigger/backfill/update/delete, remaining
// actions, listing, and concurrent firing. Time is the namespace's: env.sleep() moves it and
// fires what came due.

// Loaded machines (the cluster rerun beside other suites) need more than Jest's 5 s default.
jest.setTimeout(20_000);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

@WorkflowDefn({ name: 'Greet' })
class Greet {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    return `hello ${name} from ${workflow.info().workflowId}`;
  }
}

/** Runs until released. */
@WorkflowDefn({ name: 'Blocker' })
class Blocker {
  released = false;

  @WorkflowRun()
  async run(): Promise<string> {
    await workflow.waitCondition(() => this.released);
    return 'released';
  }

  @WorkflowSignal({ name: 'release' })
  release(): void {
    this.released = true;
  }
}

@WorkflowDefn({ name: 'Failing' })
class Failing {
  @WorkflowRun()
  async run(): Promise<void> {
    throw new ApplicationError('boom');
  }
}

/** Fails its first attempt; later attempts return their attempt number. */
@WorkflowDefn({ name: 'FailsOnce' })
class FailsOnce {
  @WorkflowRun()
  async run(): Promise<number> {
    if (workflow.info().attempt === 1) throw new ApplicationError('first attempt');
    return workflow.info().attempt;
  }
}

/** Sleeps for a day, then fails. */
@WorkflowDefn({ name: 'SleepyFailing' })
class SleepyFailing {
  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.sleep('1d');
    throw new ApplicationError('tired');
  }
}

const iso = (t: Date | number) => new Date(t).toISOString().replace('.000Z', 'Z');

describe('schedules', () => {
  let env: TestEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  beforeEach(async () => {
    env = await TestEnvironment.create();
    worker = env.newWorker({ taskQueue: 'sq', workflows: [Greet, Blocker, Failing, FailsOnce] });
    running = worker.run();
  });
  afterEach(async () => {
    await env.teardown();
    await running;
  });

  const every = ({ workflow = 'Greet', interval = '1h', ...overrides }: Partial<ScheduleOptions> & { workflow?: string; interval?: string } = {}): ScheduleOptions => ({
    action: { workflow, args: ['world'], id: 'wf', taskQueue: 'sq' },
    spec: { intervals: [{ every: interval }] },
    ...overrides,
  });

  /** Moves the namespace clock to just past `t` (firing what came due). */
  async function advanceTo(t: Date | number): Promise<void> {
    const now = (await env.currentTime()).getTime();
    await env.sleep(Math.max(0, new Date(t).getTime() - now + 1));
  }

  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (const deadline = Date.now() + 10_000; ; ) {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function statuses(ids: string[]): Promise<string[]> {
    return Promise.all(ids.map(async (id) => (await env.client.getWorkflowHandle(id).describe()).status));
  }

  const startedIds = async (handle: ScheduleHandle) =>
    (await handle.describe()).info.recentActions.map((action) => action.action.workflow.workflowId);

  async function listedIds(): Promise<string[]> {
    const ids = [];
    for await (const summary of env.client.listSchedules()) ids.push(summary.scheduleId);
    return ids;
  }

  /** A schedule with one action, taken: finished once it has seen that run close. */
  async function finishedOnce(scheduleId: string): Promise<ScheduleHandle> {
    const handle = await env.client.createSchedule(scheduleId, { ...every(), state: { remainingActions: 1 } });
    const [t] = (await handle.describe()).info.nextActionTimes;
    await advanceTo(t!);
    await env.client.getWorkflowHandle(`wf-${iso(t!)}`).result();
    const { info } = await eventually(() => handle.describe(), (d) => d.info.runningActions.length === 0);
    expect(info.runningActions).toEqual([]);
    return handle;
  }

  it('starts the action at each interval time, as <id>-<time ISO>, exactly once; describe and list show it', async () => {
    const handle = await env.client.createSchedule('hourly', every());
    const before = await handle.describe();
    const times = before.info.nextActionTimes;
    expect(times).toHaveLength(10);
    expect(times.every((t) => t.getTime() % HOUR === 0)).toBe(true);
    expect(times[1]!.getTime() - times[0]!.getTime()).toBe(HOUR);
    expect(before.info.recentActions).toEqual([]);
    expect(before.action).toMatchObject({ workflow: 'Greet', id: 'wf', taskQueue: 'sq', args: ['world'] });
    expect(before.policies).toEqual({ overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 365 * 24 * HOUR, pauseOnFailure: false });

    for (const t of times.slice(0, 3)) {
      await advanceTo(t);
      const result = await env.client.getWorkflowHandle(`wf-${iso(t)}`).result();
      expect(result).toBe(`hello world from wf-${iso(t)}`);
    }
    // The schedule records an action once its start returned: the run may have closed first.
    const after = await eventually(() => handle.describe(), (d) => d.info.recentActions.length === 3);
    expect(after.info.recentActions.map((a) => [a.scheduledAt.toISOString(), a.action.workflow.workflowId, a.status])).toEqual(
      times.slice(0, 3).map((t) => [t.toISOString(), `wf-${iso(t)}`, 'COMPLETED']),
    );
    expect(after.info.numActionsTaken).toBe(3);
    expect(after.info.nextActionTimes[0]).toEqual(times[3]);
    expect(await env.client.countWorkflows()).toBe(3);

    const summaries = [];
    for await (const summary of env.client.listSchedules()) summaries.push(summary);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ scheduleId: 'hourly', action: { workflowType: 'Greet' }, state: { paused: false } });
    expect(summaries[0]!.info.recentActions).toHaveLength(3);
    expect(summaries[0]!.info.nextActionTimes).toHaveLength(5);
  });

  it('fires on its own at real times (wake-up jobs), without anyone moving the clock', async () => {
    const handle = await env.client.createSchedule('seconds', { ...every({ interval: '1s' }), policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL } });
    const { info } = await eventually(() => handle.describe(), (d) => d.info.recentActions.length >= 3);
    await handle.pause();
    const times = info.recentActions.map((a) => a.scheduledAt.getTime());
    expect(times.slice(0, 3).every((t, i) => t % 1000 === 0 && (i === 0 || t - times[i - 1]! === 1000))).toBe(true);
    for (const action of info.recentActions.slice(0, 3)) {
      expect(action.action.workflow.workflowId).toBe(`wf-${iso(action.scheduledAt)}`);
      expect(action.takenAt.getTime()).toBeGreaterThanOrEqual(action.scheduledAt.getTime());
    }
  });

  it('fires a cron string in its time zone', async () => {
    const handle = await env.client.createSchedule('nightly', {
      ...every(),
      spec: { cronExpressions: ['30 2 * * *'], timezone: 'America/New_York' },
    });
    const [first, second] = (await handle.describe()).info.nextActionTimes;
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit' }).format(first)).toBe('02:30');
    expect(second!.getTime() - first!.getTime()).toBeGreaterThanOrEqual(23 * HOUR);
    await advanceTo(first!);
    expect(await env.client.getWorkflowHandle(`wf-${iso(first!)}`).result()).toBe(`hello world from wf-${iso(first!)}`);
  });

  it('rejects bad specs naming the bad value, and a taken id', async () => {
    const create = (spec: ScheduleOptions['spec']) => env.client.createSchedule('bad', { ...every(), spec });
    await expect(create({ cronExpressions: ['61 * * * *'] })).rejects.toThrow('Invalid cron expression "61 * * * *": minute "61" is not in 0-59');
    await expect(create({ cronExpressions: ['0 * * * *'], timezone: 'Mars/Olympus' })).rejects.toThrow('Unknown time zone "Mars/Olympus"');
    await expect(create({ intervals: [{ every: 0 }] })).rejects.toThrow('Invalid interval every: 0 (must be > 0)');
    await expect(create({ intervals: [{ every: '-5s' }] })).rejects.toThrow('"-5s"');
    await expect(env.client.createSchedule('bad', { ...every(), policies: { overlapPolicy: 'SKIP' } as never })).rejects.toThrow(
      'Unknown schedule policies option(s): overlapPolicy (known: overlap, catchupWindow, pauseOnFailure)',
    );
    await expect(env.client.createSchedule('bad', { ...every(), policies: { overlap: 'NEVER' as ScheduleOverlapPolicy } })).rejects.toThrow(
      'Invalid overlap policy: "NEVER" (one of SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER, TERMINATE_OTHER, ALLOW_ALL)',
    );
    await env.client.createSchedule('taken', every());
    const error = await env.client.createSchedule('taken', every()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScheduleAlreadyRunning);
    expect((error as ScheduleAlreadyRunning).scheduleId).toBe('taken');
  });

  describe('overlap policies', () => {
    async function overlapping(overlap: ScheduleOverlapPolicy, due = 2) {
      const handle = await env.client.createSchedule(`o-${overlap}`, { ...every({ workflow: 'Blocker' }), policies: { overlap } });
      const times = (await handle.describe()).info.nextActionTimes;
      for (const t of times.slice(0, due)) await advanceTo(t);
      return { handle, times };
    }

    it('SKIP drops a start while the last run runs', async () => {
      const { handle, times } = await overlapping(ScheduleOverlapPolicy.SKIP, 3);
      const { info } = await handle.describe();
      expect(info.numActionsSkippedOverlap).toBe(2);
      expect(info.runningActions.map((a) => a.workflow.workflowId)).toEqual([`wf-${iso(times[0]!)}`]);
    });

    it('BUFFER_ONE keeps one start for when the run closes', async () => {
      const { handle, times } = await overlapping(ScheduleOverlapPolicy.BUFFER_ONE, 3);
      let { info } = await handle.describe();
      expect([info.bufferSize, info.numActionsSkippedOverlap]).toEqual([1, 1]);
      await env.client.getWorkflowHandle(`wf-${iso(times[0]!)}`).signal('release');
      // recentActions shows a start once it is handed over, a step after the buffer empties.
      info = (await eventually(() => handle.describe(), (d) => d.info.bufferSize === 0 && d.info.recentActions.length === 2)).info;
      expect(info.runningActions.map((a) => a.workflow.workflowId)).toEqual([`wf-${iso(times[1]!)}`]);
      expect(await startedIds(handle)).toEqual([`wf-${iso(times[0]!)}`, `wf-${iso(times[1]!)}`]);
    });

    it('BUFFER_ALL runs every start, one after another', async () => {
      const { handle, times } = await overlapping(ScheduleOverlapPolicy.BUFFER_ALL, 3);
      expect((await handle.describe()).info.bufferSize).toBe(2);
      for (const t of times.slice(0, 3)) {
        const id = `wf-${iso(t)}`;
        await eventually(() => startedIds(handle), (ids) => ids.includes(id));
        await env.client.getWorkflowHandle(id).signal('release');
      }
      await eventually(() => statuses(times.slice(0, 3).map((t) => `wf-${iso(t)}`)), (s) => s.every((x) => x === WorkflowExecutionStatus.COMPLETED));
      expect(await startedIds(handle)).toEqual(times.slice(0, 3).map((t) => `wf-${iso(t)}`));
    });

    it('ALLOW_ALL starts concurrently', async () => {
      const { handle, times } = await overlapping(ScheduleOverlapPolicy.ALLOW_ALL, 3);
      const ids = times.slice(0, 3).map((t) => `wf-${iso(t)}`);
      expect((await handle.describe()).info.runningActions.map((a) => a.workflow.workflowId)).toEqual(ids);
      expect(await statuses(ids)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    });

    it('TERMINATE_OTHER terminates the running run, then starts', async () => {
      const { handle, times } = await overlapping(ScheduleOverlapPolicy.TERMINATE_OTHER);
      const [first, second] = times.slice(0, 2).map((t) => `wf-${iso(t)}`);
      expect(await statuses([first!, second!])).toEqual(['TERMINATED', 'RUNNING']);
      const history = await env.client.getWorkflowHandle(first!).fetchHistory();
      expect(history.at(-1)!.attributes).toMatchObject({ reason: 'terminated by schedule overlap policy' });
      expect((await handle.describe()).info.recentActions.map((a) => a.status)).toEqual(['TERMINATED', 'RUNNING']);
    });

    it('CANCEL_OTHER cancels the running run, then starts once it has closed', async () => {
      const { handle, times } = await overlapping(ScheduleOverlapPolicy.CANCEL_OTHER);
      const [first, second] = times.slice(0, 2).map((t) => `wf-${iso(t)}`);
      await eventually(() => statuses([first!]), (s) => s[0] === 'CANCELED');
      await eventually(() => startedIds(handle), (ids) => ids.includes(second!));
      expect(await statuses([first!, second!])).toEqual(['CANCELED', 'RUNNING']);
    });
  });

  it('skips times older than the catch-up window (after an outage)', async () => {
    const handle = await env.client.createSchedule('catchup', { ...every({ interval: '1m' }), policies: { catchupWindow: '10s' } });
    const times = (await handle.describe()).info.nextActionTimes;
    // The clock jumps with nobody firing (an outage), to 5 s after the fifth time.
    const now = (await env.currentTime()).getTime();
    const offset = Number((await env.client.redis.hget(env.client.engine.keys.shard(0).settings, 'clock')) ?? 0) + times[4]!.getTime() + 5000 - now;
    for (let shard = 0; shard < env.client.engine.keys.shardCount; shard++) {
      await env.client.redis.hset(env.client.engine.keys.shard(shard).settings, 'clock', offset);
    }
    await env.sleep(0);
    // A worker may be firing the schedule meanwhile: its action is recorded once its start returned.
    const { info } = await eventually(() => handle.describe(), (d) => d.info.recentActions.length > 0);
    expect(info.numActionsMissedCatchupWindow).toBe(4);
    expect(await startedIds(handle)).toEqual([`wf-${iso(times[4]!)}`]);
  });

  it('pause skips times, trigger works while paused, unpause does not run what passed', async () => {
    const handle = await env.client.createSchedule('p', every());
    const times = (await handle.describe()).info.nextActionTimes;
    await handle.pause('maintenance');
    let description = await handle.describe();
    expect(description.state).toEqual({ paused: true, note: 'maintenance' });
    expect(description.info.nextActionTimes).toEqual([]);
    await advanceTo(times[0]!);
    expect(await startedIds(handle)).toEqual([]);

    await handle.trigger();
    const [triggered] = await startedIds(handle);
    const takenAt = (await handle.describe()).info.recentActions[0]!.takenAt;
    expect(triggered).toBe(`wf-${iso(Math.floor(takenAt.getTime() / 1000) * 1000)}`);
    expect(await env.client.getWorkflowHandle(triggered!).result()).toBe(`hello world from ${triggered}`);

    await handle.unpause();
    description = await handle.describe();
    expect(description.state).toEqual({ paused: false, note: 'Unpaused via TypeScript SDK' });
    expect(description.info.nextActionTimes[0]).toEqual(times[1]);
    await advanceTo(times[1]!);
    expect(await startedIds(handle)).toEqual([triggered, `wf-${iso(times[1]!)}`]);
  });

  it('backfills every spec time of a range, both ends included', async () => {
    const handle = await env.client.createSchedule('bf', every());
    const now = (await env.currentTime()).getTime();
    const hour = Math.floor(now / HOUR) * HOUR;
    await handle.backfill({ start: new Date(hour - 3 * HOUR), end: new Date(hour - HOUR), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
    const expected = [3, 2, 1].map((n) => `wf-${iso(hour - n * HOUR)}`);
    expect(await startedIds(handle)).toEqual(expected);
    for (const id of expected) expect(await env.client.getWorkflowHandle(id).result()).toBe(`hello world from ${id}`);
  });

  it('update changes the action and spec, discarding due times before it', async () => {
    const handle = await env.client.createSchedule('u', { ...every(), action: { ...every().action, memo: { team: 'ops' } } });
    expect((await handle.describe()).action.memo).toEqual({ team: 'ops' });
    await handle.update((previous) => ({
      ...previous,
      action: { ...previous.action, args: ['again'] },
      spec: { intervals: [{ every: '30m', offset: '5m' }] },
      policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.ALLOW_ALL },
    }));
    const description = await handle.describe();
    expect(description.spec.intervals).toEqual([{ every: 30 * MINUTE, offset: 5 * MINUTE }]);
    expect(description.policies.overlap).toBe(ScheduleOverlapPolicy.ALLOW_ALL);
    const next = description.info.nextActionTimes[0]!;
    expect(next.getTime() % (30 * MINUTE)).toBe(5 * MINUTE);
    await advanceTo(next);
    expect(await env.client.getWorkflowHandle(`wf-${iso(next)}`).result()).toBe(`hello again from wf-${iso(next)}`);
    expect((await env.client.getWorkflowHandle(`wf-${iso(next)}`).describe()).memo).toEqual({ team: 'ops' });
  });

  it('stops after its remaining actions; trigger does not count', async () => {
    const handle = await env.client.createSchedule('r', { ...every(), state: { remainingActions: 2 } });
    const times = (await handle.describe()).info.nextActionTimes;
    expect(times).toHaveLength(2);
    await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    for (const t of times) {
      await advanceTo(t);
      await env.client.getWorkflowHandle(`wf-${iso(t)}`).result();
    }
    await advanceTo(times[1]!.getTime() + 3 * HOUR);
    const description = await handle.describe();
    expect(description.state.remainingActions).toBe(0);
    expect(description.info.nextActionTimes).toEqual([]);
    expect(description.info.numActionsTaken).toBe(3);
    // An update that passes the state back keeps it used up; one with a new count starts again.
    await handle.update((previous) => previous);
    expect((await handle.describe()).info.nextActionTimes).toEqual([]);
    await handle.update((previous) => ({ ...previous, state: { ...previous.state, remainingActions: 1 } }));
    expect((await handle.describe()).info.nextActionTimes).toHaveLength(1);
  });

  // Here rather than in a time-skipping environment, which would skip straight to the deletion.
  it('keeps a finished schedule 7 days, then deletes it', async () => {
    const handle = await finishedOnce('once');
    await env.sleep(6 * DAY);
    expect((await handle.describe()).info.numActionsTaken).toBe(1);
    expect(await listedIds()).toEqual(['once']);
    await env.sleep(DAY);
    await expect(handle.describe()).rejects.toThrow(ScheduleNotFoundError);
    expect(await listedIds()).toEqual([]);
  });

  it('keeps a finished schedule that an update gives more to do within the 7 days', async () => {
    const handle = await finishedOnce('again');
    await env.sleep(6 * DAY);
    await handle.update((previous) => ({ ...previous, state: { ...previous.state, remainingActions: 1 } }));
    await env.sleep(2 * DAY);
    expect((await handle.describe()).info.numActionsTaken).toBe(2);
    expect(await listedIds()).toEqual(['again']);
  });

  it('delays each time by its jitter; the workflow id keeps the nominal time', async () => {
    const handle = await env.client.createSchedule('j', { ...every(), spec: { intervals: [{ every: '1h' }], jitter: '30m' } });
    const times = (await handle.describe()).info.nextActionTimes;
    const delays = times.map((t) => t.getTime() % HOUR);
    expect(delays.every((d) => d >= 0 && d < 30 * MINUTE)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(1);
    await advanceTo(times[0]!);
    const nominal = times[0]!.getTime() - delays[0]!;
    expect(await env.client.getWorkflowHandle(`wf-${iso(nominal)}`).result()).toBe(`hello world from wf-${iso(nominal)}`);
    expect((await handle.describe()).info.recentActions[0]!.scheduledAt).toEqual(times[0]);
  });

  it("passes the last run's result (and a failure since) to the next start, but not under ALLOW_ALL", async () => {
    const started = async (id: string) => (await env.client.getWorkflowHandle(id).fetchHistory())[0]!.attributes;
    const handle = await env.client.createSchedule('carry', every());
    const times = (await handle.describe()).info.nextActionTimes;
    await advanceTo(times[0]!);
    const first = await env.client.getWorkflowHandle(`wf-${iso(times[0]!)}`).result();
    await advanceTo(times[1]!);
    expect((await started(`wf-${iso(times[0]!)}`))['lastCompletionResult']).toBeUndefined();
    expect((await started(`wf-${iso(times[1]!)}`))['lastCompletionResult']).toEqual(env.client.payloads.toPayloads([first]));
    await env.client.getWorkflowHandle(`wf-${iso(times[1]!)}`).result();

    await handle.pause();
    const failing = await env.client.createSchedule('carry-failure', { ...every(), action: { workflow: 'Failing', id: 'f', taskQueue: 'sq' } });
    await advanceTo(times[2]!);
    await eventually(() => statuses([`f-${iso(times[2]!)}`]), (s) => s[0] === 'FAILED');
    await failing.update((previous) => ({ ...previous, action: { ...previous.action, workflow: 'Greet', args: ['again'] } }));
    await advanceTo(times[3]!);
    expect((await started(`f-${iso(times[3]!)}`))['continuedFailure']).toMatchObject({ message: 'boom' });
    await failing.delete();
    await handle.unpause();

    await handle.update((previous) => ({ ...previous, policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.ALLOW_ALL } }));
    await advanceTo(times[4]!);
    expect((await started(`wf-${iso(times[4]!)}`))['lastCompletionResult']).toBeUndefined();
  });

  it('pauses when a started run fails (pauseOnFailure)', async () => {
    const handle = await env.client.createSchedule('pof', { ...every({ workflow: 'Failing' }), policies: { pauseOnFailure: true } });
    const [t] = (await handle.describe()).info.nextActionTimes;
    await advanceTo(t!);
    const { state } = await eventually(() => handle.describe(), (d) => d.state.paused);
    expect(state).toEqual({ paused: true, note: `paused due to workflow failure: wf-${iso(t!)}: boom` });
  });

  it("applies the action's retryPolicy and executionTimeout to what it starts; refuses startDelay and cronSchedule", async () => {
    const retryPolicy = { initialInterval: 100, maximumAttempts: 3 };
    const retried = await env.client.createSchedule('retried', { ...every({ workflow: 'FailsOnce' }), action: { ...every({ workflow: 'FailsOnce' }).action, args: [], retryPolicy } });
    expect((await retried.describe()).action).toMatchObject({ retryPolicy: { initialInterval: 100, maximumAttempts: 3, backoffCoefficient: 2 } });
    await retried.trigger();
    const [retriedId] = await startedIds(retried);
    expect(await env.client.getWorkflowHandle(retriedId!).result()).toBe(2);

    const bounded = await env.client.createSchedule('bounded', { ...every({ workflow: 'Blocker' }), action: { ...every({ workflow: 'Blocker' }).action, args: [], executionTimeout: '300ms' } });
    expect((await bounded.describe()).action).toMatchObject({ executionTimeout: 300 });
    await bounded.trigger();
    const [boundedId] = await startedIds(bounded);
    const error = await env.client.getWorkflowHandle(boundedId!).result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailureError);
    expect((error as WorkflowFailureError).cause).toBeInstanceOf(TimeoutError);

    for (const [key, value] of [['startDelay', '1s'], ['cronSchedule', '@hourly']] as const) {
      await expect(env.client.createSchedule('refused', { ...every(), action: { ...every().action, [key]: value } as ScheduleOptions['action'] })).rejects.toThrow(`A schedule's action cannot set ${key}`);
    }
  });

  it('delete removes the schedule; its handle then throws ScheduleNotFoundError', async () => {
    const handle = await env.client.createSchedule('d', every());
    await env.client.createSchedule('e', every());
    await handle.delete();
    await expect(handle.describe()).rejects.toThrow(ScheduleNotFoundError);
    await expect(handle.delete()).rejects.toThrow('Schedule not found: scheduleId="d"');
    await expect(env.client.getScheduleHandle('d').trigger()).rejects.toThrow(ScheduleNotFoundError);
    expect(await listedIds()).toEqual(['e']);
  });

  it('fires each time exactly once however many workers fire it at once', async () => {
    const other: Client = await env.newClient();
    const otherWorker = env.newWorker({ taskQueue: 'sq', workflows: [Greet] });
    const otherRunning = otherWorker.run();
    const handle = await env.client.createSchedule('race', { ...every({ interval: '1m' }), policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL } });
    const times = (await handle.describe()).info.nextActionTimes;
    for (const t of times.slice(0, 5)) {
      // Move the clock without firing, then let both clients fire every shard at once, repeatedly.
      const now = (await env.currentTime()).getTime();
      const clock = Number((await env.client.redis.hget(env.client.engine.keys.shard(0).settings, 'clock')) ?? 0) + t.getTime() + 1 - now;
      const shards = Array.from({ length: env.client.engine.keys.shardCount }, (_, shard) => shard);
      await Promise.all(shards.map((shard) => env.client.redis.hset(env.client.engine.keys.shard(shard).settings, 'clock', clock)));
      await Promise.all(
        [env.client, other, env.client, other].flatMap((client) => shards.map((shard) => client.engine.fireDueDeadlines(shard))),
      );
    }
    const ids = times.slice(0, 5).map((t) => `wf-${iso(t)}`);
    expect(await startedIds(handle)).toEqual(ids);
    for (const id of ids) expect(await env.client.getWorkflowHandle(id).result()).toBe(`hello world from ${id}`);
    expect(await env.client.countWorkflows()).toBe(5);
    expect((await handle.describe()).info.numActionsTaken).toBe(5);
    await otherWorker.shutdown();
    await otherRunning;
  });
});

describe('schedules in a time-skipping environment', () => {
  let env: TestEnvironment;
  afterEach(() => env.teardown());

  it('skip from one scheduled time to the next while the workers are idle', async () => {
    env = await TestEnvironment.createTimeSkipping();
    const worker = env.newWorker({ taskQueue: 'sq', workflows: [Greet] });
    const handle = await env.client.createSchedule('daily', {
      action: { workflow: Greet, args: ['day'], id: 'daily', taskQueue: 'sq' },
      spec: { cronExpressions: ['@daily'] },
      state: { remainingActions: 3 },
    });
    const times = (await handle.describe()).info.nextActionTimes;
    const { info } = await worker.runUntil(async () => {
      for (;;) {
        const d = await handle.describe();
        if (d.info.recentActions.filter((a) => a.status === 'COMPLETED').length === 3) return d;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    expect(info.recentActions.map((a) => a.action.workflow.workflowId)).toEqual(times.map((t) => `daily-${iso(t)}`));
    expect(times.map((t) => t.getTime() % (24 * HOUR))).toEqual([0, 0, 0]);
    expect((await env.currentTime()).getTime()).toBeGreaterThanOrEqual(times[2]!.getTime());
  });

  it('skip over the days a watched run sleeps (pauseOnFailure looks at it in real time)', async () => {
    env = await TestEnvironment.createTimeSkipping();
    const worker = env.newWorker({ taskQueue: 'sq', workflows: [SleepyFailing] });
    const handle = await env.client.createSchedule('watched', {
      action: { workflow: SleepyFailing, id: 'sleepy', taskQueue: 'sq' },
      spec: { cronExpressions: ['@daily'] },
      policies: { pauseOnFailure: true },
      state: { remainingActions: 1 },
    });
    const [time] = (await handle.describe()).info.nextActionTimes;
    // Crawling a second of the day at a time instead would take far longer than the test's timeout.
    const { state } = await worker.runUntil(async () => {
      for (;;) {
        const d = await handle.describe();
        if (d.state.paused) return d;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    expect(state.note).toBe(`paused due to workflow failure: sleepy-${iso(time!)}: tired`);
  });

  it('skip to the deletion of a finished schedule, 7 days after its last run closed', async () => {
    env = await TestEnvironment.createTimeSkipping();
    const worker = env.newWorker({ taskQueue: 'sq', workflows: [Greet] });
    const handle = await env.client.createSchedule('once', {
      action: { workflow: Greet, args: ['once'], id: 'once', taskQueue: 'sq' },
      spec: { cronExpressions: ['@daily'] },
      state: { remainingActions: 1 },
    });
    const [time] = (await handle.describe()).info.nextActionTimes;
    const gone = await worker.runUntil(async () => {
      for (;;) {
        const error = await handle.describe().then(() => undefined, (e: unknown) => e);
        if (error) return error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    expect(gone).toBeInstanceOf(ScheduleNotFoundError);
    expect((await env.currentTime()).getTime()).toBeGreaterThanOrEqual(time!.getTime() + 7 * DAY);
  });
});
