import { Activity, Client, EventType, Worker, WorkflowDefn, WorkflowRun, WorkflowSignal, activity, workflow } from '@durabull/sdk';
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

@WorkflowDefn({ name: 'GreetingParent' })
class GreetingParent {
  @WorkflowRun()
  async run(name: string): Promise<string[]> {
    return workflow.executeChildWorkflow(TwoGreetings, name, { id: `${workflow.info().workflowId}-child` });
  }
}

@WorkflowDefn({ name: 'Countdown' })
class Countdown {
  @WorkflowRun()
  async run(n: number): Promise<string> {
    if (n > 0) workflow.continueAsNew(n - 1);
    return 'done';
  }
}

@WorkflowDefn({ name: 'LocalGreeting' })
class LocalGreeting {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    return workflow.executeLocalActivity(Greeter.prototype.greet, name, { startToCloseTimeout: '5s' });
  }
}

@WorkflowDefn({ name: 'PingReceiver' })
class PingReceiver {
  pings = 0;

  @WorkflowSignal()
  ping(): void {
    this.pings++;
  }

  @WorkflowRun()
  async run(): Promise<number> {
    await workflow.waitCondition(() => this.pings === 2);
    return this.pings;
  }
}

/** Pings its child through the child's handle, then through an external handle. */
@WorkflowDefn({ name: 'PingSender' })
class PingSender {
  @WorkflowRun()
  async run(): Promise<number> {
    const child = await workflow.startChildWorkflow(PingReceiver, { id: `${workflow.info().workflowId}-receiver` });
    await child.signal(PingReceiver.prototype.ping);
    await workflow.getExternalWorkflowHandle(child.workflowId).signal('ping');
    return child.result();
  }
}

/** Tags each command but activities with a header naming the hook and what it saw. */
const tagger: WorkflowInterceptor = {
  startChildWorkflow(input, next) {
    return next({ ...input, headers: { ...input.headers, hook: json(`child ${input.workflowType} ${String(input.options.id)}`) } });
  },
  continueAsNew(input, next) {
    return next({ ...input, headers: { ...input.headers, hook: json(`continued ${input.workflowType} ${JSON.stringify(input.args)}`) } });
  },
  scheduleLocalActivity(input, next) {
    return next({ ...input, headers: { ...input.headers, hook: json(`local ${input.activityType}`) } });
  },
  signalExternalWorkflow(input, next) {
    const to = `${input.workflowId} ${String(input.runId)} ${input.childWorkflowOnly ? 'child' : 'external'}`;
    return next({ ...input, headers: { ...input.headers, hook: json(`signal ${input.signalName} to ${to}`) } });
  },
};

/** A client that records `tenant: acme` in each workflow start. */
const tenant: ClientInterceptor = {
  startWorkflow: (input, next) => next({ ...input, headers: { ...input.headers, tenant: json('acme') } }),
};

const attributesOf = (history: HistoryEvent[], type: EventType) =>
  history.filter((e) => e.eventType === type).map((e) => e.attributes as Record<string, unknown>);
const headerOf = (history: HistoryEvent[], type: EventType) => attributesOf(history, type).map((a) => a['header']);

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

  it('records a child start\'s headers, which become the child\'s start headers (its activities carry them)', async () => {
    const client = await env.newClient({ interceptors: [tenant] });
    const worker = env.newWorker({
      taskQueue: 'q',
      workflows: [GreetingParent, TwoGreetings],
      activities: [new Greeter()],
      interceptors: { workflow: [tagger] },
    });
    const handle = await client.startWorkflow(GreetingParent, 'World', { id: 'headers-child', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toEqual(['Hello, World!', 'Hello, World again!']);

    // By default a child carries its parent's start headers; the interceptor adds its own.
    const header = { fields: { tenant: json('acme'), hook: json('child TwoGreetings headers-child-child') } };
    const parent = await handle.fetchHistory();
    expect(headerOf(parent, EventType.StartChildWorkflowExecutionInitiated)).toEqual([header]);
    expect(headerOf(parent, EventType.ChildWorkflowExecutionStarted)).toEqual([header]);
    const child = await client.getWorkflowHandle('headers-child-child').fetchHistory();
    expect(headerOf(child, EventType.WorkflowExecutionStarted)).toEqual([header]);
    expect(headerOf(child, EventType.ActivityTaskScheduled)).toEqual([header, header]);
  });

  it('gives the next run of a continue-as-new the headers its interceptors set, and only those', async () => {
    const client = await env.newClient({ interceptors: [tenant] });
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Countdown], interceptors: { workflow: [tagger] } });
    const handle = await client.startWorkflow(Countdown, 2, { id: 'headers-continued', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe('done');

    const runs: HistoryEvent[][] = [await handle.fetchHistory()];
    for (let next = attributesOf(runs[0]!, EventType.WorkflowExecutionContinuedAsNew)[0]; next; ) {
      runs.push(await client.getWorkflowHandle('headers-continued', next['newExecutionRunId'] as string).fetchHistory());
      next = attributesOf(runs.at(-1)!, EventType.WorkflowExecutionContinuedAsNew)[0];
    }
    const continued = (args: number[]) => ({ fields: { hook: json(`continued Countdown ${JSON.stringify(args)}`) } });
    expect(runs.map((run) => headerOf(run, EventType.WorkflowExecutionStarted)[0])).toEqual([
      { fields: { tenant: json('acme') } },
      continued([1]),
      continued([0]),
    ]);
    expect(runs.map((run) => headerOf(run, EventType.WorkflowExecutionContinuedAsNew)[0])).toEqual([continued([1]), continued([0]), undefined]);
  });

  it('passes a local activity\'s headers to the activity interceptors\' execute input', async () => {
    const seen: Array<{ activityType: string; headers: Record<string, Payload> }> = [];
    const recorder: ActivityInterceptor = {
      execute(input, next) {
        seen.push({ activityType: input.info.activityType, headers: { ...input.headers } });
        return next(input);
      },
    };
    const client = await env.newClient({ interceptors: [tenant] });
    const worker = env.newWorker({
      taskQueue: 'q',
      workflows: [LocalGreeting],
      activities: [new Greeter()],
      interceptors: { workflow: [tagger], activity: [recorder] },
    });
    const handle = await client.startWorkflow(LocalGreeting, 'World', { id: 'headers-local', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe('Hello, World!');
    expect(seen).toEqual([{ activityType: 'greet', headers: { tenant: json('acme'), hook: json('local greet') } }]);
  });

  it('records the headers of signals to other runs, on both sides, through a child\'s handle or an external one', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [PingSender, PingReceiver], interceptors: { workflow: [tagger] } });
    const handle = await env.client.startWorkflow(PingSender, { id: 'headers-signal', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe(2);

    // Unlike a child's start, a signal does not carry the sender's start headers by default.
    const headers = [
      { fields: { hook: json('signal ping to headers-signal-receiver undefined child') } },
      { fields: { hook: json('signal ping to headers-signal-receiver undefined external') } },
    ];
    expect(headerOf(await handle.fetchHistory(), EventType.SignalExternalWorkflowExecutionInitiated)).toEqual(headers);
    const receiver = await env.client.getWorkflowHandle('headers-signal-receiver').fetchHistory();
    expect(headerOf(receiver, EventType.WorkflowExecutionSignaled)).toEqual(headers);
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
    expect(() => new Worker(env.client, { ...options, interceptors: { workflow: [{ continueAsNew: true }] } as never })).toThrow(
      new TypeError('Invalid interceptors.workflow[0].continueAsNew: true (a function)'),
    );
  });
});
