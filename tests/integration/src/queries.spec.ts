import {
  Activity,
  ApplicationError,
  Client,
  WorkflowDefn,
  WorkflowNotFoundError,
  WorkflowQuery,
  WorkflowQueryFailedError,
  WorkflowQueryFailedReason,
  WorkflowRun,
  Worker,
  workflow,
} from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Steps {
  @Activity()
  async step(n: number): Promise<number> {
    return n + 1;
  }
}

/** Counts `steps` activities, then waits an hour (or, with `finish`, returns at once). */
@WorkflowDefn()
class Progress {
  done = 0;
  label = 'starting';

  @WorkflowRun()
  async run(steps: number, finish = false): Promise<number> {
    workflow.setQueryHandler('label', () => this.label);
    for (let i = 0; i < steps; i++) this.done = await workflow.executeActivity(Steps.prototype.step, this.done, { startToCloseTimeout: '5s' });
    this.label = 'waiting';
    if (!finish) await workflow.sleep('1h');
    this.label = 'finished';
    return this.done;
  }

  @WorkflowQuery()
  progress(): number {
    return this.done;
  }

  @WorkflowQuery({ name: 'plus' })
  plus(n: number): number {
    return this.done + n;
  }

  @WorkflowQuery()
  failing(): number {
    throw new ApplicationError(`cannot tell: ${this.done} done`);
  }

  @WorkflowQuery()
  typeError(): number {
    throw new TypeError('boom in a query');
  }

  @WorkflowQuery()
  async asynchronous(): Promise<number> {
    return this.done;
  }

  @WorkflowQuery()
  schedules(): unknown {
    return workflow.executeActivity(Steps.prototype.step, 1, { startToCloseTimeout: '5s' });
  }

  @WorkflowQuery()
  sleeps(): unknown {
    return workflow.sleep('1s');
  }

  @WorkflowQuery()
  random(): number {
    return workflow.random();
  }
}

@WorkflowDefn()
class Dynamic {
  @WorkflowRun()
  async run(): Promise<void> {
    workflow.setDynamicQueryHandler((name: string, ...args: unknown[]) => `${name}(${args.join(',')})`);
    await workflow.sleep('1h');
  }
}

const TQ = 'queries';
const options = { taskQueue: TQ, workflows: [Progress, Dynamic], activities: [new Steps()] };

/** Resolves once the run's history has an event of `type`. */
async function waitForEvent(handle: { fetchHistory(): Promise<Array<{ eventType: string }>> }, type: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await handle.fetchHistory()).some((e) => e.eventType === type)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${type} event`);
}

/** The error a promise rejects with. */
const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe('queries', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create({ queryTimeout: 3_000 })));
  afterEach(() => env.teardown());

  it('answers from the worker that caches the run, reading no history and writing no event', async () => {
    const worker = env.newWorker(options);
    const running = worker.run();
    try {
      const handle = await env.client.startWorkflow(Progress, { args: [2], id: 'cached', taskQueue: TQ });
      await waitForEvent(handle, 'TimerStarted');
      const before = await handle.fetchHistory();
      const route = jest.spyOn(env.client.engine, 'routeQuery');
      const reads = jest.spyOn(env.client.engine, 'readHistory');
      expect(await handle.query(Progress.prototype.progress)).toBe(2);
      expect(await handle.query('plus', 40)).toBe(42);
      expect(await handle.query<string>('label')).toBe('waiting');
      expect((await route.mock.results[0]!.value)?.worker).toBe(worker.workerId);
      expect(reads).not.toHaveBeenCalled();
      expect(await handle.fetchHistory()).toEqual(before);
      expect((await handle.describe()).historyLength).toBe(before.length);
    } finally {
      await worker.shutdown();
      await running;
    }
  });

  it('answers by replaying the history when no worker caches the run', async () => {
    const worker = env.newWorker({ ...options, maxCachedWorkflows: 0 });
    await worker.runUntil(async () => {
      const handle = await env.client.startWorkflow(Progress, { args: [3], id: 'replayed', taskQueue: TQ });
      await waitForEvent(handle, 'TimerStarted');
      const before = await handle.fetchHistory();
      const reads = jest.spyOn(env.client.engine, 'readHistory');
      expect(await handle.query(Progress.prototype.progress)).toBe(3);
      expect(await handle.query<string>('label')).toBe('waiting');
      expect(reads).toHaveBeenCalledTimes(2);
      expect(await handle.fetchHistory()).toEqual(before);
    });
  });

  it('answers a closed run by replay, from its state when it closed', async () => {
    const worker = env.newWorker(options);
    await worker.runUntil(async () => {
      const handle = await env.client.startWorkflow(Progress, { args: [2, true], id: 'closed', taskQueue: TQ });
      expect(await handle.result()).toBe(2);
      const before = await handle.fetchHistory();
      expect(await handle.query(Progress.prototype.progress)).toBe(2);
      expect(await handle.query<string>('label')).toBe('finished');
      expect(await handle.fetchHistory()).toEqual(before);
    });
  });

  it('rejects with HANDLER_FAILED carrying exactly the handler\'s message, and UNKNOWN_QUERY naming the known queries', async () => {
    const worker = env.newWorker(options);
    await worker.runUntil(async () => {
      const handle = await env.client.startWorkflow(Progress, { args: [1], id: 'failures', taskQueue: TQ });
      await waitForEvent(handle, 'TimerStarted');
      const before = await handle.fetchHistory();

      const failed = (await rejection(handle.query(Progress.prototype.failing))) as WorkflowQueryFailedError;
      expect(failed).toBeInstanceOf(WorkflowQueryFailedError);
      expect(failed.message).toBe('cannot tell: 1 done');
      expect(failed.reason).toBe(WorkflowQueryFailedReason.HANDLER_FAILED);
      expect(failed).toMatchObject({ queryType: 'failing', workflowId: 'failures', runId: handle.runId, knownQueries: [] });
      expect(failed.cause).toBeInstanceOf(ApplicationError);
      expect((failed.cause as Error).message).toBe('cannot tell: 1 done');

      const typeError = (await rejection(handle.query('typeError'))) as WorkflowQueryFailedError;
      expect([typeError.reason, typeError.message]).toEqual([WorkflowQueryFailedReason.HANDLER_FAILED, 'boom in a query']);

      const unknown = (await rejection(handle.query('nope', 1))) as WorkflowQueryFailedError;
      expect(unknown).toBeInstanceOf(WorkflowQueryFailedError);
      expect(unknown.reason).toBe(WorkflowQueryFailedReason.UNKNOWN_QUERY);
      expect(unknown.message).toBe(
        "Query handler for 'nope' expected but not found, known queries: [asynchronous failing label plus progress random schedules sleeps typeError]",
      );
      expect(unknown.knownQueries).toEqual(['asynchronous', 'failing', 'label', 'plus', 'progress', 'random', 'schedules', 'sleeps', 'typeError']);

      const promise = (await rejection(handle.query('asynchronous'))) as WorkflowQueryFailedError;
      expect([promise.reason, promise.message]).toEqual([
        WorkflowQueryFailedReason.HANDLER_FAILED,
        "Query handler for 'asynchronous' returned a Promise: query handlers must be synchronous",
      ]);

      expect(await handle.fetchHistory()).toEqual(before);
      // The run is unharmed: it still answers.
      expect(await handle.query('progress')).toBe(1);
    });
  });

  it('runs handlers read-only: recording anything throws IllegalStateError, and nothing is written', async () => {
    const worker = env.newWorker(options);
    await worker.runUntil(async () => {
      const handle = await env.client.startWorkflow(Progress, { args: [1], id: 'read-only', taskQueue: TQ });
      await waitForEvent(handle, 'TimerStarted');
      const before = await handle.fetchHistory();
      for (const [query, action] of [
        ['schedules', 'schedule activity'],
        ['sleeps', 'start timer'],
        ['random', 'random'],
      ] as const) {
        const error = (await rejection(handle.query(query))) as WorkflowQueryFailedError;
        expect(error).toBeInstanceOf(WorkflowQueryFailedError);
        expect([error.reason, error.message]).toEqual([WorkflowQueryFailedReason.HANDLER_FAILED, `While in read-only function, action attempted: ${action}`]);
        expect((error.cause as Error).name).toBe('IllegalStateError');
      }
      expect(await handle.fetchHistory()).toEqual(before);
      // The run goes on as if nothing happened (no command leaked into its next task).
      await handle.terminate('done');
    });
  });

  it('passes the name and arguments to a dynamic query handler', async () => {
    const worker = env.newWorker(options);
    await worker.runUntil(async () => {
      const handle = await env.client.startWorkflow(Dynamic, { args: [], id: 'dynamic', taskQueue: TQ });
      await waitForEvent(handle, 'TimerStarted');
      expect(await handle.query('anything', 1, 'two')).toBe('anything(1,two)');
    });
  });

  it('answers a run whose first workflow task had not completed once it has', async () => {
    const handle = await env.client.startWorkflow(Progress, { args: [0], id: 'early', taskQueue: TQ });
    const answer = handle.query<string>('label');
    // Sent before any worker runs; the worker that starts takes the query and the first task.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const worker = env.newWorker(options);
    await worker.runUntil(async () => {
      expect(await answer).toBe('waiting');
    });
  });

  it('times out with TIMEOUT when no worker answers, and takes its query back', async () => {
    const client = await env.newClient({ queryTimeout: 300 });
    const handle = await env.client.startWorkflow(Progress, { args: [0], id: 'nobody', taskQueue: TQ });
    const error = (await rejection(client.getWorkflowHandle(handle.workflowId).query('progress'))) as WorkflowQueryFailedError;
    expect(error).toBeInstanceOf(WorkflowQueryFailedError);
    expect(error.reason).toBe(WorkflowQueryFailedReason.TIMEOUT);
    expect(error.message).toBe(
      `Query progress got no answer within 300ms (workflowId="nobody" runId="${handle.runId}"): no worker of its task queue answered`,
    );
    const queue = env.client.engine.dispatcher.queue(env.client.engine.keys.taskQueuePrefix(TQ), 'query');
    expect(await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized')).toEqual({ wait: 0, active: 0, delayed: 0, prioritized: 0 });
  });

  it('rejects with WorkflowNotFoundError for an unknown run and for a run closed before its code ran', async () => {
    const unknown = await rejection(env.client.getWorkflowHandle('no-such-workflow').query('progress'));
    expect(unknown).toBeInstanceOf(WorkflowNotFoundError);
    expect((unknown as Error).message).toBe('Workflow execution not found: workflowId="no-such-workflow"');

    const handle = await env.client.startWorkflow(Progress, { args: [0], id: 'never-ran', taskQueue: TQ });
    await handle.terminate('at once');
    const worker = env.newWorker(options);
    await worker.runUntil(async () => {
      const error = await rejection(handle.query('progress'));
      expect(error).toBeInstanceOf(WorkflowNotFoundError);
      expect((error as Error).message).toBe(
        `Workflow execution closed before its first workflow task completed: it has no state to query: workflowId="never-ran" runId="${handle.runId}"`,
      );
    });
  });

  it('rejects a bad queryTimeout naming the value', async () => {
    await expect(Client.connect({ namespace: env.namespace, queryTimeout: 0 })).rejects.toThrow('Invalid queryTimeout: 0 (a duration above 0)');
    await expect(Client.connect({ namespace: env.namespace, queryTimeout: 'soon' })).rejects.toThrow(TypeError);
  });

  describe('routing', () => {
    /** Two workers of the task queue on clients of their own; `a` ran the run's tasks and caches it. */
    async function twoWorkers(): Promise<{ a: Worker; b: Worker; aClient: Client; bClient: Client; stop: () => Promise<void> }> {
      const aClient = await env.newClient();
      const bClient = await env.newClient();
      const a = new Worker(aClient, options);
      const running = [a.run()];
      const handle = await env.client.startWorkflow(Progress, { args: [1], id: 'routed', taskQueue: TQ });
      await waitForEvent(handle, 'TimerStarted');
      const b = new Worker(bClient, options);
      running.push(b.run());
      return {
        a,
        b,
        aClient,
        bClient,
        stop: async () => {
          await Promise.all([a.shutdown(), b.shutdown()]);
          await Promise.all(running);
        },
      };
    }

    it('sends the query to the worker that caches the run while it is live', async () => {
      const { a, aClient, bClient, stop } = await twoWorkers();
      try {
        const aReads = jest.spyOn(aClient.engine, 'readHistory');
        const bReads = jest.spyOn(bClient.engine, 'readHistory');
        const route = jest.spyOn(env.client.engine, 'routeQuery');
        for (let i = 0; i < 5; i++) expect(await env.client.getWorkflowHandle('routed').query('progress')).toBe(1);
        for (const result of route.mock.results) expect((await result.value)?.worker).toBe(a.workerId);
        expect(aReads).not.toHaveBeenCalled();
        expect(bReads).not.toHaveBeenCalled();
      } finally {
        await stop();
      }
    });

    it('sends it to the task queue once that worker is dead, where another worker answers by replay', async () => {
      const { a, bClient, stop } = await twoWorkers();
      try {
        // `a` dies: it takes no more jobs and stops refreshing its liveness, whose entries expire.
        const internals = a as unknown as { maintenance: { stop(): void }; bullWorkers: Array<{ close(): Promise<void> }> };
        internals.maintenance.stop();
        await Promise.all(internals.bullWorkers.map((worker) => worker.close()));
        const { engine } = env.client;
        for (let shard = 0; shard < engine.keys.shardCount; shard++) await engine.redis.hset(engine.keys.shard(shard).workers, a.workerId, '1');
        const bReads = jest.spyOn(bClient.engine, 'readHistory');
        const route = jest.spyOn(engine, 'routeQuery');
        expect(await env.client.getWorkflowHandle('routed').query('progress')).toBe(1);
        expect((await route.mock.results[0]!.value)?.worker).toBeUndefined();
        expect(bReads).toHaveBeenCalledTimes(1);
      } finally {
        await stop();
      }
    });
  });
});
