import { Activity, CancelledError, IllegalStateError, activity, defineActivity } from '@durabull/sdk';
import type { Logger } from '@durabull/sdk';
import { ActivityEnvironment } from '@durabull/testing';

class Downloads {
  constructor(private readonly prefix: string) {}

  @Activity({ name: 'download' })
  async download(url: string, chunks: number): Promise<string> {
    for (let i = 0; i < chunks; i++) {
      activity.heartbeat(i, `${url}#${i}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return `${this.prefix}${url} (attempt ${activity.info().attempt})`;
  }
}

/** Heartbeats until cancelled, then rethrows the signal's reason. */
const waitForCancel = defineActivity(
  async (): Promise<string> => {
    activity.heartbeat('started');
    await activity.waitForCancelled();
    throw activity.cancellationSignal().reason;
  },
  { name: 'wait_for_cancel' },
);

function recordingLogger(): Logger & { entries: Array<[string, string, Record<string, unknown> | undefined]> } {
  const entries: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const log = (level: string) => (message: string, attributes?: Record<string, unknown>) => entries.push([level, message, attributes]);
  return { entries, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

describe('ActivityEnvironment', () => {
  it('runs a bound decorated method with default info and records every heartbeat', async () => {
    const env = new ActivityEnvironment();
    const downloads = new Downloads('got ');
    expect(await env.run(downloads.download.bind(downloads), 'https://example.com', 3)).toBe('got https://example.com (attempt 1)');
    expect(env.heartbeats).toEqual([
      [0, 'https://example.com#0'],
      [1, 'https://example.com#1'],
      [2, 'https://example.com#2'],
    ]);
    expect(env.cancellationReason).toBeUndefined();
  });

  it('has sensible default info, each field overridable', async () => {
    const before = Date.now();
    const env = new ActivityEnvironment();
    const info = await env.run(() => activity.info());
    expect(info).toEqual({
      activityId: '1',
      activityType: 'test',
      attempt: 1,
      taskQueue: 'test',
      workflowId: 'test-workflow',
      workflowRunId: 'test-run',
      workflowType: 'TestWorkflow',
      namespace: 'default',
      scheduledTime: expect.any(Date),
      currentAttemptScheduledTime: expect.any(Date),
      startedTime: expect.any(Date),
      scheduleToCloseTimeout: undefined,
      startToCloseTimeout: undefined,
      heartbeatTimeout: undefined,
      heartbeatDetails: [],
      taskToken: 'test-task-token',
      isLocal: false,
    });
    expect(info.startedTime.getTime()).toBeGreaterThanOrEqual(before);
    expect(info.startedTime.getTime()).toBeLessThanOrEqual(Date.now());

    const scheduled = new Date('2026-01-02T03:04:05.000Z');
    const custom = new ActivityEnvironment({
      info: { activityType: 'download', attempt: 3, heartbeatDetails: [7], scheduledTime: scheduled, heartbeatTimeout: 5_000 },
    });
    expect(
      await custom.run(() => {
        const { activityType, attempt, heartbeatDetails, scheduledTime, heartbeatTimeout, workflowId } = activity.info();
        return { activityType, attempt, heartbeatDetails, scheduledTime, heartbeatTimeout, workflowId };
      }),
    ).toEqual({
      activityType: 'download',
      attempt: 3,
      heartbeatDetails: [7],
      scheduledTime: scheduled,
      heartbeatTimeout: 5_000,
      workflowId: 'test-workflow',
    });
    expect(custom.info.attempt).toBe(3);
  });

  it('calls onHeartbeat as heartbeats happen', async () => {
    const seen: unknown[][] = [];
    const env = new ActivityEnvironment({ onHeartbeat: (details) => seen.push(details) });
    await env.run(async () => {
      activity.heartbeat();
      expect(seen).toEqual([[]]);
      activity.heartbeat({ done: 1 }, 'x');
      expect(seen).toEqual([[], [{ done: 1 }, 'x']]);
    });
    expect(env.heartbeats).toEqual([[], [{ done: 1 }, 'x']]);
  });

  it('cancel() fires the signal with reason cancelRequested by default', async () => {
    const env = new ActivityEnvironment({ onHeartbeat: () => env.cancel() });
    const error = await env.run(waitForCancel).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe('Activity cancelled');
    expect(env.cancellationReason).toBe('cancelRequested');
    expect(env.cancellationSignal.aborted).toBe(true);
    expect(env.heartbeats).toEqual([['started']]);
  });

  it.each([
    ['timedOut', 'Activity timed out'],
    ['workerShutdown', 'Worker shutting down'],
  ] as const)('simulates %s', async (reason, message) => {
    const env = new ActivityEnvironment();
    const running = env.run(async () => {
      expect(activity.isCancelled()).toBe(false);
      await activity.waitForCancelled();
      return { cancelled: activity.isCancelled(), reason: (activity.cancellationSignal().reason as Error).message };
    });
    env.cancel(reason);
    expect(await running).toEqual({ cancelled: true, reason: message });
    expect(env.cancellationReason).toBe(reason);
    // The first reason wins.
    env.cancel('cancelRequested');
    expect(env.cancellationReason).toBe(reason);
  });

  it('takes a custom cancellation message, and refuses an unknown reason', async () => {
    const env = new ActivityEnvironment();
    env.cancel('cancelRequested', 'stop now');
    expect(await env.run(() => (activity.cancellationSignal().reason as Error).message)).toBe('stop now');
    expect(() => new ActivityEnvironment().cancel('notFound' as never)).toThrow(
      new TypeError('Invalid cancellation reason: "notFound" (one of cancelRequested, timedOut, workerShutdown)'),
    );
  });

  it('gives activity.logger the ids of the info', async () => {
    const logger = recordingLogger();
    const env = new ActivityEnvironment({ logger, info: { activityId: 'a-7', activityType: 'download', attempt: 2 } });
    await env.run(() => activity.logger.info('hello', { n: 1 }));
    expect(logger.entries).toEqual([
      [
        'info',
        'hello',
        {
          activityId: 'a-7',
          activityType: 'download',
          attempt: 2,
          workflowId: 'test-workflow',
          runId: 'test-run',
          workflowType: 'TestWorkflow',
          n: 1,
        },
      ],
    ]);
  });

  it('passes errors through and leaves activity.* unusable outside run()', async () => {
    const env = new ActivityEnvironment();
    await expect(env.run(async () => Promise.reject(new TypeError('boom')))).rejects.toThrow(new TypeError('boom'));
    expect(() => activity.info()).toThrow(IllegalStateError);
    expect(() => new ActivityEnvironment({ inf: {} } as never)).toThrow(new TypeError('Unknown activity environment option(s): inf'));
  });
});
