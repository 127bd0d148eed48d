import { Activity, EventType, WorkflowDefn, WorkflowRun, WorkflowSignal, workflow } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Echo {
  @Activity()
  async echo(value: string): Promise<string> {
    return value;
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

/**
 * A run's first workflow task runs from the history its job carries, and the transition that
 * commits its outcome takes it: no startWorkflowTask for it, unless the run moved on first.
 */
describe("a run's first workflow task", () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('runs from its job and is started and completed by one transition, with the usual history', async () => {
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

  it('starts the ordinary way when a signal came after its job was dispatched, and sees the signal', async () => {
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
