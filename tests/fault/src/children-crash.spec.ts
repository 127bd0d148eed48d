import { join } from 'node:path';
import { EventType } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { Errand, Household, Leaver, Sitter } from './fixtures/family';
import { FAST_RECOVERY } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'family-worker.ts');

// A child's start and its close are messages between runs (libs/engine/src/lua/includes/
// children.lua): the parent commits the child's start, a worker starts the child (on another
// shard) and resolves it on the parent; the child's last close commits a message a worker records
// on the parent and resolves on the child. A worker killed (SIGKILL) after any of these steps
// leaves the rest to the sweep of the worker that takes over: every child starts once, and the
// parent records its start and its close once.
describe('child workflows when the worker is killed with SIGKILL', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  const of = (history: HistoryEvent[], type: EventType) => history.filter((e) => e.eventType === type);

  it.each([
    ['after the parent committed the child start, before it was dispatched', 'afterCommit:completeWorkflowTask@1'],
    ['after the child started, before the parent learnt it', 'afterCommit:startWorkflow@1'],
    ['after the parent recorded the start, before its workflow task was dispatched', 'afterCommit:resolveExternal@1'],
    ['after a workflow task that may be the child closing, before its report was dispatched', 'afterCommit:completeWorkflowTask@2'],
    ['after the parent recorded the child close, before the child learnt it', 'afterCommit:recordChildClosed@1'],
  ])('killed %s (%s): each child starts once and the parent records it once', async (_label, point) => {
    const shardOf = (id: string) => env.client.engine.keys.shardOf(id);
    const ids: string[] = [];
    for (let i = 0; ids.length < 2; i++) if (shardOf(`errand-${i}`) !== shardOf('household')) ids.push(`errand-${i}`);
    const parent = await env.client.startWorkflow(Household, { args: [ids], id: 'household', taskQueue: 'family', taskTimeout: '1s' });

    const victim = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: point }, WORKER);
    processes.push(victim);
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited

    const worker = env.newWorker({ taskQueue: 'family', workflows: [Household, Errand], ...FAST_RECOVERY });
    const messages = async () => {
      const outboxes = await Promise.all(
        Array.from({ length: env.client.engine.keys.shardCount }, (_, s) => env.client.redis.zrange(env.client.engine.keys.shard(s).outbox, 0, -1)),
      );
      return outboxes.flat().filter((m) => m.startsWith('msg|'));
    };
    const result = await worker.runUntil(async () => {
      const value = await parent.result();
      // A hop the crash cut short may outlive the result (a start resolved after the child's close
      // reported it): the sweep delivers it again, and it resolves as a no-op.
      for (const deadline = Date.now() + 10_000; (await messages()).length > 0 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return value;
    });
    expect(result).toEqual(ids.map((id) => `${id} done`));

    const history = await parent.fetchHistory();
    expect(historyViolations(history)).toEqual([]);
    const initiated = of(history, EventType.StartChildWorkflowExecutionInitiated);
    expect(initiated.map((e) => e.attributes['workflowId'])).toEqual(ids);
    for (const type of [EventType.ChildWorkflowExecutionStarted, EventType.ChildWorkflowExecutionCompleted]) {
      expect(of(history, type).map((e) => e.attributes['initiatedEventId'])).toEqual(initiated.map((e) => e.eventId));
    }
    for (const id of ids) {
      const child = env.client.getWorkflowHandle(id);
      const childHistory = await child.fetchHistory();
      expect(historyViolations(childHistory)).toEqual([]);
      expect(of(childHistory, EventType.WorkflowExecutionStarted)).toHaveLength(1);
      expect(of(childHistory, EventType.WorkflowExecutionCompleted)).toHaveLength(1);
    }
    // One run per child: the one the parent recorded.
    const errands: string[] = [];
    for await (const run of env.client.listWorkflows({ workflowType: 'Errand' })) errands.push(`${run.workflowId}/${run.runId}`);
    const started = of(history, EventType.ChildWorkflowExecutionStarted).map((e) => e.attributes['workflowExecution'] as { workflowId: string; runId: string });
    expect(errands.sort()).toEqual(started.map((e) => `${e.workflowId}/${e.runId}`).sort());
    // Nothing of the hand-overs is left behind on any shard.
    expect(await messages()).toEqual([]);
  });

  it.each([
    ['after a workflow task that may be the parent closing with its close policy, before it was dispatched', 'afterCommit:completeWorkflowTask@3'],
    ['after the child was terminated, before the parent learnt it', 'afterCommit:terminateWorkflow@1'],
  ])('killed %s (%s): the parent close policy terminates the child once', async (_label, point) => {
    const shardOf = (id: string) => env.client.engine.keys.shardOf(id);
    let childId = 'sitter-0';
    for (let i = 1; shardOf(childId) === shardOf('leaver'); i++) childId = `sitter-${i}`;
    const parent = await env.client.startWorkflow(Leaver, { args: [childId], id: 'leaver', taskQueue: 'family', taskTimeout: '1s' });

    const victim = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: point }, WORKER);
    processes.push(victim);
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited

    const child = env.client.getWorkflowHandle(childId);
    const worker = env.newWorker({ taskQueue: 'family', workflows: [Leaver, Sitter], ...FAST_RECOVERY });
    await worker.runUntil(async () => {
      expect(await parent.result()).toBe('gone');
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
        const last = (await child.fetchHistory()).at(-1);
        if (last?.eventType === EventType.WorkflowExecutionTerminated && (await messages(env)).length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    const childHistory = await child.fetchHistory();
    expect(historyViolations(childHistory)).toEqual([]);
    expect(of(childHistory, EventType.WorkflowExecutionTerminated).map((e) => e.attributes['reason'])).toEqual(['by parent close policy']);
    expect(await messages(env)).toEqual([]);
    const state = await env.client.redis.hkeys(env.client.engine.keys.run('leaver', parent.runId).state);
    expect(state.filter((field) => /^[cx]:/.test(field))).toEqual([]);
  });
});

/** The message descriptors (msg|...) left in the namespace's shard outboxes. */
async function messages(env: TestEnvironment): Promise<string[]> {
  const outboxes = await Promise.all(
    Array.from({ length: env.client.engine.keys.shardCount }, (_, s) => env.client.redis.zrange(env.client.engine.keys.shard(s).outbox, 0, -1)),
  );
  return outboxes.flat().filter((m) => m.startsWith('msg|'));
}
