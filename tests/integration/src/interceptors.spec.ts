import { Activity, Client, EventType, Worker, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';
import type {
  ActivityExecuteInput,
  ActivityInterceptor,
  ClientInterceptor,
  HistoryEvent,
  Payload,
  WorkflowInterceptor,
} from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

const json = (data: unknown): Payload => ({ metadata: { encoding: 'json/plain' }, data });

class Greeter {
  @Activity({ name: 'greet' })
  async greet(name: string): Promise<string> {
    return `Hello, ${name}!`;
  }
}

@WorkflowDefn({ name: 'TwoGreetings' })
class TwoGreetings {
  @WorkflowRun()
  async run(name: string): Promise<string[]> {
    const first = await workflow.executeActivity(Greeter.prototype.greet, name, { startToCloseTimeout: '5s' });
    const second = await workflow.executeActivity(Greeter.prototype.greet, `${name} again`, { startToCloseTimeout: '5s' });
    return [first, second];
  }
}

const attributesOf = (history: HistoryEvent[], type: EventType) =>
  history.filter((e) => e.eventType === type).map((e) => e.attributes as Record<string, unknown>);

describe('interceptors and headers', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('carries client headers into WorkflowExecutionStarted and, by default, into every ActivityTaskScheduled', async () => {
    const calls: string[] = [];
    const tenant: ClientInterceptor = {
      async startWorkflow(input, next) {
        calls.push(`outer ${input.workflowType} ${input.workflowId} ${input.taskQueue} ${JSON.stringify(input.args)}`);
        return next({ ...input, headers: { ...input.headers, tenant: json('acme') } });
      },
    };
    const inner: ClientInterceptor = {
      async startWorkflow(input, next) {
        calls.push(`inner ${Object.keys(input.headers).join(',')}`);
        const runId = await next(input);
        calls.push(`started ${typeof runId}`);
        return runId;
      },
    };
    const seen: Array<{ activityId: string; headers: Record<string, Payload>; args: unknown[]; inActivity: string }> = [];
    const recorder: ActivityInterceptor = {
      async execute(input: ActivityExecuteInput, next) {
        seen.push({ activityId: input.info.activityId, headers: { ...input.headers }, args: [...input.args], inActivity: activity.info().activityType });
        return `${String(await next(input))} (intercepted)`;
      },
    };
    const client = await env.newClient({ interceptors: [tenant, inner] });
    const worker = env.newWorker({ taskQueue: 'q', workflows: [TwoGreetings], activities: [new Greeter()], interceptors: { activity: [recorder] } });
    const handle = await client.startWorkflow(TwoGreetings, 'World', { id: 'headers-1', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toEqual(['Hello, World! (intercepted)', 'Hello, World again! (intercepted)']);

    expect(calls).toEqual(['outer TwoGreetings headers-1 q ["World"]', 'inner tenant', 'started string']);
    const history = await handle.fetchHistory();
    expect(attributesOf(history, EventType.WorkflowExecutionStarted)[0]!['header']).toEqual({ fields: { tenant: json('acme') } });
    expect(attributesOf(history, EventType.ActivityTaskScheduled).map((a) => a['header'])).toEqual([
      { fields: { tenant: json('acme') } },
      { fields: { tenant: json('acme') } },
    ]);
    expect(seen).toEqual([
      { activityId: '1', headers: { tenant: json('acme') }, args: ['World'], inActivity: 'greet' },
      { activityId: '2', headers: { tenant: json('acme') }, args: ['World again'], inActivity: 'greet' },
    ]);
  });

  it('lets workflow interceptors set each activity header, deterministically on replay', async () => {
    const inputs: string[] = [];
    const numbered: WorkflowInterceptor = {
      scheduleActivity(input, next) {
        const n = workflow.info().historyLength;
        const handle = next({ ...input, headers: { ...input.headers, seenHistory: json(n) } });
        inputs.push(`${handle.activityId} ${input.activityType} ${JSON.stringify(input.args)} ${JSON.stringify(input.workflowHeaders)}`);
        return handle;
      },
    };
    // No cache: every task replays the whole history, running the interceptor again each time.
    const worker = env.newWorker({
      taskQueue: 'q',
      workflows: [TwoGreetings],
      activities: [new Greeter()],
      maxCachedWorkflows: 0,
      interceptors: { workflow: [numbered] },
    });
    const handle = await env.client.startWorkflow(TwoGreetings, 'World', { id: 'headers-2', taskQueue: 'q' });
    await worker.runUntil(handle.result());

    const history = await handle.fetchHistory();
    expect(attributesOf(history, EventType.WorkflowExecutionStarted)[0]).not.toHaveProperty('header');
    expect(attributesOf(history, EventType.ActivityTaskScheduled).map((a) => a['header'])).toEqual([
      { fields: { seenHistory: json(3) } },
      { fields: { seenHistory: json(9) } },
    ]);
    // Three tasks: the first schedules one activity; the second replays it and schedules the
    // next; the third replays both.
    expect(inputs).toEqual([
      '1 greet ["World"] {}',
      '1 greet ["World"] {}',
      '2 greet ["World again"] {}',
      '1 greet ["World"] {}',
      '2 greet ["World again"] {}',
    ]);
  });

  it('writes no header attribute without interceptors', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [TwoGreetings], activities: [new Greeter()] });
    const handle = await env.client.startWorkflow(TwoGreetings, 'World', { id: 'headers-3', taskQueue: 'q' });
    await worker.runUntil(handle.result());
    for (const event of await handle.fetchHistory()) expect(event.attributes).not.toHaveProperty('header');
  });

  it('refuses malformed interceptor options, naming them', async () => {
    await expect(Client.connect({ redis: env.client.redis, namespace: env.namespace, interceptors: {} as never })).rejects.toThrow(
      new TypeError('Invalid interceptors: {} (an array of interceptors)'),
    );
    await expect(
      Client.connect({ redis: env.client.redis, namespace: env.namespace, interceptors: [{ startWorkflow: 'yes' }] as never }),
    ).rejects.toThrow(new TypeError('Invalid interceptors[0].startWorkflow: "yes" (a function)'));
    const options = { taskQueue: 'q', workflows: [TwoGreetings] };
    expect(() => new Worker(env.client, { ...options, interceptors: { client: [] } as never })).toThrow(
      new TypeError('Unknown interceptors option(s): client (workflow, activity)'),
    );
    expect(() => new Worker(env.client, { ...options, interceptors: { activity: [null] } as never })).toThrow(
      new TypeError('Invalid interceptors.activity[0]: null (an object with execute)'),
    );
  });
});
