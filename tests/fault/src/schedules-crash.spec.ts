import { join } from 'node:path';
import { ScheduleOverlapPolicy } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { Scheduled } from './fixtures/scheduled';
import { FAST_RECOVERY } from './fixtures/pipeline';

const WORKER = join(__dirname, 'fixtures', 'scheduled-worker.ts');

// A schedule fires in two steps (libs/engine/src/schedules.ts): a fenced commit records the
// start as pending, then the firing worker starts the workflow (deterministic run id) and commits
// it done. A worker killed (SIGKILL) after either step leaves the start to whoever fires the
// schedule next: every scheduled time still starts exactly one run.
describe('schedules when the firing worker is killed with SIGKILL', () => {
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
  });

  it.each([
    ['after committing a start, before starting the workflow', 'afterCommit:commitSchedule@1'],
    ['after starting the workflow, before committing it done', 'schedule:afterStart@1'],
    ['after the workflow start committed, before its task was dispatched', 'afterCommit:startWorkflow@1'],
  ])('killed %s (%s): each time starts one run', async (_label, point) => {
    const victim = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: point }, WORKER);
    processes.push(victim);
    await victim.waitFor('ready');
    const handle = await env.client.createSchedule('every-second', {
      action: { workflow: Scheduled, id: 'tick', taskQueue: 'scheduled' },
      spec: { intervals: [{ every: '1s' }] },
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
      state: { remainingActions: 3 },
    });
    expect(await victim.exited).toBeNull(); // killed by the crash point, not exited

    const survivor = env.newWorker({ taskQueue: 'scheduled', workflows: [Scheduled], ...FAST_RECOVERY });
    const description = await survivor.runUntil(async () => {
      for (;;) {
        const d = await handle.describe();
        if (d.info.recentActions.length === 3 && d.info.recentActions.every((a) => a.status === 'COMPLETED')) return d;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    const ids = description.info.recentActions.map((a) => a.action.workflow.workflowId);
    expect(new Set(ids).size).toBe(3);
    const seconds = description.info.recentActions.map((a) => a.scheduledAt.getTime());
    expect(seconds.every((t, i) => t % 1000 === 0 && (i === 0 || t - seconds[i - 1]! === 1000))).toBe(true);
    expect(ids).toEqual(seconds.map((t) => `tick-${new Date(t).toISOString().replace('.000Z', 'Z')}`));
    // One run per time, no other run.
    const runs = [];
    for await (const run of env.client.listWorkflows()) runs.push(run.workflowId);
    expect(runs.sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await env.client.getWorkflowHandle(id).result()).toBe(id);
    expect(description.info.numActionsTaken).toBe(3);
    expect(description.state.remainingActions).toBe(0);
  });

  it('a start left pending by a killed firing worker has started when the test clock is moved, without waiting for the hand-over grace', async () => {
    const victim = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, DURABULL_CRASH_POINT: 'afterCommit:commitSchedule@1' }, WORKER);
    processes.push(victim);
    await victim.waitFor('ready');
    const handle = await env.client.createSchedule('once', {
      action: { workflow: Scheduled, id: 'tick', taskQueue: 'scheduled' },
      spec: { intervals: [{ every: '1s' }] },
      state: { remainingActions: 1 },
    });
    expect(await victim.exited).toBeNull();
    const listed = async () => {
      const runs = [];
      for await (const run of env.client.listWorkflows()) runs.push(run);
      return runs;
    };
    expect(await listed()).toEqual([]);
    expect((await handle.describe()).info.numActionsTaken).toBe(1);

    await env.sleep(0);
    const runs = await listed();
    expect(runs.map((run) => [run.workflowId.startsWith('tick-'), run.status])).toEqual([[true, 'RUNNING']]); // no worker left to run it
    expect((await handle.describe()).info.recentActions.map((a) => a.action.workflow)).toEqual([{ workflowId: runs[0]!.workflowId, firstExecutionRunId: runs[0]!.runId }]);
  });
});
