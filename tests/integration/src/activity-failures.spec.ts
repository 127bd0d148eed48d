import { Activity, ActivityError, ApplicationError, DurabullError, EventType, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

/** Activities that fail in the three ways whose reporting follows Temporal's rules. */
class Failing {
  readonly reports: string[] = [];

  @Activity({ name: 'throws_durabull_error' })
  async throwsDurabullError(): Promise<string> {
    throw new DurabullError('boom');
  }

  /** Heartbeats details JSON cannot hold, then tries to return normally. */
  @Activity({ name: 'heartbeats_circular' })
  async heartbeatsCircular(): Promise<string> {
    const details: Record<string, unknown> = { step: 1 };
    details['self'] = details;
    activity.heartbeat(details);
    this.reports.push(`cancelled after heartbeat: ${activity.isCancelled()}`);
    return 'returned normally';
  }

  /** Returns what no payload can hold: a function. */
  @Activity({ name: 'returns_unencodable' })
  async returnsUnencodable(): Promise<unknown> {
    this.reports.push(`unencodable attempt ${activity.info().attempt}`);
    return { callback: () => undefined };
  }

  /** On attempt 1, waits for the worker's shutdown and throws an error of its own. */
  @Activity({ name: 'throws_on_shutdown' })
  async throwsOnShutdown(): Promise<string> {
    const { attempt } = activity.info();
    this.reports.push(`started ${attempt}`);
    if (attempt > 1) return `returned on attempt ${attempt}`;
    await activity.waitForCancelled();
    throw new Error('worker is shutting down');
  }
}

/** Calls one activity once (no retry) and returns its result, or how its failure reached the workflow. */
@WorkflowDefn()
class CallOnce {
  @WorkflowRun()
  async run(name: string, maximumAttempts: number): Promise<unknown> {
    try {
      return await workflow.executeActivity(name, { startToCloseTimeout: '1m', retryPolicy: { maximumAttempts, initialInterval: 10 } });
    } catch (error) {
      const cause = (error as ActivityError).cause as ApplicationError;
      return {
        error: (error as Error).constructor.name,
        message: (error as Error).message,
        cause: { class: cause.constructor.name, type: cause.type, message: cause.message },
      };
    }
  }
}

const eventTypes = (history: HistoryEvent[]) => history.map((e) => e.eventType);

describe('activity failures reported as Temporal reports them', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('delivers a DurabullError that is not an ApplicationError as an ApplicationError of type DurabullError', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CallOnce], activities: [new Failing()] });
    const result = await worker.runUntil(env.client.executeWorkflow(CallOnce, { args: ['throws_durabull_error', 1], id: 'bare', taskQueue: 'q' }));
    expect(result).toEqual({
      error: 'ActivityError',
      message: 'Activity task failed',
      cause: { class: 'ApplicationError', type: 'DurabullError', message: 'boom' },
    });
  });

  it('fails an attempt whose heartbeat details cannot be serialised, even though the activity then returns', async () => {
    const activities = new Failing();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CallOnce], activities: [activities] });
    const handle = await env.client.startWorkflow(CallOnce, { args: ['heartbeats_circular', 1], id: 'circular', taskQueue: 'q' });
    const result = await worker.runUntil(handle.result());
    expect(activities.reports).toEqual(['cancelled after heartbeat: true']);
    expect(result).toMatchObject({
      error: 'ActivityError',
      message: 'Activity task failed',
      cause: { class: 'ApplicationError', type: 'TypeError' },
    });
    expect((result as { cause: { message: string } }).cause.message).toMatch(/circular structure/);
    const history = await handle.fetchHistory();
    expect(eventTypes(history)).toContain(EventType.ActivityTaskFailed);
    expect(eventTypes(history)).not.toContain(EventType.ActivityTaskCompleted);
  });

  it('fails an activity whose result cannot be encoded for good, instead of retrying it for ever', async () => {
    const activities = new Failing();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [CallOnce], activities: [activities] });
    const result = await worker.runUntil(env.client.executeWorkflow(CallOnce, { args: ['returns_unencodable', 0], id: 'unencodable', taskQueue: 'q' }));
    expect(activities.reports).toEqual(['unencodable attempt 1']);
    expect(result).toEqual({
      error: 'ActivityError',
      message: 'Activity task failed',
      cause: {
        class: 'ApplicationError',
        type: 'PayloadEncodingError',
        message: expect.stringMatching(/^Activity returns_unencodable returned a result that cannot be encoded: .*function/),
      },
    });
  });

  it("records the activity's own error when it throws one during a worker shutdown", async () => {
    const activities = new Failing();
    const first = env.newWorker({ taskQueue: 'q', workflows: [CallOnce], activities: [activities], shutdownGraceTime: 100 });
    const handle = await env.client.startWorkflow(CallOnce, { args: ['throws_on_shutdown', 2], id: 'own-error', taskQueue: 'q' });
    const firstRun = first.run();
    while (!activities.reports.includes('started 1')) await new Promise((resolve) => setTimeout(resolve, 10));
    await first.shutdown();
    await firstRun;

    const second = env.newWorker({ taskQueue: 'q', workflows: [CallOnce], activities: [activities] });
    expect(await second.runUntil(handle.result())).toBe('returned on attempt 2');
    const started = (await handle.fetchHistory()).find((e) => e.eventType === EventType.ActivityTaskStarted)!;
    expect(started.attributes).toMatchObject({
      attempt: 2,
      lastFailure: { message: 'worker is shutting down', applicationFailureInfo: { type: 'Error', nonRetryable: false } },
    });
    expect((started.attributes as { lastFailure: { cause?: unknown } }).lastFailure.cause).toBeUndefined();
  });
});
