import { Activity, ApplicationError, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';
import type { Logger } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

type Entry = { level: string; message: string; attributes: Record<string, unknown> };

function recordingLogger(): Logger & { entries: Entry[] } {
  const entries: Entry[] = [];
  const log = (level: string) => (message: string, attributes: Record<string, unknown> = {}) => entries.push({ level, message, attributes });
  return { entries, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

class Chores {
  @Activity({ name: 'chore' })
  async chore(): Promise<string> {
    activity.logger.info('doing the chore', { step: 1 });
    if (activity.info().attempt === 1) throw new ApplicationError('not this time');
    return 'done';
  }
}

let buggy = true;
@WorkflowDefn({ name: 'Logged' })
class LoggedWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    workflow.logger.info('workflow says hello', { greeting: true });
    if (buggy) {
      buggy = false;
      throw new TypeError('a bug');
    }
    return workflow.executeActivity(Chores.prototype.chore, { startToCloseTimeout: '5s', retryPolicy: { initialInterval: '10ms' } });
  }
}

describe('logs', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
    buggy = true;
  });
  afterEach(() => env.teardown());

  it('carry the workflow and activity ids, from workflow.logger, activity.logger and the worker', async () => {
    const logger = recordingLogger();
    const worker = env.newWorker({ taskQueue: 'q', workflows: [LoggedWorkflow], activities: [new Chores()], logger });
    const handle = await env.client.startWorkflow(LoggedWorkflow, { id: 'logged-1', taskQueue: 'q' });
    expect(await worker.runUntil(handle.result())).toBe('done');
    const runId = handle.runId!;
    const workflowIds = { workflowId: 'logged-1', runId, workflowType: 'Logged' };
    const activityIds = (attempt: number) => ({ ...workflowIds, activityId: '1', activityType: 'chore', attempt });
    const about = (message: string) => logger.entries.filter((e) => e.message === message);

    // workflow.logger is silent on replay: once per activation that ran new code (two tasks).
    expect(about('workflow says hello')).toEqual([
      { level: 'info', message: 'workflow says hello', attributes: { ...workflowIds, greeting: true } },
      { level: 'info', message: 'workflow says hello', attributes: { ...workflowIds, greeting: true } },
    ]);
    expect(about('Workflow task failed')).toEqual([
      {
        level: 'warn',
        message: 'Workflow task failed',
        attributes: { ...workflowIds, attempt: 1, cause: 'WORKFLOW_WORKER_UNHANDLED_FAILURE', error: 'a bug' },
      },
    ]);
    expect(about('doing the chore')).toEqual([
      { level: 'info', message: 'doing the chore', attributes: { ...activityIds(1), step: 1 } },
      { level: 'info', message: 'doing the chore', attributes: { ...activityIds(2), step: 1 } },
    ]);
    expect(about('Activity attempt failed')).toEqual([
      { level: 'warn', message: 'Activity attempt failed', attributes: { ...activityIds(1), kind: 'application', error: 'not this time' } },
    ]);
  });
});
