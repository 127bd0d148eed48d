import {
  Activity,
  ApplicationError,
  EventType,
  Replayer,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowRun,
  workflow,
} from '@durabull/sdk';
import type { HistoryEvent, WorkflowHistory } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { cli } from '../test-support/run-cli';

jest.setTimeout(30_000);

const REDIS = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

class CliActivities {
  @Activity({ name: 'cli-echo' })
  async echo(text: string): Promise<string> {
    return text;
  }

  @Activity({ name: 'cli-boom' })
  async boom(message: string): Promise<string> {
    throw ApplicationError.nonRetryable(message, 'Boom');
  }
}

@WorkflowDefn({ name: 'CliEcho' })
class CliEcho {
  @WorkflowRun()
  async run(text: string): Promise<string> {
    return workflow.executeActivity(CliActivities.prototype.echo, text, { startToCloseTimeout: '5s' });
  }
}

@WorkflowDefn({ name: 'CliPair' })
class CliPair {
  @WorkflowRun()
  async run(text: string, times: number): Promise<string> {
    return text.repeat(times);
  }
}

@WorkflowDefn({ name: 'CliFail' })
class CliFail {
  @WorkflowRun()
  async run(message: string): Promise<string> {
    return workflow.executeActivity(CliActivities.prototype.boom, message, { startToCloseTimeout: '5s' });
  }
}

@WorkflowDefn({ name: 'CliSleep' })
class CliSleep {
  @WorkflowRun()
  async run(): Promise<string> {
    await workflow.sleep('1h');
    return 'woke';
  }
}

const WORKFLOWS = [CliEcho, CliPair, CliFail, CliSleep];

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('durabull workflow', () => {
  let env: TestEnvironment;
  /** `durabull workflow <args> --namespace <test namespace> --redis <test Redis>` */
  const wf = (...args: string[]) => cli(['workflow', ...args, '--namespace', env.namespace, '--redis', REDIS]);
  const newWorker = () => env.newWorker({ taskQueue: 'cli', workflows: WORKFLOWS, activities: [new CliActivities()] });

  beforeEach(async () => {
    env = await TestEnvironment.create({ redis: REDIS });
  });
  afterEach(() => env.teardown());

  it('start prints the workflow id and run id; describe and result read the run', async () => {
    const started = await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'echo-1', '--input', '"hello"');
    expect(started).toMatchObject({ code: 0, stderr: '' });
    const runId = /^RunId\s+(\S+)$/m.exec(started.stdout)?.[1];
    expect(started.stdout).toMatch(/^WorkflowId\s+echo-1\nRunId\s+[0-9a-f-]{36}\n$/);
    expect(runId).toBe((await env.client.getWorkflowHandle('echo-1').describe()).runId);

    const running = await wf('describe', '--id', 'echo-1');
    expect(running.code).toBe(0);
    expect(running.stdout).toMatch(/^Status\s+RUNNING$/m);
    expect(running.stdout).toMatch(/^Type\s+CliEcho$/m);
    expect(running.stdout).toMatch(/^CloseTime\s+-$/m);

    const worker = newWorker();
    const result = await worker.runUntil(wf('result', '--id', 'echo-1'));
    expect(result).toEqual({ code: 0, stdout: '"hello"\n', stderr: '' });

    const json = await wf('describe', '--id', 'echo-1', '--run-id', runId!, '--output', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      workflowId: 'echo-1',
      runId,
      workflowType: 'CliEcho',
      status: 'COMPLETED',
      taskQueue: 'cli',
      historyLength: 11,
    });
    expect(JSON.parse((await wf('result', '--id', 'echo-1', '-o', 'json')).stdout)).toEqual({
      workflowId: 'echo-1',
      runId,
      status: 'COMPLETED',
      result: 'hello',
    });
  });

  it('start --output json prints { workflowId, runId }', async () => {
    const started = await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'json-start', '--output', 'json');
    expect(started.code).toBe(0);
    const parsed = JSON.parse(started.stdout) as { workflowId: string; runId: string };
    expect(parsed).toEqual({ workflowId: 'json-start', runId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await env.client.getWorkflowHandle('json-start', parsed.runId).describe()).toMatchObject({ workflowType: 'CliSleep' });
  });

  it('execute waits and prints the result; --args passes several arguments; --task-timeout is recorded', async () => {
    const worker = newWorker();
    await worker.runUntil(async () => {
      const executed = await wf('execute', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'exec-1', '--input', '{"a":[1,2]}');
      expect(executed.code).toBe(0);
      expect(executed.stderr).toBe('');
      expect(executed.stdout).toMatch(/^WorkflowId\s+exec-1\nRunId\s+\S+\nResult\s+\{"a":\[1,2\]\}\n$/);

      const pair = await wf('execute', '--type', 'CliPair', '--task-queue', 'cli', '--id', 'exec-2', '--args', '["ab", 3]', '--task-timeout', '7s', '-o', 'json');
      expect(pair.code).toBe(0);
      expect(JSON.parse(pair.stdout)).toEqual({ workflowId: 'exec-2', runId: expect.any(String), status: 'COMPLETED', result: 'ababab' });
      const [started] = await env.client.getWorkflowHandle('exec-2').fetchHistory();
      expect(started!.attributes).toMatchObject({ workflowTaskTimeout: 7000 });
    });
  });

  it('execute exits 1 when the workflow fails, printing the cause chain on one line', async () => {
    const worker = newWorker();
    const failed = await worker.runUntil(wf('execute', '--type', 'CliFail', '--task-queue', 'cli', '--id', 'fail-1', '--input', '"kaboom"'));
    expect(failed.code).toBe(1);
    const { runId } = await env.client.getWorkflowHandle('fail-1').describe();
    expect(failed.stderr).toBe(
      `durabull: workflow "fail-1" (run ${runId}) failed: ActivityError: Activity task failed; caused by ApplicationError(Boom): kaboom\n`,
    );
    // result reports the same, with the same exit code.
    expect(await wf('result', '--id', 'fail-1')).toEqual({ code: 1, stdout: '', stderr: failed.stderr });
    // With -o json the failure is printed as JSON on stdout (and still exits 1).
    const json = await wf('result', '-w', 'fail-1', '-o', 'json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      workflowId: 'fail-1',
      runId,
      status: 'FAILED',
      failure: {
        name: 'ActivityError',
        message: 'Activity task failed',
        cause: { name: 'ApplicationError', message: 'kaboom', type: 'Boom' },
      },
    });
    const executed = await newWorker().runUntil(wf('execute', '--type', 'CliFail', '-t', 'cli', '-w', 'fail-2', '-i', '"again"', '-o', 'jsonl'));
    expect(executed.code).toBe(1);
    expect(executed.stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(executed.stdout)).toMatchObject({ workflowId: 'fail-2', status: 'FAILED', failure: { cause: { message: 'again' } } });
  });

  it("takes Temporal's flag names and short forms, global options anywhere, repeated --input, a generated id", async () => {
    const worker = newWorker();
    await worker.runUntil(async () => {
      // Global options before the command, -i once per argument, no workflow id: a UUID is made.
      const pair = await cli(['-n', env.namespace, '--redis', REDIS, '-o', 'json', 'workflow', 'execute', '--type', 'CliPair', '-t', 'cli', '-i', '"ab"', '-i', '3']);
      expect(pair).toMatchObject({ code: 0, stderr: '' });
      const done = JSON.parse(pair.stdout) as { workflowId: string; runId: string };
      expect(done).toEqual({ workflowId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/), runId: expect.any(String), status: 'COMPLETED', result: 'ababab' });
      // --input-file, once per argument.
      const dir = mkdtempSync(path.join(tmpdir(), 'durabull-cli-'));
      try {
        writeFileSync(path.join(dir, 'text.json'), '"xy"');
        writeFileSync(path.join(dir, 'times.json'), '2\n');
        const fromFiles = await wf('execute', '--type', 'CliPair', '--task-queue', 'cli', '--workflow-id', 'files', '--input-file', path.join(dir, 'text.json'), '--input-file', path.join(dir, 'times.json'));
        expect(fromFiles.stdout).toMatch(/^Result\s+"xyxy"$/m);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // Global options between the command's own; -r picks the run.
      const described = await cli(['workflow', '-n', env.namespace, 'describe', '-w', done.workflowId, '--redis', REDIS, '-r', done.runId, '-o', 'json']);
      expect(JSON.parse(described.stdout)).toMatchObject({ workflowId: done.workflowId, runId: done.runId, status: 'COMPLETED', result: 'ababab' });
    });
    // -o jsonl: one run per line.
    const lines = (await wf('list', '-o', 'jsonl')).stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { workflowId: string });
    expect(lines.map((run) => run.workflowId).sort()).toEqual(['files', expect.any(String)].sort());
    expect(lines).toHaveLength(2);
  });

  it('read-only commands never create a namespace', async () => {
    const fresh = `ro-${env.namespace}`;
    const missing = `durabull: namespace "${fresh}" does not exist at ${REDIS} (no client or worker has opened it; workflow start creates it)\n`;
    for (const argv of [
      ['workflow', 'list'],
      ['workflow', 'count'],
      ['workflow', 'describe', '-w', 'x'],
      ['workflow', 'show', '-w', 'x'],
      ['workflow', 'result', '-w', 'x'],
      ['workflow', 'query', '-w', 'x', '--name', 'q'],
      ['workflow', 'signal', '-w', 'x', '--name', 's'],
      ['workflow', 'cancel', '-w', 'x'],
      ['task-queue', 'describe', '-t', 'cli'],
    ]) {
      expect(await cli([...argv, '-n', fresh, '--redis', REDIS])).toEqual({ code: 1, stdout: '', stderr: missing });
    }
    const redis = new Redis(REDIS);
    try {
      expect(await redis.keys(`*${fresh}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('task-queue describe lists the workers that poll a task queue', async () => {
    expect(await cli(['task-queue', 'describe', '-t', 'cli', '-n', env.namespace, '--redis', REDIS])).toEqual({
      code: 0,
      stdout: 'No worker has polled task queue "cli" in the last 5 minutes.\n',
      stderr: '',
    });
    const worker = newWorker();
    const tq = (...args: string[]) => cli(['task-queue', 'describe', '--task-queue', 'cli', '-n', env.namespace, '--redis', REDIS, ...args]);
    await worker.runUntil(async () => {
      await waitFor(async () => (await env.client.describeTaskQueue('cli')).length === 1, 'the worker to record itself');
      const table = await tq();
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^WORKER ID\s+IDENTITY\s+STATE\s+LAST SEEN\n[0-9a-f]{16}\s+\S+\s+live\s+\d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
      const json = JSON.parse((await tq('-o', 'json')).stdout) as { taskQueue: string; pollers: Array<Record<string, unknown>> };
      expect(json).toEqual({
        taskQueue: 'cli',
        pollers: [
          {
            workerId: worker.workerId,
            identity: expect.stringContaining(`${process.pid}@`),
            lastSeen: expect.any(String),
            state: 'live',
            activityTypes: ['cli-echo', 'cli-boom'],
          },
        ],
      });
    });
    // A worker that shut down is shown as stopped.
    expect(JSON.parse((await tq('-o', 'json')).stdout)).toMatchObject({ pollers: [{ workerId: worker.workerId, state: 'stopped' }] });
    expect((await tq('-t', 'other')).stderr).toBe('durabull: --task-queue takes one value, given twice (--task-queue: "cli" and "other")\n');
  });

  it('cancel and terminate end running workflows; result then says how they ended', async () => {
    const worker = newWorker();
    await worker.runUntil(async () => {
      for (const id of ['sleep-c', 'sleep-t']) {
        expect((await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', id)).code).toBe(0);
      }
      const timerStarted = async (id: string) =>
        (await env.client.getWorkflowHandle(id).fetchHistory()).some((e) => e.eventType === EventType.TimerStarted);
      await waitFor(async () => (await timerStarted('sleep-c')) && (await timerStarted('sleep-t')), 'both timers');

      const cancelled = await wf('cancel', '--id', 'sleep-c', '--reason', 'no longer needed');
      const cRun = (await env.client.getWorkflowHandle('sleep-c').describe()).runId;
      expect(cancelled).toEqual({ code: 0, stdout: `Requested cancellation of workflow "sleep-c" (run ${cRun})\n`, stderr: '' });
      const cResult = await wf('result', '--id', 'sleep-c');
      expect(cResult.code).toBe(1);
      expect(cResult.stderr).toBe(`durabull: workflow "sleep-c" (run ${cRun}) was cancelled: CancelledError: Workflow cancelled\n`);

      const terminated = await wf('terminate', '--id', 'sleep-t', '--reason', 'stop it', '-o', 'json');
      const tRun = (await env.client.getWorkflowHandle('sleep-t').describe()).runId;
      expect(terminated.code).toBe(0);
      expect(JSON.parse(terminated.stdout)).toEqual({ workflowId: 'sleep-t', runId: tRun, terminated: true });
      expect(await env.client.getWorkflowHandle('sleep-t').describe()).toMatchObject({ status: WorkflowExecutionStatus.TERMINATED });
      expect((await wf('result', '--id', 'sleep-t')).stderr).toBe(
        `durabull: workflow "sleep-t" (run ${tRun}) was terminated: TerminatedError: stop it\n`,
      );

      expect(await wf('terminate', '--id', 'sleep-t')).toEqual({
        code: 1,
        stdout: '',
        stderr: `durabull: workflow "sleep-t" (run ${tRun}) is not running: it has already closed\n`,
      });
      await waitFor(async () => (await env.client.getWorkflowHandle('sleep-c').describe()).status !== 'RUNNING', 'the cancelled run to close');
      expect(await env.client.getWorkflowHandle('sleep-c').describe()).toMatchObject({ status: WorkflowExecutionStatus.CANCELED });
    });
  });

  it('delete removes a closed and a running run at once; their ids can be started again', async () => {
    const ns = env.namespace;
    const worker = newWorker();
    await worker.runUntil(async () => {
      expect((await wf('execute', '--type', 'CliPair', '--task-queue', 'cli', '--id', 'del-closed', '--args', '["ab", 2]')).code).toBe(0);
      const closedRun = (await env.client.getWorkflowHandle('del-closed').describe()).runId;
      expect(await wf('delete', '--id', 'del-closed')).toEqual({ code: 0, stdout: `Deleted workflow "del-closed" (run ${closedRun})\n`, stderr: '' });
      expect(await wf('describe', '--id', 'del-closed')).toEqual({ code: 1, stdout: '', stderr: `durabull: workflow "del-closed" not found in namespace "${ns}"\n` });

      expect((await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'del-running')).code).toBe(0);
      const runId = (await env.client.getWorkflowHandle('del-running').describe()).runId;
      const deleted = await wf('delete', '--id', 'del-running', '--run-id', runId, '-o', 'json');
      expect(deleted).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(deleted.stdout)).toEqual({ workflowId: 'del-running', runId, deleted: true });
      expect(await wf('delete', '--id', 'del-running', '--run-id', runId)).toEqual({
        code: 1,
        stdout: '',
        stderr: `durabull: workflow "del-running" run "${runId}" not found in namespace "${ns}"\n`,
      });
      expect(await env.client.countWorkflows()).toBe(0);

      expect((await wf('start', '--type', 'CliPair', '--task-queue', 'cli', '--id', 'del-closed', '--args', '["ab", 2]')).code).toBe(0);
      expect((await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'del-running')).code).toBe(0);
      expect(await env.client.getWorkflowHandle('del-closed').result()).toBe('abab');
    });
  });

  it('start takes --id-reuse-policy, --id-conflict-policy and --memo; describe shows memo, outcome and pending activities', async () => {
    const first = await wf('start', '--type', 'CliFail', '--task-queue', 'cli', '--id', 'pol', '--input', '"nope"', '--memo', '{"owner":"ana"}');
    expect(first.code).toBe(0);
    const firstRun = (await env.client.getWorkflowHandle('pol').describe()).runId;
    const shared = await wf('start', '--type', 'CliFail', '--task-queue', 'cli', '--id', 'pol', '--id-conflict-policy', 'USE_EXISTING', '-o', 'json');
    expect(JSON.parse(shared.stdout)).toEqual({ workflowId: 'pol', runId: firstRun });

    const worker = newWorker();
    await worker.runUntil(env.client.getWorkflowHandle('pol').result().catch(() => undefined));
    const closed = await wf('describe', '--id', 'pol');
    expect(closed.stdout).toMatch(/^Memo\s+\{"owner":"ana"\}$/m);
    expect(closed.stdout).toMatch(/^Failure\s+ActivityError: Activity task failed; caused by ApplicationError\(Boom\): nope$/m);
    expect(JSON.parse((await wf('describe', '--id', 'pol', '-o', 'json')).stdout)).toMatchObject({
      memo: { owner: 'ana' },
      failure: { name: 'ActivityError', message: 'Activity task failed', cause: { name: 'ApplicationError', message: 'nope', type: 'Boom' } },
      pendingActivities: [],
      pendingChildren: [],
    });
    expect(await wf('start', '--type', 'CliFail', '--task-queue', 'cli', '--id', 'pol', '--id-reuse-policy', 'REJECT_DUPLICATE')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `durabull: workflow "pol" cannot start again in namespace "${env.namespace}": Workflow execution already finished. ` +
        `WorkflowId: pol, RunId: ${firstRun}. Workflow Id reuse policy: reject duplicate workflow Id.\n`,
    });
    expect(await wf('start', '--type', 'CliFail', '--task-queue', 'cli', '--id', 'pol', '--id-reuse-policy', 'NOPE')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: Invalid idReusePolicy: "NOPE" (one of ALLOW_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY, REJECT_DUPLICATE)\n',
    });
    expect((await wf('start', '--type', 'CliFail', '--task-queue', 'cli', '--id', 'pol', '--memo', '[1]')).stderr).toBe(
      'durabull: --memo must be a JSON object, got [1]\n',
    );

    // A running run whose activity waits in its queue (the worker runs workflows only): the table.
    await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'pending', '--input', '"x"');
    const activityWorker = env.newWorker({ taskQueue: 'cli', workflows: WORKFLOWS, activities: [] });
    await activityWorker.runUntil(waitFor(async () => (await env.client.getWorkflowHandle('pending').describe()).pendingActivities.length === 1, 'the activity to be scheduled'));
    const pending = await wf('describe', '--id', 'pending');
    expect(pending.stdout).toContain('\n\nPending activities:\nACTIVITY ID  TYPE      STATE      ATTEMPT  LAST HEARTBEAT  NEXT ATTEMPT  LAST FAILURE\n1            cli-echo  SCHEDULED  1        -               -             -\n');
  });

  it('start takes --start-delay and --cron (recorded in WorkflowExecutionStarted); a bad cron schedule is named', async () => {
    expect((await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'later', '--input', '"x"', '--start-delay', '1h')).code).toBe(0);
    expect((await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'hourly', '--input', '"x"', '--cron', '@hourly')).code).toBe(0);
    const [later] = await env.client.getWorkflowHandle('later').fetchHistory();
    expect(later!.attributes).toMatchObject({ firstWorkflowTaskBackoff: 3_600_000 });
    const [hourly] = await env.client.getWorkflowHandle('hourly').fetchHistory();
    expect(hourly!.attributes).toMatchObject({ cronSchedule: '@hourly' });
    expect(await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'bad-cron', '--cron', '* * *')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: Invalid cronSchedule: "* * *" (5 fields (minute hour day-of-month month day-of-week), got 3)\n',
    });
  });

  it('list filters by status, type and task queue and pages; count counts the same', async () => {
    // Five runs, started one after the other so their order (newest first) is known.
    const ids: string[] = [];
    for (const [i, type, queue] of [[1, 'CliSleep', 'qa'], [2, 'CliSleep', 'qa'], [3, 'CliEcho', 'qa'], [4, 'CliSleep', 'qb'], [5, 'CliEcho', 'qb']] as const) {
      const id = `list-${i}`;
      expect((await wf('start', '--type', type, '--task-queue', queue, '--id', id)).code).toBe(0);
      ids.push(id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await env.client.getWorkflowHandle('list-2').terminate('done');

    const table = await wf('list');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WORKFLOW ID\s+RUN ID\s+TYPE\s+STATUS\s+TASK QUEUE\s+START TIME\s+CLOSE TIME$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['list-5', 'list-4', 'list-3', 'list-2', 'list-1']);
    expect(lines[4]).toMatch(/^list-2\s+\S+\s+CliSleep\s+TERMINATED\s+qa\s+\d{4}-\d\d-\d\dT\S+Z\s+\d{4}-\d\d-\d\dT\S+Z$/);
    expect(lines[1]).toMatch(/^list-5\s+\S+\s+CliEcho\s+RUNNING\s+qb\s+\S+Z\s+-$/);

    const ofJson = async (...args: string[]) => {
      const outcome = await wf('list', ...args, '--output', 'json');
      expect(outcome.code).toBe(0);
      return JSON.parse(outcome.stdout) as { executions: Array<{ workflowId: string; status: string }>; nextPageToken: string | null };
    };
    const listed = async (...args: string[]) => (await ofJson(...args)).executions.map((e) => e.workflowId);
    expect(await listed('--type', 'CliEcho')).toEqual(['list-5', 'list-3']);
    expect(await listed('--task-queue', 'qa')).toEqual(['list-3', 'list-2', 'list-1']);
    expect(await listed('--status', 'TERMINATED')).toEqual(['list-2']);
    expect(await listed('--status', 'running', '--type', 'CliSleep', '--task-queue', 'qa')).toEqual(['list-1']);

    // Paging: a token per page until the last.
    const first = await ofJson('--page-size', '2');
    expect(first.executions.map((e) => e.workflowId)).toEqual(['list-5', 'list-4']);
    expect(first.nextPageToken).toEqual(expect.any(String));
    const second = await ofJson('--page-size', '2', '--page-token', first.nextPageToken!);
    expect(second.executions.map((e) => e.workflowId)).toEqual(['list-3', 'list-2']);
    const third = await ofJson('--page-size', '2', '--page-token', second.nextPageToken!);
    expect(third).toEqual({ executions: [expect.objectContaining({ workflowId: 'list-1' })], nextPageToken: null });
    expect(await listed('--page-size', '2', '--all')).toEqual(['list-5', 'list-4', 'list-3', 'list-2', 'list-1']);

    // The table prints the token to pass for the next page.
    const paged = await wf('list', '--page-size', '2');
    expect(paged.stdout.trimEnd().split('\n').at(-1)).toBe(`Next page: --page-token ${first.nextPageToken}`);
    expect((await wf('list', '--status', 'FAILED')).stdout).toBe('No workflow runs.\n');

    expect(await wf('count')).toEqual({ code: 0, stdout: '5\n', stderr: '' });
    // DURABULL_NAMESPACE is the default of --namespace, as it is of the client's namespace option.
    expect(await cli(['workflow', 'count', '--redis', REDIS], { env: { DURABULL_NAMESPACE: env.namespace } })).toEqual({ code: 0, stdout: '5\n', stderr: '' });
    expect((await wf('count', '--type', 'CliSleep')).stdout).toBe('3\n');
    expect((await wf('count', '--status', 'RUNNING', '--task-queue', 'qb')).stdout).toBe('2\n');
    expect(JSON.parse((await wf('count', '--status', 'TERMINATED', '-o', 'json')).stdout)).toEqual({ count: 1 });

    expect(await wf('list', '--status', 'DONE')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: --status must be one of RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW, got "DONE"\n',
    });
    expect((await wf('list', '--page-size', '0')).stderr).toBe('durabull: --page-size must be an integer from 1 to 10000, got "0"\n');
  });

  it('show prints the history table; --output json is a history file the Replayer accepts', async () => {
    const worker = newWorker();
    expect((await worker.runUntil(wf('execute', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'show-1', '--input', '"replay me"'))).code).toBe(0);
    const events = await env.client.getWorkflowHandle('show-1').fetchHistory();

    const table = await wf('show', '--id', 'show-1');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TIME\s+TYPE\s+DETAILS$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[2])).toEqual(events.map((e) => e.eventType));
    expect(table.stdout).toContain('type=CliEcho id=show-1 taskQueue=cli input=["replay me"]');
    expect(table.stdout).toContain('result="replay me"');

    const json = await wf('show', '--id', 'show-1', '--output', 'json');
    expect(json.code).toBe(0);
    const history = JSON.parse(json.stdout) as WorkflowHistory;
    const { runId } = await env.client.getWorkflowHandle('show-1').describe();
    expect(history).toEqual({ workflowId: 'show-1', runId, events });
    await expect(new Replayer({ workflows: [CliEcho] }).replayWorkflow(JSON.parse(json.stdout))).resolves.toBeUndefined();
    await expect(new Replayer({ workflows: [CliEcho] }).replayWorkflow(json.stdout)).resolves.toBeUndefined();
  });

  it('show --follow prints events as they are appended and ends at the close event', async () => {
    expect((await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'follow-1', '--input', '"streamed"')).code).toBe(0);
    let seen = '';
    const following = cli(['workflow', 'show', '--id', 'follow-1', '--follow', '--namespace', env.namespace, '--redis', REDIS], {
      onStdout: (all) => (seen = all),
    });
    // No worker yet: follow prints the two events there are, then waits.
    await waitFor(() => seen.includes('WorkflowTaskScheduled'), 'the events before the worker');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.trimEnd().split('\n')).toHaveLength(3);
    expect(seen).not.toContain('WorkflowTaskStarted');

    const worker = newWorker();
    const followed = await worker.runUntil(following);
    expect(followed.code).toBe(0);
    expect(followed.stderr).toBe('');
    const lines = followed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TIME\s+TYPE\s+DETAILS$/);
    const events = await env.client.getWorkflowHandle('follow-1').fetchHistory();
    expect(lines.slice(1).map((line) => line.split(/\s+/)[2])).toEqual(events.map((e) => e.eventType));
    expect(lines.at(-1)).toMatch(/^11\s+\S+\s+WorkflowExecutionCompleted\s+result="streamed"$/);
    expect(followed.stdout).toContain('ActivityTaskCompleted');
  });

  it('show --follow --output json prints one event per line; on a closed run it returns at once', async () => {
    const worker = newWorker();
    expect((await worker.runUntil(wf('execute', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'follow-2', '--input', '"x"'))).code).toBe(0);
    const followed = await wf('show', '--id', 'follow-2', '--follow', '--output', 'json');
    expect(followed.code).toBe(0);
    const events = followed.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as HistoryEvent);
    expect(events).toEqual(await env.client.getWorkflowHandle('follow-2').fetchHistory());
  });

  it('show --follow stops when interrupted (Ctrl-C)', async () => {
    expect((await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'follow-3')).code).toBe(0);
    const controller = new AbortController();
    let seen = '';
    const following = cli(['workflow', 'show', '--id', 'follow-3', '-f', '--namespace', env.namespace, '--redis', REDIS], {
      signal: controller.signal,
      onStdout: (all) => (seen = all),
    });
    await waitFor(() => seen.includes('WorkflowTaskScheduled'), 'the first events');
    const before = Date.now();
    controller.abort();
    expect(await following).toMatchObject({ code: 0, stderr: '' });
    expect(Date.now() - before).toBeLessThan(1000);
  });

  it('reports errors as one line with an exit code', async () => {
    const ns = env.namespace;
    expect(await wf('describe', '--id', 'nobody')).toEqual({
      code: 1,
      stdout: '',
      stderr: `durabull: workflow "nobody" not found in namespace "${ns}"\n`,
    });
    for (const command of ['show', 'result', 'cancel', 'terminate', 'delete']) {
      expect(await wf(command, '--id', 'nobody')).toEqual({ code: 1, stdout: '', stderr: `durabull: workflow "nobody" not found in namespace "${ns}"\n` });
    }
    await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'someone');
    expect((await wf('show', '--id', 'someone', '--run-id', 'no-such-run')).stderr).toBe(
      `durabull: workflow "someone" run "no-such-run" not found in namespace "${ns}"\n`,
    );
    const someone = (await env.client.getWorkflowHandle('someone').describe()).runId;
    expect(await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'someone')).toEqual({
      code: 1,
      stdout: '',
      stderr: `durabull: workflow "someone" (run ${someone}) is already running in namespace "${ns}" (type CliSleep)\n`,
    });

    const badJson = await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'j', '--input', '{nope');
    expect(badJson.code).toBe(2);
    expect(badJson.stdout).toBe('');
    expect(badJson.stderr).toMatch(/^durabull: --input is not valid JSON: [^\n]+\n$/);
    expect(badJson.stderr).toContain(`${(() => { try { JSON.parse('{nope'); } catch (e) { return (e as Error).message; } return ''; })()}`);
    expect((await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'j', '--args', '{"not":"an array"}')).stderr).toBe(
      'durabull: --args must be a JSON array, got {"not":"an array"}\n',
    );
    expect((await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'j', '--input', '1', '--args', '[]')).stderr).toBe(
      'durabull: give either --input or --args, not both\n',
    );
    expect(await wf('start', '--type', 'CliEcho', '--id', 'j')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: durabull workflow start needs --task-queue (see durabull workflow start --help)\n',
    });
    expect(await wf('start', '--type', 'CliEcho', '--task-queue', 'has space', '--id', 'j')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^durabull: Invalid taskQueue: "has space" \([^\n]*\)\n$/),
    });
    expect(await wf('start', '--type', 'CliEcho', '--task-queue', 'cli', '--id', 'j', '--task-timeout', 'soon')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^durabull: Invalid duration for taskTimeout: "soon" [^\n]*\n$/),
    });
    // Usage errors come from commander: unknown options, missing values, bad choices.
    expect(await wf('describe', '--id', 'x', '--bogus')).toEqual({ code: 2, stdout: '', stderr: "durabull: unknown option '--bogus'\n" });
    expect(await wf('describe', '--id')).toEqual({ code: 2, stdout: '', stderr: "durabull: option '--id <workflowId>' argument missing\n" });
    expect(await cli(['workflow', 'describe', '--namespace', ns, '--redis', REDIS, '-w'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "durabull: option '-w, --workflow-id <workflowId>' argument missing\n",
    });
    expect((await wf('describe', '--id', 'x', '--output', 'yaml')).stderr).toBe(
      "durabull: option '-o, --output <format>' argument 'yaml' is invalid. Allowed choices are table, json, jsonl.\n",
    );
    // A flag that takes one value, given twice (under either of its names), is refused rather than the last one kept.
    expect(await wf('describe', '-w', 'a', '-w', 'b')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: --workflow-id takes one value, given twice (--workflow-id: "a" and "b")\n',
    });
    expect((await wf('describe', '--id', 'a', '--workflow-id', 'b')).stderr).toBe(
      'durabull: --workflow-id takes one value, given twice (--id and --workflow-id: "a" and "b")\n',
    );
    expect((await wf('list', '-n', 'other')).stderr).toBe('durabull: --namespace takes one value, given twice (--namespace: "other" and "' + ns + '")\n');
    const missingFile = await wf('start', '--type', 'CliEcho', '-t', 'cli', '--input-file', '/nonexistent/input.json');
    expect(missingFile).toEqual({ code: 2, stdout: '', stderr: 'durabull: --input-file "/nonexistent/input.json" cannot be read: ENOENT\n' });
    expect((await wf('start', '--type', 'CliEcho', '-t', 'cli', '-i', '1', '--input-file', '/nonexistent/input.json')).stderr).toBe(
      'durabull: give either --input or --input-file, not both\n',
    );
  });
});
