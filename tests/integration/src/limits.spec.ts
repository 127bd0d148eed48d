import {
  Activity,
  ActivityError,
  EventType,
  PayloadSizeError,
  ServerError,
  TerminatedError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowRun,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, Logger } from '@durabull/sdk';
import type { TestEnvironmentOptions } from '@durabull/testing';
import { TestEnvironment } from '@durabull/testing';

class Sizes {
  @Activity({ name: 'big' })
  async big(bytes: number): Promise<string> {
    return 'x'.repeat(bytes);
  }

  @Activity({ name: 'take' })
  async take(text: string): Promise<number> {
    return text.length;
  }
}

@WorkflowDefn()
class Sized {
  @WorkflowRun()
  async run(what: 'big-result' | 'big-input' | 'loop'): Promise<unknown> {
    const options = { startToCloseTimeout: '5s', retryPolicy: { maximumAttempts: 1 } };
    if (what === 'big-result') return workflow.executeActivity(Sizes.prototype.big, 5_000, options);
    if (what === 'big-input') return workflow.executeActivity(Sizes.prototype.take, 'y'.repeat(5_000), options);
    for (let i = 0; ; i++) await workflow.executeActivity(Sizes.prototype.take, `step ${i}`, options);
  }
}

class Recorder implements Logger {
  warnings: string[] = [];
  debug(): void {}
  info(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
  error(): void {}
}

describe('payload and history limits', () => {
  let env: TestEnvironment;
  let logger: Recorder;
  afterEach(() => env.teardown());

  async function withLimits(limits: TestEnvironmentOptions['limits']) {
    logger = new Recorder();
    env = await TestEnvironment.create({ limits, logger });
    return env.newWorker({ taskQueue: 'sizes', workflows: [Sized], activities: [new Sizes()], logger });
  }

  const waitForEvent = async (read: () => Promise<HistoryEvent[]>, type: EventType): Promise<HistoryEvent> => {
    for (;;) {
      const found = (await read()).find((e) => e.eventType === type);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it("has Temporal's limits by default: 2 MiB payloads, 51,200 events, 50 MiB, warnings at 256 KiB and 10,240 events", async () => {
    await withLimits(undefined);
    expect(env.client.engine.limits).toEqual({
      historyEvents: 51_200,
      historyBytes: 50 * 1024 * 1024,
      historyEventsWarning: 10_240,
      payloadBytes: 2 * 1024 * 1024,
      payloadBytesWarning: 256 * 1024,
    });
    const start = env.client.startWorkflow(Sized, 'x'.repeat(3 * 1024 * 1024) as never, { id: 'huge', taskQueue: 'sizes' });
    await expect(start).rejects.toThrow(PayloadSizeError);
    await expect(start).rejects.toThrow('Workflow Sized input is 3 MiB, over the 2 MiB payload limit');
    await env.client.startWorkflow(Sized, 'x'.repeat(300 * 1024) as never, { id: 'large', taskQueue: 'sizes' });
    expect(logger.warnings).toEqual(['Workflow Sized input is 300.05 KiB, over the 256 KiB warning size']);
  });

  it('fails the workflow task, naming the activity, when an activity input is over the limit', async () => {
    const worker = await withLimits({ payloadBytes: 4_096, payloadBytesWarning: 2_048 });
    const handle = await env.client.startWorkflow(Sized, 'big-input', { id: 'big-input', taskQueue: 'sizes' });
    const failed = await worker.runUntil(waitForEvent(() => handle.fetchHistory(), EventType.WorkflowTaskFailed));
    expect(failed.attributes).toMatchObject({
      cause: 'PAYLOADS_TOO_LARGE',
      failure: { message: 'Activity take input is 4.93 KiB, over the 4 KiB payload limit' },
    });
    expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
  });

  it('fails an activity whose result is over the limit, without retrying it', async () => {
    const worker = await withLimits({ payloadBytes: 4_096, payloadBytesWarning: 2_048 });
    const handle = await env.client.startWorkflow(Sized, 'big-result', { id: 'big-result', taskQueue: 'sizes' });
    const error = (await worker.runUntil(handle.result().catch((e: unknown) => e))) as WorkflowFailureError;
    const cause = (error.cause as ActivityError).cause as ServerError;
    expect(cause).toBeInstanceOf(ServerError);
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toBe('Activity big result is 4.93 KiB, over the 4 KiB payload limit');
  });

  it('terminates a run whose history reaches the event limit, and warns before', async () => {
    const worker = await withLimits({ historyEvents: 40, historyEventsWarning: 20 });
    const handle = await env.client.startWorkflow(Sized, 'loop', { id: 'loop', taskQueue: 'sizes' });
    const error = (await worker.runUntil(handle.result().catch((e: unknown) => e))) as WorkflowFailureError;
    expect(error.cause).toBeInstanceOf(TerminatedError);
    expect((error.cause as Error).message).toBe('Workflow history count exceeds limit.');
    const history = await handle.fetchHistory();
    expect(history.length).toBeGreaterThanOrEqual(40);
    expect(history.length).toBeLessThan(46);
    expect(history.at(-1)).toMatchObject({ eventType: EventType.WorkflowExecutionTerminated, attributes: { identity: 'durabull' } });
    expect(logger.warnings.filter((w) => w.startsWith('Workflow history has'))).toHaveLength(1);
  });

  it('terminates a run whose history reaches the size limit', async () => {
    const worker = await withLimits({ historyBytes: 8_192 });
    const handle = await env.client.startWorkflow(Sized, 'loop', { id: 'loop-bytes', taskQueue: 'sizes' });
    const error = (await worker.runUntil(handle.result().catch((e: unknown) => e))) as WorkflowFailureError;
    expect((error.cause as Error).message).toBe('Workflow history size exceeds limit.');
  });

  it('keeps the limits of an existing namespace', async () => {
    await withLimits({ historyEvents: 40 });
    const other = await env.newClient({ limits: { historyEvents: 99 } });
    expect(other.engine.limits.historyEvents).toBe(40);
  });
});
