import { EventType, TimeoutType } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { HangingActivities, TimedWorkflow } from './fixtures/shared';
import { spawnWorkerProcess } from './fixtures/spawn';

const lastAttemptStart = (history: HistoryEvent[]) => history.find((e) => e.eventType === EventType.ActivityTaskStarted)!;

describe('worker shutdown', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('fires running activities after the grace period and reports them as failures, retried on another worker', async () => {
    const reports: string[] = [];
    const first = env.newWorker({
      taskQueue: 'q',
      workflows: [TimedWorkflow],
      activities: [new HangingActivities((line) => reports.push(line))],
      shutdownGraceTime: 100,
    });
    const handle = await env.client.startWorkflow(TimedWorkflow, {
      args: [{ startToCloseTimeout: '1m', retryPolicy: { initialInterval: 10 } }, 0],
      id: 'shutdown',
      taskQueue: 'q',
    });
    const firstRun = first.run();
    await waitUntil(() => reports.includes('started 1'));
    await first.shutdown();
    await firstRun;

    const second = env.newWorker({
      taskQueue: 'q',
      workflows: [TimedWorkflow],
      activities: [new HangingActivities(() => undefined, 'return')],
    });
    expect(await second.runUntil(handle.result())).toBe('returned on attempt 2');
    const history = await handle.fetchHistory();
    expect(lastAttemptStart(history).attributes).toMatchObject({
      attempt: 2,
      lastFailure: {
        message: 'Worker shutting down',
        applicationFailureInfo: { type: 'WorkerShutdown', nonRetryable: false },
        cause: { message: 'Worker shutting down', canceledFailureInfo: {} },
      },
    });
    expect(history.some((e) => e.eventType === EventType.ActivityTaskCanceled)).toBe(false);
  });

  it('shuts down on SIGTERM the same way, and the process exits cleanly', async () => {
    const process = spawnWorkerProcess({
      DURABULL_NAMESPACE: env.namespace,
      TASK_QUEUE: 'q',
      SHUTDOWN_GRACE_MS: '100',
    });
    await process.waitFor('ready');
    const handle = await env.client.startWorkflow(TimedWorkflow, {
      args: [{ startToCloseTimeout: '1m', retryPolicy: { initialInterval: 10 } }, 0],
      id: 'sigterm',
      taskQueue: 'q',
    });
    await process.waitFor('started 1');
    process.child.kill('SIGTERM');
    expect(await process.exited).toBe(0);

    const worker = env.newWorker({ taskQueue: 'q', workflows: [TimedWorkflow], activities: [new HangingActivities(() => undefined, 'return')] });
    expect(await worker.runUntil(handle.result())).toBe('returned on attempt 2');
    expect(lastAttemptStart(await handle.fetchHistory()).attributes).toMatchObject({
      attempt: 2,
      lastFailure: { applicationFailureInfo: { type: 'WorkerShutdown' } },
    });
  }, 30_000);
});

describe('one clock', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it.each([
    ['an hour ahead', 3_600_000],
    ['an hour behind', -3_600_000],
  ])('measures deadlines on Redis time when the worker clock is %s', async (_label, offset) => {
    const process = spawnWorkerProcess({
      DURABULL_NAMESPACE: env.namespace,
      TASK_QUEUE: 'q',
      CLOCK_OFFSET_MS: String(offset),
      SHUTDOWN_GRACE_MS: '100',
    });
    await process.waitFor('ready');
    const handle = await env.client.startWorkflow(TimedWorkflow, {
      args: [{ startToCloseTimeout: 500, retryPolicy: { maximumAttempts: 1 } }, 300],
      id: 'skewed',
      taskQueue: 'q',
    });
    const error = (await handle.result().catch((e: unknown) => e)) as { cause: { cause: { type: string } } };
    process.child.kill('SIGTERM');
    await process.exited;

    expect(error.cause.cause.type).toBe(TimeoutType.START_TO_CLOSE);
    const history = await handle.fetchHistory();
    const started = Date.parse(lastAttemptStart(history).eventTime);
    const timedOut = Date.parse(history.find((e) => e.eventType === EventType.ActivityTaskTimedOut)!.eventTime);
    // Neither at once (a clock ahead) nor an hour late (a clock behind): at the deadline.
    expect(timedOut - started).toBeGreaterThanOrEqual(500);
    expect(timedOut - started).toBeLessThan(10_000);
  }, 30_000);
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
