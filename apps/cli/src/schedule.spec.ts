import { WorkflowDefn, WorkflowRun } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { cli } from '../test-support/run-cli';

jest.setTimeout(30_000);

const REDIS = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

@WorkflowDefn({ name: 'CliScheduled' })
class CliScheduled {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    return `hi ${name}`;
  }
}

const HOUR = 3_600_000;

/** The first time after `from` that `--cron '0 2 * * *' --interval 1h/15m` fires. */
function firstAction(from: number): string {
  const hourly = Math.floor((from - 15 * 60_000) / HOUR) * HOUR + HOUR + 15 * 60_000;
  const day = new Date(from);
  let nightly = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 2);
  if (nightly <= from) nightly += 24 * HOUR;
  return new Date(Math.min(hourly, nightly)).toISOString();
}

describe('durabull schedule', () => {
  let env: TestEnvironment;
  const schedule = (...args: string[]) => cli(['schedule', ...args, '--namespace', env.namespace, '--redis', REDIS]);

  beforeEach(async () => {
    env = await TestEnvironment.create({ redis: REDIS });
  });
  afterEach(() => env.teardown());

  it('creates, lists, describes, pauses, unpauses, triggers and deletes a schedule', async () => {
    const createdAfter = Date.now();
    expect(
      await schedule('create', '--schedule-id', 'nightly', '--cron', '0 2 * * *', '--interval', '1h/15m', '--type', 'CliScheduled',
        '--task-queue', 'cli', '--workflow-id', 'report', '--input', '"Ada"', '--overlap-policy', 'ALLOW_ALL'),
    ).toEqual({ code: 0, stdout: 'Schedule nightly created.\n', stderr: '' });

    const listed = await schedule('list', '-o', 'json');
    expect(listed.code).toBe(0);
    const [summary] = JSON.parse(listed.stdout) as Array<{ scheduleId: string; spec: unknown; state: unknown; info: { nextActionTimes: string[] } }>;
    expect(summary).toMatchObject({
      scheduleId: 'nightly',
      spec: { cronExpressions: ['0 2 * * *'], intervals: [{ every: 3_600_000, offset: 900_000 }], timezone: 'UTC' },
      state: { paused: false, note: '' },
    });
    // The first action is the earlier of the next hh:15 and the next 02:00 (UTC), counted from the creation.
    const createdBefore = Date.now();
    expect([firstAction(createdAfter), firstAction(createdBefore)]).toContain(summary!.info.nextActionTimes[0]);
    const table = await schedule('list');
    expect(table.stdout.split('\n')[0]).toMatch(/^SCHEDULE ID\s+WORKFLOW TYPE\s+SPEC\s+PAUSED\s+NEXT RUN\s+RECENT ACTIONS$/);
    expect(table.stdout).toContain('0 2 * * *; every 3600s offset 900s  no');

    expect(await schedule('pause', '--schedule-id', 'nightly', '--note', 'quiet week')).toEqual({ code: 0, stdout: 'Schedule nightly paused.\n', stderr: '' });
    let described = JSON.parse((await schedule('describe', '--schedule-id', 'nightly', '-o', 'json')).stdout);
    expect(described.state).toEqual({ paused: true, note: 'quiet week' });
    expect(described.action).toMatchObject({ workflow: 'CliScheduled', id: 'report', taskQueue: 'cli', args: ['Ada'] });
    expect(described.policies.overlap).toBe('ALLOW_ALL');

    const worker = env.newWorker({ taskQueue: 'cli', workflows: [CliScheduled] });
    await worker.runUntil(async () => {
      expect(await schedule('trigger', '-s', 'nightly')).toEqual({ code: 0, stdout: 'Schedule nightly triggered.\n', stderr: '' });
      described = JSON.parse((await schedule('describe', '--schedule-id', 'nightly', '-o', 'json')).stdout);
      const workflowId = described.info.recentActions[0].action.workflow.workflowId as string;
      expect(workflowId).toMatch(/^report-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(await env.client.getWorkflowHandle(workflowId).result()).toBe('hi Ada');
    });
    expect(await schedule('unpause', '--schedule-id', 'nightly')).toEqual({ code: 0, stdout: 'Schedule nightly unpaused.\n', stderr: '' });
    const text = await schedule('describe', '--schedule-id', 'nightly');
    expect(text.stdout).toMatch(/^ScheduleId\s+nightly$/m);
    expect(text.stdout).toMatch(/^Note\s+Unpaused via durabull CLI$/m);
    expect(text.stdout).toMatch(/^SCHEDULED AT\s+TAKEN AT\s+WORKFLOW ID\s+STATUS$/m);
    expect(text.stdout).toMatch(/report-\S+\s+COMPLETED$/m);

    expect(await schedule('update', '--schedule-id', 'nightly', '--interval', '30m', '--type', 'CliScheduled', '--task-queue', 'cli', '--workflow-id', 'report2')).toEqual({
      code: 0,
      stdout: 'Schedule nightly updated.\n',
      stderr: '',
    });
    described = JSON.parse((await schedule('describe', '--schedule-id', 'nightly', '-o', 'json')).stdout);
    expect(described.spec).toMatchObject({ cronExpressions: [], intervals: [{ every: 1_800_000, offset: 0 }] });
    expect(described.action).toMatchObject({ id: 'report2', args: [] });
    expect(described.policies.overlap).toBe('SKIP');

    expect(await schedule('delete', '--schedule-id', 'nightly', '-o', 'json')).toEqual({ code: 0, stdout: '{\n  "scheduleId": "nightly"\n}\n', stderr: '' });
    expect(await schedule('list')).toEqual({ code: 0, stdout: 'No schedules.\n', stderr: '' });
  });

  it('reports bad specs, unknown and taken ids', async () => {
    const base = ['--type', 'CliScheduled', '--task-queue', 'cli', '--workflow-id', 'w'];
    expect(await schedule('create', '--schedule-id', 'bad', '--cron', '* * *', ...base)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: Invalid cron expression "* * *": expected 5, 6 or 7 fields, got 3\n',
    });
    expect(await schedule('create', '--schedule-id', 'bad', '--cron', '0 * * * *', '--time-zone', 'Mars/Base', ...base)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: Unknown time zone "Mars/Base"\n',
    });
    expect((await schedule('create', '--schedule-id', 'bad', ...base)).stderr).toBe('durabull: durabull schedule create needs --cron or --interval\n');
    expect((await schedule('create', '--schedule-id', 'one', '--interval', '1m', ...base)).code).toBe(0);
    expect(await schedule('create', '--schedule-id', 'one', '--interval', '1m', ...base)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'durabull: schedule "one" already exists\n',
    });
    expect(await schedule('describe', '--schedule-id', 'none')).toEqual({
      code: 1,
      stdout: '',
      stderr: `durabull: schedule "none" not found in namespace "${env.namespace}"\n`,
    });
  });
});
