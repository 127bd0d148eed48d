import { Activity, ActivityError, EventType, TimeoutError, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { QueueNames } from '@durabull/engine';

const DAY = 24 * 3600_000;

class Chores {
  /** Fails until its `succeedOn`th attempt. */
  @Activity({ name: 'skip-flaky' })
  async flaky(succeedOn: number): Promise<number> {
    const { attempt } = activity.info();
    if (attempt < succeedOn) throw new Error(`attempt ${attempt} failed`);
    return attempt;
  }

  /** Never returns on its own (until its signal fires). */
  @Activity({ name: 'skip-hang' })
  async hang(): Promise<void> {
    await activity.waitForCancelled();
  }
}

/** Sleeps for a day, then reports when it woke up (on the workflow's clock). */
@WorkflowDefn({ name: 'Sleeper' })
class Sleeper {
  @WorkflowRun()
  async run(days: number): Promise<{ started: number; woke: number }> {
    const started = workflow.now().getTime();
    await workflow.sleep(days * DAY);
    return { started, woke: workflow.now().getTime() };
  }
}

/** An activity retried after an hour, twice. */
@WorkflowDefn({ name: 'PatientRetries' })
class PatientRetries {
  @WorkflowRun()
  async run(): Promise<number> {
    return workflow.executeActivity(Chores.prototype.flaky, 3, {
      startToCloseTimeout: '1m',
      retryPolicy: { initialInterval: '1h', backoffCoefficient: 1 },
    });
  }
}

/** Waits a week for a condition that never holds. */
@WorkflowDefn({ name: 'WeekLongWait' })
class WeekLongWait {
  @WorkflowRun()
  async run(): Promise<boolean> {
    return workflow.waitCondition(() => false, { timeout: '7d' });
  }
}

/** Sleeps an hour at a time, for ever: the clock always has somewhere to skip to. */
@WorkflowDefn({ name: 'HourlyTicker' })
class HourlyTicker {
  @WorkflowRun()
  async run(): Promise<void> {
    for (;;) await workflow.sleep('1h');
  }
}

describe('a time-skipping test environment', () => {
  let env: TestEnvironment;
  afterEach(() => env.teardown());

  it('completes a workflow that sleeps for a day in moments, its clock a day later', async () => {
    env = await TestEnvironment.createTimeSkipping();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Sleeper] });
    const began = Date.now();
    const handle = await env.client.startWorkflow(Sleeper, { args: [1], id: 'sleeper', taskQueue: 'q' });
    const { started, woke } = await worker.runUntil(handle.result());
    expect(Date.now() - began).toBeLessThan(DAY / 1000); // far less than a day: no wall-clock bound asserted
    expect(woke - started).toBeGreaterThanOrEqual(DAY);
    const history = await handle.fetchHistory();
    const fired = history.find((e) => e.eventType === EventType.TimerFired)!;
    expect(Date.parse(fired.eventTime) - Date.parse(history[0]!.eventTime)).toBeGreaterThanOrEqual(DAY);
    expect((await env.currentTime()).getTime()).toBeGreaterThanOrEqual(Date.now() + DAY - 60_000);
  });

  it('skips retry backoffs of an hour', async () => {
    env = await TestEnvironment.createTimeSkipping();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [PatientRetries], activities: [new Chores()] });
    expect(await worker.runUntil(env.client.executeWorkflow(PatientRetries, { id: 'patient', taskQueue: 'q' }))).toBe(3);
  });

  it('skips to a durable waitCondition timeout', async () => {
    env = await TestEnvironment.createTimeSkipping();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [WeekLongWait] });
    expect(await worker.runUntil(env.client.executeWorkflow(WeekLongWait, { id: 'week', taskQueue: 'q' }))).toBe(false);
  });

  it('does not skip while an activity runs: its own start-to-close timeout ends it', async () => {
    env = await TestEnvironment.createTimeSkipping();
    @WorkflowDefn({ name: 'HangsBriefly' })
    class HangsBriefly {
      @WorkflowRun()
      async run(): Promise<string> {
        try {
          await workflow.executeActivity(Chores.prototype.hang, { startToCloseTimeout: '300ms', retryPolicy: { maximumAttempts: 1 } });
          return 'returned';
        } catch (error) {
          return `${((error as ActivityError).cause as TimeoutError).type}`;
        }
      }
    }
    const worker = env.newWorker({ taskQueue: 'q', workflows: [HangsBriefly], activities: [new Chores()] });
    const began = Date.now();
    expect(await worker.runUntil(env.client.executeWorkflow(HangsBriefly, { id: 'brief', taskQueue: 'q' }))).toBe('START_TO_CLOSE');
    // The timeout fired on real time, not skipped to (the activity was running all along).
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
  });

  it('tears down after the skip in progress, so that no wake-up job it promotes outlives the namespace', async () => {
    env = await TestEnvironment.createTimeSkipping();
    const skipping = env;
    const { engine } = skipping.client;
    const worker = skipping.newWorker({ taskQueue: 'q', workflows: [HourlyTicker] });
    const runs = worker.run();
    await skipping.client.startWorkflow(HourlyTicker, { id: 'ticker', taskQueue: 'q' });
    // Hold the next skip where it promotes the wake-up jobs that came due.
    const timers = engine.dispatcher.queue(engine.keys.timerPrefix, QueueNames.timers);
    const promote = timers.promoteJobs.bind(timers);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => {
      jest.spyOn(timers, 'promoteJobs').mockImplementation(async (...args) => {
        resolve();
        await held;
        return promote(...args);
      });
    });
    await reached;
    let tornDown = false;
    const { pattern } = engine.keys;
    const teardown = skipping.teardown().then(() => (tornDown = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tornDown).toBe(false);
    release();
    await teardown;
    await runs;
    env = await TestEnvironment.create();
    const redis = env.client.redis;
    const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
    expect((await Promise.all(nodes.map((node) => node.keys(pattern)))).flat()).toEqual([]);
  });

  it('moves the clock by hand with env.sleep, in an environment that does not skip by itself', async () => {
    env = await TestEnvironment.create();
    expect(env.timeSkipping).toBe(false);
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Sleeper] });
    const handle = await env.client.startWorkflow(Sleeper, { args: [2], id: 'by-hand', taskQueue: 'q' });
    const result = await worker.runUntil(async () => {
      // Wait until the timer is started, then skip two days.
      while (!(await handle.fetchHistory()).some((e) => e.eventType === EventType.TimerStarted)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await env.sleep('2d');
      return handle.result();
    });
    expect(result.woke - result.started).toBeGreaterThanOrEqual(2 * DAY);
    await expect(env.sleep(-1)).rejects.toThrow(TypeError);
  });
});
