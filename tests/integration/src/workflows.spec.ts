import { Type } from 'class-transformer';
import { IsInt, IsString, Min, ValidateNested } from 'class-validator';
import {
  Activity,
  ApplicationError,
  DurabullError,
  EventType,
  IllegalStateError,
  PayloadSizeError,
  RedisConnectionError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowNotFoundError,
  WorkflowRun,
  Worker,
  activity,
  defineActivity,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Address {
  @IsString() city!: string;
  describe(): string {
    return `in ${this.city}`;
  }
}

class Order {
  @IsString() item!: string;
  @IsInt() @Min(1) quantity!: number;
  @ValidateNested() @Type(() => Address) shipTo!: Address;
  placedAt!: Date;
}

class Receipt {
  @IsString() text!: string;
  shout(): string {
    return this.text.toUpperCase();
  }
}

class Shop {
  @Activity({ name: 'place_order', resultType: Receipt })
  async placeOrder(order: Order, note: string): Promise<Receipt> {
    // Class instances arrive restored, nested ones too.
    const restored = order instanceof Order && order.shipTo instanceof Address;
    return Object.assign(new Receipt(), {
      text: `${order.quantity} x ${order.item} ${order.shipTo.describe()} (${note}, restored=${restored})`,
    });
  }

  @Activity()
  async add(a: number, b: number, c: number): Promise<number> {
    return a + b + c;
  }

  @Activity()
  async nothing(): Promise<string> {
    return `no arguments, attempt ${activity.info().attempt}`;
  }
}

const shout = defineActivity(async function shout(text: string) {
  return text.toUpperCase();
});

@WorkflowDefn()
class ArgsWorkflow {
  @WorkflowRun()
  async run(order: Order): Promise<string[]> {
    const receipt = await workflow.executeActivity(Shop.prototype.placeOrder, {
      args: [order, 'gift'],
      startToCloseTimeout: '5s',
    });
    const sum = await workflow.executeActivity(Shop.prototype.add, { args: [1, 2, 3], startToCloseTimeout: { seconds: 5 } });
    const none = await workflow.executeActivity(Shop.prototype.nothing, { startToCloseTimeout: 5000 });
    const loud = await workflow.executeActivity(shout, 'quiet', { scheduleToCloseTimeout: '5s' });
    const byName = await workflow.executeActivity<number>('add', { args: [10, 20, 30], startToCloseTimeout: '5s' });
    return [receipt.shout(), String(receipt instanceof Receipt), String(sum), none, loud, String(byName)];
  }
}

@WorkflowDefn()
class MissingTimeouts {
  @WorkflowRun()
  async run(): Promise<string> {
    return workflow.executeActivity(Shop.prototype.nothing, {});
  }
}

@WorkflowDefn()
class Deterministic {
  @WorkflowRun()
  async run(): Promise<unknown> {
    const first = { now: workflow.now().getTime(), random: workflow.random(), uuid: workflow.uuid4() };
    await workflow.sleep(20);
    const afterSleep = workflow.now().getTime();
    const info = workflow.info();
    return { first, afterSleep, info: { workflowId: info.workflowId, workflowType: info.workflowType, taskQueue: info.taskQueue } };
  }
}

const code = { version: 1 };
const ran: string[] = [];

class Steps {
  @Activity()
  async step(name: string): Promise<string> {
    ran.push(name);
    return name;
  }
}

@WorkflowDefn()
class TwoSteps {
  @WorkflowRun()
  async run(): Promise<string> {
    await workflow.executeActivity(Steps.prototype.step, 'one', { startToCloseTimeout: '5s' });
    // On another task queue, so the first worker below cannot run it before it stops.
    return workflow.executeActivity(Steps.prototype.step, 'two', { startToCloseTimeout: '5s', taskQueue: 'later' });
  }
}

class DeployingSteps {
  /** Runs a step and "deploys" new workflow code while the run waits for it. */
  @Activity({ name: 'step' })
  async step(name: string): Promise<string> {
    ran.push(name);
    if (name === 'one') code.version = 2;
    return name;
  }
}

@WorkflowDefn()
class RenamedActivityWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    const name = code.version === 1 ? 'step' : 'other_step';
    await workflow.executeActivity(name, 'one', { startToCloseTimeout: '5s' });
    return workflow.executeActivity('step', 'two', { startToCloseTimeout: '5s' });
  }
}

/** The errors {@link Thrower} throws, by name. */
const THROWN: Record<string, () => Error> = {
  IllegalStateError: () => new IllegalStateError('workflow code used an API where it cannot work'),
  WorkflowNotFoundError: () => new WorkflowNotFoundError('elsewhere'),
  PayloadSizeError: () => new PayloadSizeError('Activity big result', 3 * 1024 * 1024, 2 * 1024 * 1024),
  RedisConnectionError: () => new RedisConnectionError(new Error('socket closed'), 'redis://db:6379'),
  DurabullError: () => new DurabullError('a bare Durabull error'),
  ApplicationError: () => new ApplicationError('failed on purpose', { type: 'OnPurpose' }),
};

@WorkflowDefn()
class Thrower {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    throw THROWN[name]!();
  }
}

describe('workflows', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    code.version = 1;
    ran.length = 0;
  });
  afterEach(() => env.teardown());

  it('passes several arguments with args, restores and validates class instances, and accepts every duration form', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [ArgsWorkflow], activities: [new Shop(), shout] });
    const order = { item: 'tea', quantity: 2, shipTo: { city: 'Oslo' }, placedAt: new Date('2026-01-02T03:04:05Z') };
    const result = await worker.runUntil(env.client.executeWorkflow(ArgsWorkflow, order as Order, { id: 'args', taskQueue: 'q' }));
    expect(result).toEqual([
      '2 X TEA IN OSLO (GIFT, RESTORED=TRUE)',
      'true',
      '6',
      'no arguments, attempt 1',
      'QUIET',
      '60',
    ]);
  });

  it('fails a workflow whose class-typed input breaks its constraints, listing every violation', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [ArgsWorkflow], activities: [new Shop(), shout] });
    const handle = await env.client.startWorkflow(ArgsWorkflow, { item: 7, quantity: 0, shipTo: { city: 3 } } as unknown as Order, {
      id: 'bad-order',
      taskQueue: 'q',
    });
    const error = await worker.runUntil(handle.result().catch((e: Error) => e));
    const cause = (error as { cause: ApplicationError }).cause;
    expect(cause).toBeInstanceOf(ApplicationError);
    expect(cause.type).toBe('ValidationError');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toBe(
      'Validation failed for workflow ArgsWorkflow argument 1 (Order): item must be a string; quantity must not be less than 1; shipTo.city must be a string',
    );
  });

  it('fails the workflow task, not the workflow, when an activity has no close timeout', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [MissingTimeouts], activities: [new Shop()] });
    const handle = await env.client.startWorkflow(MissingTimeouts, { id: 'no-timeouts', taskQueue: 'q' });
    const failed = await worker.runUntil(waitForEvent(handle.fetchHistory.bind(handle), EventType.WorkflowTaskFailed));
    expect(failed.attributes).toMatchObject({
      cause: 'WORKFLOW_WORKER_UNHANDLED_FAILURE',
      failure: {
        message: 'Activity must have startToCloseTimeout or scheduleToCloseTimeout',
        applicationFailureInfo: { type: 'TypeError' },
      },
    });
    expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
    const history = await handle.fetchHistory();
    expect(history.some((e) => e.eventType === EventType.ActivityTaskScheduled)).toBe(false);
  });

  it('fails the workflow task, not the workflow, when a Durabull error outside the FailureError branch escapes the code', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Thrower] });
    const expected: Array<[string, string]> = [
      ['IllegalStateError', 'workflow code used an API where it cannot work'],
      ['WorkflowNotFoundError', 'Workflow execution not found: workflowId="elsewhere"'],
      ['PayloadSizeError', 'Activity big result is 3 MiB, over the 2 MiB payload limit'],
      ['RedisConnectionError', 'Redis is unreachable at redis://db:6379: socket closed'],
      ['DurabullError', 'a bare Durabull error'],
    ];
    const handles = await Promise.all(expected.map(([name]) => env.client.startWorkflow(Thrower, name, { id: `throws-${name}`, taskQueue: 'q' })));
    const failed = await worker.runUntil(Promise.all(handles.map((h) => waitForEvent(() => h.fetchHistory(), EventType.WorkflowTaskFailed))));
    expected.forEach(([name, message], i) => {
      expect(failed[i]!.attributes).toMatchObject({
        cause: 'WORKFLOW_WORKER_UNHANDLED_FAILURE',
        failure: { message, applicationFailureInfo: { type: name } },
      });
    });
    for (const handle of handles) {
      expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
      expect((await handle.fetchHistory()).map((e) => e.eventType)).toEqual([
        EventType.WorkflowExecutionStarted,
        EventType.WorkflowTaskScheduled,
        EventType.WorkflowTaskStarted,
        EventType.WorkflowTaskFailed,
      ]);
    }
  });

  it('fails the workflow when an ApplicationError (a FailureError) escapes the code', async () => {
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Thrower] });
    const handle = await env.client.startWorkflow(Thrower, 'ApplicationError', { id: 'throws-application-error', taskQueue: 'q' });
    const error = await worker.runUntil(handle.result().catch((e: unknown) => e));
    expect(error).toBeInstanceOf(WorkflowFailureError);
    const cause = (error as WorkflowFailureError).cause;
    expect(cause).toBeInstanceOf(ApplicationError);
    expect(cause).toMatchObject({ message: 'failed on purpose', type: 'OnPurpose', nonRetryable: false });
    expect((await handle.describe()).status).toBe(WorkflowExecutionStatus.FAILED);
    expect((await handle.fetchHistory()).map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionFailed,
    ]);
  });

  it('gives now(), random() and uuid4() the same values on replay', async () => {
    // No cache: every workflow task replays the whole history.
    const worker = env.newWorker({ taskQueue: 'q', workflows: [Deterministic], maxCachedWorkflows: 0 });
    const handle = await env.client.startWorkflow(Deterministic, { id: 'det', taskQueue: 'q' });
    const result = (await worker.runUntil(handle.result())) as {
      first: { now: number; random: number; uuid: string };
      afterSleep: number;
      info: object;
    };
    const history = await handle.fetchHistory();
    const firstTaskStart = Date.parse(history.find((e) => e.eventType === EventType.WorkflowTaskStarted)!.eventTime);
    expect(result.first.now).toBe(firstTaskStart);
    expect(result.afterSleep).toBeGreaterThanOrEqual(result.first.now + 20);
    expect(result.first.random).toBeGreaterThanOrEqual(0);
    expect(result.first.random).toBeLessThan(1);
    expect(result.first.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result.info).toEqual({ workflowId: 'det', workflowType: 'Deterministic', taskQueue: 'q' });
    expect(history.map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.TimerStarted,
      EventType.TimerFired,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect(history[4]!.attributes).toMatchObject({ timerId: '1', startToFireTimeout: 20, workflowTaskCompletedEventId: 4 });
    expect(history[5]!.attributes).toEqual({ timerId: '1', startedEventId: 5 });
  });

  it('fails the workflow task with NondeterminismError when replayed code disagrees, without touching history, and recovers once fixed', async () => {
    const worker = env.newWorker({
      taskQueue: 'q',
      workflows: [RenamedActivityWorkflow],
      activities: [new DeployingSteps()],
      maxCachedWorkflows: 0,
    });
    const handle = await env.client.startWorkflow(RenamedActivityWorkflow, { id: 'nondet', taskQueue: 'q' });
    const result = worker.runUntil(async () => {
      const failed = await waitForEvent(() => handle.fetchHistory(), EventType.WorkflowTaskFailed);
      const history = await handle.fetchHistory();
      code.version = 1; // the fix: the retried task replays cleanly
      return { failed, history, result: await handle.result() };
    });
    const { failed, history } = await result;
    expect(failed.attributes).toMatchObject({
      cause: 'NON_DETERMINISTIC_ERROR',
      failure: {
        message:
          "Nondeterminism error: Activity type of scheduled event 'step' does not match activity type of activity command 'other_step' (event 5 ActivityTaskScheduled)",
        applicationFailureInfo: { type: 'NondeterminismError' },
      },
    });
    // Everything before the failed task is as it was; the failure is the only addition, and the
    // retried (transient) task writes nothing until it completes.
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
      EventType.WorkflowTaskFailed,
    ]);
    expect(history[4]!.attributes).toMatchObject({ activityType: 'step', activityId: '1' });
    expect((await result).result).toBe('two');
    expect(ran).toEqual(['one', 'two']);
  });

  it('finishes a run on a new worker after the first one shut down between two activities, without re-running the first', async () => {
    const first = env.newWorker({ taskQueue: 'q', workflows: [TwoSteps], activities: [new Steps()] });
    const handle = await env.client.startWorkflow(TwoSteps, { id: 'handover', taskQueue: 'q' });
    await first.runUntil(waitForEvent(() => handle.fetchHistory(), EventType.ActivityTaskCompleted));
    expect(ran).toEqual(['one']);

    const client = await env.newClient();
    const workflows = new Worker(client, { taskQueue: 'q', workflows: [TwoSteps], activities: [new Steps()] });
    const later = new Worker(client, { taskQueue: 'later', activities: [new Steps()] });
    const result = await workflows.runUntil(later.runUntil(client.getWorkflowHandle('handover').result()));

    expect(result).toBe('two');
    expect(ran).toEqual(['one', 'two']);
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.eventType === EventType.ActivityTaskCompleted)).toHaveLength(2);
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionCompleted);
  });

  it('shares one task queue between two workers', async () => {
    const seen = new Set<string>();
    class Recorder {
      @Activity()
      async record(i: number): Promise<number> {
        seen.add(activity.info().workflowId.length > 0 ? workerOf.get(this)! : '');
        await new Promise((resolve) => setTimeout(resolve, 20));
        return i * 2;
      }
    }
    const workerOf = new Map<object, string>();
    @WorkflowDefn()
    class Double {
      @WorkflowRun()
      async run(i: number): Promise<number> {
        return workflow.executeActivity(Recorder.prototype.record, i, { startToCloseTimeout: '5s' });
      }
    }
    const a = new Recorder();
    const b = new Recorder();
    workerOf.set(a, 'a').set(b, 'b');
    const options = { taskQueue: 'shared', workflows: [Double], maxConcurrentActivityTaskExecutions: 1 };
    const workerA = env.newWorker({ ...options, activities: [a] });
    const workerB = env.newWorker({ ...options, activities: [b] });
    const all = Promise.all(
      Array.from({ length: 12 }, (_, i) => env.client.executeWorkflow(Double, i, { id: `double-${i}`, taskQueue: 'shared' })),
    );
    const results = await workerA.runUntil(workerB.runUntil(all));
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i * 2));
    expect([...seen].sort()).toEqual(['a', 'b']);
  });
});

async function waitForEvent(read: () => Promise<HistoryEvent[]>, type: EventType): Promise<HistoryEvent> {
  for (;;) {
    const event = (await read()).find((e) => e.eventType === type);
    if (event) return event;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
