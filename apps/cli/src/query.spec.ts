import { WorkflowDefn, WorkflowQuery, WorkflowRun, workflow } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { cli } from '../test-support/run-cli';

jest.setTimeout(30_000);

const REDIS = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

@WorkflowDefn({ name: 'CliQueried' })
class CliQueried {
  private items = ['apple', 'pear'];

  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.sleep('1h');
  }

  @WorkflowQuery()
  count(): number {
    return this.items.length;
  }

  @WorkflowQuery()
  item(index: number): string | undefined {
    return this.items[index];
  }
}

describe('durabull workflow query', () => {
  let env: TestEnvironment;
  const wf = (...args: string[]) => cli(['workflow', ...args, '--namespace', env.namespace, '--redis', REDIS]);

  beforeEach(async () => {
    env = await TestEnvironment.create({ redis: REDIS });
  });
  afterEach(() => env.teardown());

  it('prints the answer, as JSON or with --output json; --input and --args pass arguments', async () => {
    const worker = env.newWorker({ taskQueue: 'cli', workflows: [CliQueried] });
    await worker.runUntil(async () => {
      const handle = await env.client.startWorkflow(CliQueried, { args: [], id: 'queried', taskQueue: 'cli' });
      expect(await wf('query', '--id', 'queried', '--name', 'count')).toEqual({ code: 0, stdout: '2\n', stderr: '' });
      expect(await wf('query', '--id', 'queried', '--name', 'item', '--input', '1')).toEqual({ code: 0, stdout: '"pear"\n', stderr: '' });
      const json = await wf('query', '--id', 'queried', '--run-id', handle.runId!, '--name', 'item', '--args', '[0]', '-o', 'json');
      expect(JSON.parse(json.stdout)).toEqual({ workflowId: 'queried', runId: handle.runId, query: 'item', result: 'apple' });

      const unknown = await wf('query', '--id', 'queried', '--name', 'nope');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe("durabull: Query handler for 'nope' expected but not found, known queries: [count item]\n");
    });
    const usage = await wf('query', '--id', 'queried', '--name', 'item', '--input', '1', '--args', '[1]');
    expect(usage).toMatchObject({ code: 2, stderr: 'durabull: give either --input or --args, not both\n' });
  });
});
