import { EventType, WorkflowDefn, WorkflowRun, WorkflowSignal, workflow } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { cli } from '../test-support/run-cli';

jest.setTimeout(30_000);

const REDIS = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

@WorkflowDefn({ name: 'CliInbox' })
class CliInbox {
  received: unknown[][] = [];

  @WorkflowRun()
  async run(): Promise<unknown[][]> {
    await workflow.waitCondition(() => this.received.length === 3);
    return this.received;
  }

  @WorkflowSignal()
  post(...args: unknown[]): void {
    this.received.push(args);
  }
}

describe('durabull workflow signal', () => {
  let env: TestEnvironment;
  const wf = (...args: string[]) => cli(['workflow', ...args, '--namespace', env.namespace, '--redis', REDIS]);

  beforeEach(async () => {
    env = await TestEnvironment.create({ redis: REDIS });
  });
  afterEach(() => env.teardown());

  it('sends a signal with no, one (--input) or several (--args) arguments; a closed or unknown run is an error', async () => {
    const handle = await env.client.startWorkflow(CliInbox, { id: 'inbox-1', taskQueue: 'cli' });
    const runId = handle.runId!;
    expect(await wf('signal', '--id', 'inbox-1', '--name', 'post')).toEqual({
      code: 0,
      stdout: `Signalled workflow "inbox-1" (run ${runId}) with post\n`,
      stderr: '',
    });
    expect((await wf('signal', '--id', 'inbox-1', '--name', 'post', '--input', '{"a":1}')).code).toBe(0);
    const json = await wf('signal', '--id', 'inbox-1', '--run-id', runId, '--name', 'post', '--args', '["x", 2]', '-o', 'json');
    expect(JSON.parse(json.stdout)).toEqual({ workflowId: 'inbox-1', runId, signal: 'post', signalled: true });

    const worker = env.newWorker({ taskQueue: 'cli', workflows: [CliInbox] });
    expect(await worker.runUntil(handle.result())).toEqual([[], [{ a: 1 }], ['x', 2]]);
    const signals = (await handle.fetchHistory()).filter((e) => e.eventType === EventType.WorkflowExecutionSignaled);
    expect(signals.map((e) => e.attributes['signalName'])).toEqual(['post', 'post', 'post']);

    expect(await wf('signal', '--id', 'inbox-1', '--name', 'post')).toEqual({
      code: 1,
      stdout: '',
      stderr: `durabull: workflow "inbox-1" (run ${runId}) is not running: it has already closed\n`,
    });
    expect(await wf('signal', '--id', 'nobody', '--name', 'post')).toEqual({
      code: 1,
      stdout: '',
      stderr: `durabull: workflow "nobody" not found in namespace "${env.namespace}"\n`,
    });
  });

  it('workflow start --start-signal starts the run with the signal, or signals the running run', async () => {
    const first = await wf('start', '--type', 'CliInbox', '--task-queue', 'cli', '--id', 'inbox-2', '--start-signal', 'post', '--start-signal-args', '["a", 1]', '-o', 'json');
    expect(first.code).toBe(0);
    const { runId } = JSON.parse(first.stdout) as { runId: string };
    const again = await wf('start', '--type', 'CliInbox', '--task-queue', 'cli', '--id', 'inbox-2', '--start-signal', 'post', '-o', 'json');
    expect(JSON.parse(again.stdout)).toEqual({ workflowId: 'inbox-2', runId });
    expect((await wf('signal', '--id', 'inbox-2', '--name', 'post', '--input', '"b"')).code).toBe(0);
    const handle = env.client.getWorkflowHandle('inbox-2');
    const history = await handle.fetchHistory();
    expect(history.slice(0, 3).map((e) => e.eventType)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
    ]);
    const worker = env.newWorker({ taskQueue: 'cli', workflows: [CliInbox] });
    expect(await worker.runUntil(handle.result())).toEqual([['a', 1], [], ['b']]);
    expect(await wf('start', '--type', 'CliInbox', '--task-queue', 'cli', '--id', 'inbox-3', '--start-signal-args', '[]')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--start-signal-args needs --start-signal'),
    });
  });

  it('needs --id and --name, and one of --input and --args', async () => {
    expect(await wf('signal', '--name', 'post')).toMatchObject({ code: 2, stderr: expect.stringContaining('durabull workflow signal needs --workflow-id') });
    expect(await wf('signal', '--id', 'x')).toMatchObject({ code: 2, stderr: expect.stringContaining('durabull workflow signal needs --name') });
    expect(await wf('signal', '--id', 'x', '--name', 'post', '--input', '1', '--args', '[1]')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give either --input or --args, not both'),
    });
    expect(await wf('signal', '--id', 'x', '--name', 'post', '--args', '{}')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--args must be a JSON array, got {}'),
    });
  });
});
