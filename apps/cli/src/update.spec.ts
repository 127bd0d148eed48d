import { ApplicationError, WorkflowDefn, WorkflowRun, WorkflowUpdate, workflow } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { cli } from '../test-support/run-cli';

jest.setTimeout(30_000);

const REDIS = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

@WorkflowDefn({ name: 'CliUpdated' })
class CliUpdated {
  private items = ['apple', 'pear'];

  @WorkflowRun()
  async run(): Promise<void> {
    await workflow.sleep('1h');
  }

  @WorkflowUpdate({ validator: 'validateRemove' })
  async removeItem(item: string): Promise<number> {
    this.items = this.items.filter((i) => i !== item);
    return this.items.length;
  }

  validateRemove(item: string): void {
    if (!this.items.includes(item)) throw new ApplicationError(`no item ${item}`);
  }
}

describe('durabull workflow update', () => {
  let env: TestEnvironment;
  const wf = (...args: string[]) => cli(['workflow', ...args, '--namespace', env.namespace, '--redis', REDIS]);

  beforeEach(async () => {
    env = await TestEnvironment.create({ redis: REDIS });
  });
  afterEach(() => env.teardown());

  it('prints the result; --update-id deduplicates; a rejection exits 1 with the validator message', async () => {
    const worker = env.newWorker({ taskQueue: 'cli', workflows: [CliUpdated] });
    await worker.runUntil(async () => {
      const handle = await env.client.startWorkflow(CliUpdated, { args: [], id: 'updated', taskQueue: 'cli' });
      expect(await wf('update', '--id', 'updated', '--name', 'removeItem', '--input', '"apple"', '--update-id', 'rm-1')).toEqual({
        code: 0,
        stdout: '1\n',
        stderr: '',
      });
      // The same id: the first result, the handler does not run again.
      const json = await wf('update', '--id', 'updated', '--run-id', handle.runId!, '--name', 'removeItem', '--args', '["pear"]', '--update-id', 'rm-1', '-o', 'json');
      expect(JSON.parse(json.stdout)).toEqual({ workflowId: 'updated', runId: handle.runId, update: 'removeItem', result: 1 });
      expect(await wf('update', '--id', 'updated', '--name', 'removeItem', '--input', '"fig"')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'durabull: Workflow update failed: no item fig\n',
      });
    });
    expect(await wf('update', '--id', 'nobody', '--name', 'removeItem')).toEqual({
      code: 1,
      stdout: '',
      stderr: `durabull: workflow "nobody" not found in namespace "${env.namespace}"\n`,
    });
  });
});
