import { YourActivities, YourParams, YourWorkflow } from '@durabull/hello-worker';
import { EventType, WorkflowExecutionStatus } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

describe('the seed example', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('runs YourWorkflow end to end with the canonical 11-event history', async () => {
    const worker = env.newWorker({ taskQueue: 'hello', workflows: [YourWorkflow], activities: [new YourActivities()] });
    const handle = await env.client.startWorkflow(YourWorkflow, 'World', { id: 'greet-1', taskQueue: 'hello' });

    expect(await worker.runUntil(handle.result())).toBe('Hello, World!');

    const history = await handle.fetchHistory();
    expect(history.map((e) => [e.eventId, e.eventType])).toEqual([
      [1, EventType.WorkflowExecutionStarted],
      [2, EventType.WorkflowTaskScheduled],
      [3, EventType.WorkflowTaskStarted],
      [4, EventType.WorkflowTaskCompleted],
      [5, EventType.ActivityTaskScheduled],
      [6, EventType.ActivityTaskStarted],
      [7, EventType.ActivityTaskCompleted],
      [8, EventType.WorkflowTaskScheduled],
      [9, EventType.WorkflowTaskStarted],
      [10, EventType.WorkflowTaskCompleted],
      [11, EventType.WorkflowExecutionCompleted],
    ]);
    const attrs = history.map((e) => e.attributes as Record<string, unknown>);
    expect(attrs[0]).toMatchObject({
      workflowType: 'YourWorkflow',
      workflowId: 'greet-1',
      taskQueue: 'hello',
      input: [{ metadata: { encoding: 'json/plain' }, data: 'World' }],
      workflowTaskTimeout: 10_000,
    });
    expect(attrs[2]).toMatchObject({ scheduledEventId: 2 });
    expect(attrs[3]).toMatchObject({ scheduledEventId: 2, startedEventId: 3 });
    expect(attrs[4]).toEqual({
      activityId: '1',
      activityType: 'your_activity',
      taskQueue: 'hello',
      input: [{ metadata: { encoding: 'json/plain' }, data: { greeting: 'Hello', name: 'World' } }],
      scheduleToCloseTimeout: 0,
      scheduleToStartTimeout: 0,
      startToCloseTimeout: 10_000,
      heartbeatTimeout: 0,
      retryPolicy: { initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 100_000, maximumAttempts: 0, nonRetryableErrorTypes: [] },
      workflowTaskCompletedEventId: 4,
    });
    expect(attrs[5]).toMatchObject({ scheduledEventId: 5, attempt: 1 });
    expect(attrs[5]).not.toHaveProperty('lastFailure');
    expect(attrs[6]).toMatchObject({
      scheduledEventId: 5,
      startedEventId: 6,
      result: [{ metadata: { encoding: 'json/plain' }, data: 'Hello, World!' }],
    });
    expect(attrs[8]).toMatchObject({ scheduledEventId: 8 });
    expect(attrs[9]).toMatchObject({ scheduledEventId: 8, startedEventId: 9 });
    expect(attrs[10]).toMatchObject({
      result: [{ metadata: { encoding: 'json/plain' }, data: 'Hello, World!' }],
      workflowTaskCompletedEventId: 10,
    });

    const description = await handle.describe();
    expect(description).toMatchObject({
      workflowId: 'greet-1',
      runId: handle.runId,
      workflowType: 'YourWorkflow',
      status: WorkflowExecutionStatus.COMPLETED,
      taskQueue: 'hello',
      historyLength: 11,
    });
    expect(description.closeTime!.getTime()).toBeGreaterThanOrEqual(description.startTime.getTime());
  });

  it('rejects invalid params with a non-retryable ValidationError listing every constraint', async () => {
    const activities = new YourActivities();
    const worker = env.newWorker({ taskQueue: 'hello', activities: [activities], workflows: [YourWorkflow] });
    const handle = await env.client.startWorkflow(YourWorkflow, '', { id: 'greet-empty', taskQueue: 'hello' });
    const error = await worker.runUntil(handle.result().catch((e: unknown) => e));
    expect(error).toMatchObject({
      message: 'Workflow execution failed',
      cause: {
        message: 'Activity task failed',
        retryState: 'NON_RETRYABLE_FAILURE',
        cause: {
          type: 'ValidationError',
          nonRetryable: true,
          message: 'Validation failed for your_activity argument 1 (YourParams): name must be longer than or equal to 1 characters',
        },
      },
    });
    expect(new YourParams('Hi', 'x')).toBeInstanceOf(YourParams);
  });
});
