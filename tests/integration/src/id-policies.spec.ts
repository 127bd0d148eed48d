import {
  Activity,
  ApplicationError,
  EventType,
  TerminatedError,
  WorkflowAlreadyStartedError,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowFailureError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowRun,
  workflow,
} from '@durabull/sdk';
import type { WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Echoes {
  @Activity({ name: 'ids-echo' })
  async echo(text: string): Promise<string> {
    return text;
  }
}

/** Ends as its argument says, so a closed run can be left in every status. */
@WorkflowDefn({ name: 'IdsEnding' })
class Ending {
  @WorkflowRun()
  async run(how: 'complete' | 'fail' | 'wait'): Promise<string> {
    if (how === 'fail') throw ApplicationError.nonRetryable('it failed', 'Planned');
    if (how === 'wait') await workflow.sleep('1h');
    return workflow.executeActivity(Echoes.prototype.echo, `done ${how}`, { startToCloseTimeout: '5s' });
  }
}

const { ALLOW_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY, REJECT_DUPLICATE } = WorkflowIdReusePolicy;
const { FAIL, USE_EXISTING, TERMINATE_EXISTING } = WorkflowIdConflictPolicy;

const running = (id: string, runId: string) => `Workflow execution is already running. WorkflowId: ${id}, RunId: ${runId}.`;
const finishedSuccessfully = (id: string, runId: string) =>
  `Workflow execution already finished successfully. WorkflowId: ${id}, RunId: ${runId}. ` +
  'Workflow Id reuse policy: allow duplicate workflow Id if last run failed.';
const finished = (id: string, runId: string) =>
  `Workflow execution already finished. WorkflowId: ${id}, RunId: ${runId}. Workflow Id reuse policy: reject duplicate workflow Id.`;

describe('workflow id reuse and conflict policies (TEMPORAL-SEMANTICS §19)', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
  });
  afterEach(() => env.teardown());

  const start = (id: string, how: 'complete' | 'fail' | 'wait', policies: { idReusePolicy?: WorkflowIdReusePolicy; idConflictPolicy?: WorkflowIdConflictPolicy } = {}) =>
    env.client.startWorkflow(Ending, how, { id, taskQueue: 'ids', ...policies });

  /** The refusal a start gets: its class, message and fields. */
  async function refusal(promise: Promise<unknown>): Promise<Pick<WorkflowAlreadyStartedError, 'message' | 'workflowId' | 'runId' | 'workflowType'>> {
    const error = await promise.then(
      () => {
        throw new Error('the start was not refused');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowAlreadyStartedError);
    const { message, workflowId, runId, workflowType } = error as WorkflowAlreadyStartedError;
    return { message, workflowId, runId, workflowType };
  }

  /** Runs a workflow to its close: COMPLETED, FAILED or TERMINATED. */
  async function closedRun(id: string, status: WorkflowExecutionStatus): Promise<WorkflowHandle> {
    const handle = await start(id, status === WorkflowExecutionStatus.FAILED ? 'fail' : status === WorkflowExecutionStatus.COMPLETED ? 'complete' : 'wait');
    if (status === WorkflowExecutionStatus.TERMINATED) await handle.terminate('stop');
    if (status === WorkflowExecutionStatus.COMPLETED || status === WorkflowExecutionStatus.FAILED) {
      const worker = env.newWorker({ taskQueue: 'ids', workflows: [Ending], activities: [new Echoes()] });
      await worker.runUntil(handle.result().catch(() => undefined));
    }
    expect((await handle.describe()).status).toBe(status);
    return handle;
  }

  describe('a running run', () => {
    it.each([
      ['the default policies', {}],
      ['conflict FAIL', { idConflictPolicy: FAIL }],
      ['REJECT_DUPLICATE (which says nothing of running runs: FAIL applies)', { idReusePolicy: REJECT_DUPLICATE }],
      ['ALLOW_DUPLICATE_FAILED_ONLY', { idReusePolicy: ALLOW_DUPLICATE_FAILED_ONLY }],
    ])('refuses a second start under %s: "already running", naming the running run', async (_name, policies) => {
      const first = await start('dup', 'wait');
      expect(await refusal(start('dup', 'wait', policies))).toEqual({
        message: running('dup', first.runId!),
        workflowId: 'dup',
        runId: first.runId,
        workflowType: 'IdsEnding',
      });
      expect(await env.client.countWorkflows()).toBe(1);
    });

    it('USE_EXISTING returns the running run\'s handle and starts nothing', async () => {
      const first = await start('shared', 'wait');
      const historyBefore = await first.fetchHistory();
      const second = await start('shared', 'complete', { idConflictPolicy: USE_EXISTING });
      expect(second.runId).toBe(first.runId);
      expect(await env.client.countWorkflows()).toBe(1);
      expect(await first.fetchHistory()).toEqual(historyBefore);
    });

    it('USE_EXISTING in executeWorkflow waits for the running run\'s outcome', async () => {
      const first = await start('exec-shared', 'wait');
      const executed = env.client.executeWorkflow(Ending, 'complete', { id: 'exec-shared', taskQueue: 'ids', idConflictPolicy: USE_EXISTING });
      const outcome = executed.catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await first.terminate('enough');
      const error = (await outcome) as WorkflowFailureError;
      expect(error).toBeInstanceOf(WorkflowFailureError);
      expect([error.runId, (error.cause as Error).message]).toEqual([first.runId, 'enough']);
      expect(await env.client.countWorkflows()).toBe(1);
    });

    it('TERMINATE_EXISTING terminates it (Temporal\'s reason and details) and starts the new run in the same step', async () => {
      const first = await start('replace', 'wait');
      const second = await start('replace', 'wait', { idConflictPolicy: TERMINATE_EXISTING });
      expect(second.runId).not.toBe(first.runId);

      const history = await first.fetchHistory();
      expect(history.map((e) => e.eventType)).toEqual([
        EventType.WorkflowExecutionStarted,
        EventType.WorkflowTaskScheduled,
        EventType.WorkflowExecutionTerminated,
      ]);
      const terminated = history[2]!.attributes as { reason: string; identity: string };
      expect(terminated.reason).toBe('TerminateIfRunning WorkflowIdReusePolicy');
      expect(terminated.identity).toBe(env.client.identity);

      const failure = await first.result().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(WorkflowFailureError);
      const cause = (failure as WorkflowFailureError).cause as TerminatedError;
      expect(cause).toBeInstanceOf(TerminatedError);
      expect(cause.message).toBe('TerminateIfRunning WorkflowIdReusePolicy');
      expect(cause.details).toEqual([`terminated by new runID: ${second.runId}`]);

      expect((await first.describe()).status).toBe(WorkflowExecutionStatus.TERMINATED);
      expect((await env.client.getWorkflowHandle('replace').describe()).runId).toBe(second.runId);
      expect((await second.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
      expect(await env.client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })).toBe(1);
    });

    it('TERMINATE_EXISTING with nothing running simply starts', async () => {
      const handle = await start('fresh', 'wait', { idConflictPolicy: TERMINATE_EXISTING });
      expect((await handle.fetchHistory()).map((e) => e.eventType)).toEqual([EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled]);
    });
  });

  describe('a closed run', () => {
    it('ALLOW_DUPLICATE (the default) starts again whatever way the last run closed', async () => {
      const completed = await closedRun('again', WorkflowExecutionStatus.COMPLETED);
      const next = await start('again', 'wait', { idReusePolicy: ALLOW_DUPLICATE });
      expect(next.runId).not.toBe(completed.runId);
      await next.terminate();
      const third = await start('again', 'wait');
      expect(third.runId).not.toBe(next.runId);
    });

    it('ALLOW_DUPLICATE_FAILED_ONLY refuses after a completed run, naming it', async () => {
      const completed = await closedRun('once', WorkflowExecutionStatus.COMPLETED);
      expect(await refusal(start('once', 'wait', { idReusePolicy: ALLOW_DUPLICATE_FAILED_ONLY }))).toEqual({
        message: finishedSuccessfully('once', completed.runId!),
        workflowId: 'once',
        runId: completed.runId,
        workflowType: 'IdsEnding',
      });
    });

    it.each([WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED])(
      'ALLOW_DUPLICATE_FAILED_ONLY starts again after a run that ended %s',
      async (status) => {
        const last = await closedRun('retry-me', status);
        const next = await start('retry-me', 'wait', { idReusePolicy: ALLOW_DUPLICATE_FAILED_ONLY });
        expect(next.runId).not.toBe(last.runId);
      },
    );

    it('ALLOW_DUPLICATE_FAILED_ONLY starts again after a cancelled and after a timed-out run', async () => {
      const worker = env.newWorker({ taskQueue: 'ids', workflows: [Ending], activities: [new Echoes()] });
      await worker.runUntil(async () => {
        const cancelled = await start('cancelled', 'wait');
        await cancelled.cancel();
        await cancelled.result().catch(() => undefined);
        expect((await cancelled.describe()).status).toBe(WorkflowExecutionStatus.CANCELED);
        const timedOut = await env.client.startWorkflow(Ending, 'wait', { id: 'timed-out', taskQueue: 'ids', runTimeout: 300 });
        await timedOut.result().catch(() => undefined);
        expect((await timedOut.describe()).status).toBe(WorkflowExecutionStatus.TIMED_OUT);
      });
      for (const id of ['cancelled', 'timed-out']) {
        const next = await start(id, 'wait', { idReusePolicy: ALLOW_DUPLICATE_FAILED_ONLY });
        expect((await next.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
      }
    });

    it.each([WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED])(
      'REJECT_DUPLICATE refuses after a run that ended %s, naming it',
      async (status) => {
        const last = await closedRun('never-again', status);
        expect(await refusal(start('never-again', 'wait', { idReusePolicy: REJECT_DUPLICATE }))).toEqual({
          message: finished('never-again', last.runId!),
          workflowId: 'never-again',
          runId: last.runId,
          workflowType: 'IdsEnding',
        });
        // The conflict policy has nothing to say about a closed run.
        await expect(start('never-again', 'wait', { idReusePolicy: REJECT_DUPLICATE, idConflictPolicy: USE_EXISTING })).rejects.toThrow(
          finished('never-again', last.runId!),
        );
      },
    );

    it('a deleted run no longer holds its id, whatever the reuse policy', async () => {
      const last = await closedRun('deleted', WorkflowExecutionStatus.COMPLETED);
      await last.delete();
      const next = await start('deleted', 'wait', { idReusePolicy: REJECT_DUPLICATE });
      expect(next.runId).not.toBe(last.runId);
      // A running run deleted (terminated first) frees the id too.
      await next.delete();
      const third = await start('deleted', 'wait', { idReusePolicy: ALLOW_DUPLICATE_FAILED_ONLY });
      expect((await third.describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
    });
  });

  describe('refused at the boundary, before anything is written', () => {
    it('REJECT_DUPLICATE with TERMINATE_EXISTING', async () => {
      await expect(start('bad', 'wait', { idReusePolicy: REJECT_DUPLICATE, idConflictPolicy: TERMINATE_EXISTING })).rejects.toThrow(
        new TypeError(
          'Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be used together with ' +
            'WorkflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING',
        ),
      );
      expect(await env.client.countWorkflows()).toBe(0);
    });

    it('unknown policy values, named with the accepted ones', async () => {
      await expect(start('bad', 'wait', { idReusePolicy: 'TERMINATE_IF_RUNNING' as WorkflowIdReusePolicy })).rejects.toThrow(
        new TypeError('Invalid idReusePolicy: "TERMINATE_IF_RUNNING" (one of ALLOW_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY, REJECT_DUPLICATE)'),
      );
      await expect(start('bad', 'wait', { idConflictPolicy: 'fail' as WorkflowIdConflictPolicy })).rejects.toThrow(
        new TypeError('Invalid idConflictPolicy: "fail" (one of FAIL, USE_EXISTING, TERMINATE_EXISTING)'),
      );
      expect(await env.client.countWorkflows()).toBe(0);
    });
  });
});
