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
      stderr: 'durabull: --status must be one of RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, got "DONE"\n',
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
    for (const command of ['show', 'result', 'cancel', 'terminate']) {
      expect(await wf(command, '--id', 'nobody')).toEqual({ code: 1, stdout: '', stderr: `durabull: workflow "nobody" not found in namespace "${ns}"\n` });
    }
    await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'someone');
    expect((await wf('show', '--id', 'someone', '--run-id', 'no-such-run')).stderr).toBe(
      `durabull: workflow "someone" run "no-such-run" not found in namespace "${ns}"\n`,
    );
    expect(await wf('start', '--type', 'CliSleep', '--task-queue', 'cli', '--id', 'someone')).toEqual({
      code: 1,
      stdout: '',
      stderr: `durabull: workflow "someone" is already running in namespace "${ns}" (type CliSleep)\n`,
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
    expect(await wf('describe', '--id', 'x', '--bogus')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: unknown option --bogus for "workflow describe" (see durabull workflow describe --help)\n',
    });
    expect(await wf('describe', '--id')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^durabull: --id needs a value[^\n]*\n$/) });
    expect(await cli(['workflow', 'describe', '--namespace', ns, '--redis', REDIS, '--id'])).toMatchObject({
      code: 2,
      stderr: 'durabull: --id needs a value\n',
    });
    expect((await wf('describe', '--id', 'x', '--output', 'yaml')).stderr).toBe('durabull: --output must be table or json, got "yaml"\n');
  });
});
