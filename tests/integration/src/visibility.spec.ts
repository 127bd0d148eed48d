import { ApplicationError, WorkflowDefn, WorkflowExecutionStatus, WorkflowRun, workflow } from '@durabull/sdk';
import type { WorkflowExecutionDescription } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

@WorkflowDefn()
class Finishes {
  @WorkflowRun()
  async run(outcome: 'complete' | 'fail' | 'wait'): Promise<string> {
    if (outcome === 'fail') throw ApplicationError.nonRetryable('failed on purpose');
    if (outcome === 'wait') await workflow.sleep('1h');
    return 'done';
  }
}

@WorkflowDefn()
class Other {
  @WorkflowRun()
  async run(): Promise<string> {
    await workflow.sleep('1h');
    return 'never';
  }
}

describe('visibility: listing and counting executions', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await TestEnvironment.create({ shards: 4 });
    const worker = env.newWorker({ taskQueue: 'a', workflows: [Finishes, Other] });
    const other = env.newWorker({ taskQueue: 'b', workflows: [Finishes, Other] });
    const handles = [];
    for (let i = 0; i < 12; i++) {
      const outcome = (['complete', 'fail', 'wait'] as const)[i % 3]!;
      handles.push(await env.client.startWorkflow(Finishes, outcome, { id: `finishes-${i}`, taskQueue: i < 8 ? 'a' : 'b' }));
    }
    for (let i = 0; i < 3; i++) handles.push(await env.client.startWorkflow(Other, { id: `other-${i}`, taskQueue: 'b' }));
    await worker.runUntil(
      other.runUntil(async () => {
        await Promise.all(handles.filter((_, i) => i < 12 && i % 3 !== 2).map((h) => h.result().catch(() => undefined)));
        // Every waiting run has parked on its timer.
        await waitUntil(async () => (await env.client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })) === 7);
      }),
    );
    await env.client.getWorkflowHandle('finishes-2').terminate('stop');
  });
  afterAll(() => env.teardown());

  const ids = (executions: WorkflowExecutionDescription[]) => executions.map((e) => e.workflowId).sort();
  async function all(filter: Parameters<TestEnvironment['client']['listWorkflows']>[0] = {}) {
    const executions: WorkflowExecutionDescription[] = [];
    for await (const execution of env.client.listWorkflows(filter)) executions.push(execution);
    return executions;
  }

  it('lists every execution, newest first, with its description', async () => {
    const executions = await all();
    expect(executions).toHaveLength(15);
    const starts = executions.map((e) => e.startTime.getTime());
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);
    const failed = executions.find((e) => e.workflowId === 'finishes-1')!;
    expect(failed).toMatchObject({ workflowType: 'Finishes', status: WorkflowExecutionStatus.FAILED, taskQueue: 'a' });
    expect(failed.closeTime).toBeInstanceOf(Date);
    expect(failed.historyLength).toBeGreaterThan(3);
  });

  it('filters by status, workflow type and task queue, alone and together', async () => {
    expect(ids(await all({ status: WorkflowExecutionStatus.FAILED }))).toEqual(['finishes-1', 'finishes-10', 'finishes-4', 'finishes-7']);
    expect(ids(await all({ status: WorkflowExecutionStatus.TERMINATED }))).toEqual(['finishes-2']);
    expect(ids(await all({ workflowType: 'Other' }))).toEqual(['other-0', 'other-1', 'other-2']);
    expect(ids(await all({ taskQueue: 'b' }))).toEqual(['finishes-10', 'finishes-11', 'finishes-8', 'finishes-9', 'other-0', 'other-1', 'other-2']);
    expect(ids(await all({ taskQueue: 'b', workflowType: 'Finishes', status: WorkflowExecutionStatus.RUNNING }))).toEqual(['finishes-11', 'finishes-8']);
    expect(ids(await all({ status: WorkflowExecutionStatus.RUNNING, workflowType: 'Finishes' }))).toEqual(['finishes-11', 'finishes-5', 'finishes-8']);
  });

  it('filters by start time', async () => {
    const executions = await all();
    const cut = executions[5]!.startTime;
    const after = await all({ startedAfter: cut });
    const before = await all({ startedBefore: cut });
    expect(after.length + before.length).toBe(15);
    expect(after.every((e) => e.startTime >= cut)).toBe(true);
    expect(before.every((e) => e.startTime < cut)).toBe(true);
  });

  it('pages through every execution exactly once', async () => {
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await env.client.listWorkflowsPage({}, { pageSize: 4, pageToken });
      expect(page.executions.length).toBeLessThanOrEqual(4);
      seen.push(...page.executions.map((e) => e.runId));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(15);
    expect(seen).toEqual((await all()).map((e) => e.runId));
  });

  it('counts with and without filters', async () => {
    expect(await env.client.countWorkflows()).toBe(15);
    expect(await env.client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })).toBe(6);
    expect(await env.client.countWorkflows({ status: WorkflowExecutionStatus.COMPLETED })).toBe(4);
    expect(await env.client.countWorkflows({ workflowType: 'Finishes' })).toBe(12);
    expect(await env.client.countWorkflows({ taskQueue: 'a', status: WorkflowExecutionStatus.FAILED })).toBe(3);
  });

  it('rejects a bad filter or page token, naming the value', async () => {
    await expect(env.client.countWorkflows({ status: 'DONE' as WorkflowExecutionStatus })).rejects.toThrow('Invalid status: "DONE"');
    await expect(env.client.listWorkflowsPage({}, { pageToken: 'garbage' })).rejects.toThrow('Invalid page token: "garbage"');
    await expect(env.client.listWorkflowsPage({}, { pageSize: 0 })).rejects.toThrow('Invalid pageSize: 0');
  });
});

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}
