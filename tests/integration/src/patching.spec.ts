import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventType, NondeterminismError, Replayer, WorkflowDefn, WorkflowQuery, WorkflowRun, WorkflowQueryFailedError, WorkflowSignal, workflow } from '@durabull/sdk';
import type { HistoryEvent, WorkflowHandle, WorkflowHistory } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

// Patching (API.md "Continue-as-new, versioning..."; TEMPORAL-SEMANTICS §16): the rollout of one
// change through four versions of the same workflow type. Runs started on the old code keep the
// old branch when a worker with the patched code continues them; new runs take the new branch
// and record one `core_patch` marker per patch id; histories recorded by each version replay on
// the next one.

/** Version 1: the old code. */
@WorkflowDefn({ name: 'Checkout' })
class CheckoutV1 {
  done = false;

  @WorkflowRun()
  async run(): Promise<string[]> {
    await workflow.waitCondition(() => this.done);
    return ['old'];
  }

  @WorkflowSignal()
  finish(): void {
    this.done = true;
  }
}

/** Version 2: the change behind `patched`, asked twice (one marker), and a patch first asked in a later workflow task. */
@WorkflowDefn({ name: 'Checkout' })
class CheckoutV2 {
  done = false;

  @WorkflowRun()
  async run(): Promise<Array<string | boolean>> {
    const branch = workflow.patched('fast-checkout') ? 'new' : 'old';
    await workflow.waitCondition(() => this.done);
    return [branch, workflow.patched('fast-checkout'), workflow.patched('receipt')];
  }

  @WorkflowSignal()
  finish(): void {
    this.done = true;
  }

  @WorkflowQuery()
  probe(): boolean {
    return workflow.patched('in-query');
  }
}

/** Version 3: every old run is gone, the patch is deprecated. */
@WorkflowDefn({ name: 'Checkout' })
class CheckoutV3 {
  done = false;

  @WorkflowRun()
  async run(): Promise<Array<string | boolean>> {
    workflow.deprecatePatch('fast-checkout');
    await workflow.waitCondition(() => this.done);
    return ['new', workflow.patched('receipt')];
  }

  @WorkflowSignal()
  finish(): void {
    this.done = true;
  }
}

/** Version 4: the call is gone. */
@WorkflowDefn({ name: 'Checkout' })
class CheckoutV4 {
  done = false;

  @WorkflowRun()
  async run(): Promise<Array<string | boolean>> {
    await workflow.waitCondition(() => this.done);
    return ['new', workflow.patched('receipt')];
  }

  @WorkflowSignal()
  finish(): void {
    this.done = true;
  }
}

const HISTORIES = join(__dirname, '..', 'histories', 'patching');
const read = (file: string) => JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as WorkflowHistory;
const types = (history: HistoryEvent[]) => history.map((e) => e.eventType);
const marker = (id: string, deprecated: boolean, workflowTaskCompletedEventId: number) => ({
  markerName: 'core_patch',
  details: { 'patch-data': [{ metadata: { encoding: 'json/plain' }, data: { id, deprecated } }] },
  workflowTaskCompletedEventId,
});

async function eventually(handle: WorkflowHandle, type: EventType): Promise<void> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    if ((await handle.fetchHistory()).some((e) => e.eventType === type)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${type} in the history of ${handle.workflowId}`);
}

describe('patching', () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await TestEnvironment.create();
  });
  afterEach(() => env.teardown());

  const worker = (version: new () => object) => env.newWorker({ taskQueue: 'q', workflows: [version] });

  /** A run whose first workflow task `first` completes and the rest `rest` (a worker each). */
  async function runAcross(id: string, first: new () => object, rest: new () => object): Promise<WorkflowHandle> {
    const handle = await env.client.startWorkflow('Checkout', { id, taskQueue: 'q' });
    await worker(first).runUntil(() => eventually(handle, EventType.WorkflowTaskCompleted));
    await handle.signal('finish');
    await worker(rest).runUntil(handle.result());
    return handle;
  }

  it('a run started on the old code keeps the old branch on the patched code, and records only the markers of later calls', async () => {
    const handle = await runAcross('old-run', CheckoutV1, CheckoutV2);
    expect(await handle.result()).toEqual(['old', false, true]);
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect(history[8]!.attributes).toEqual(marker('receipt', false, 8));
  });

  it('a new run takes the new branch and records one core_patch marker per patch id, however often it is asked', async () => {
    const handle = await runAcross('new-run', CheckoutV2, CheckoutV2);
    expect(await handle.result()).toEqual(['new', true, true]);
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.WorkflowExecutionSignaled,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.MarkerRecorded,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect(history[4]!.attributes).toEqual(marker('fast-checkout', false, 4));
    expect(history[9]!.attributes).toEqual(marker('receipt', false, 9));
  });

  it('deprecatePatch records a deprecated marker and takes the new branch', async () => {
    const handle = await runAcross('deprecated-run', CheckoutV3, CheckoutV3);
    expect(await handle.result()).toEqual(['new', true]);
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.eventType === EventType.MarkerRecorded).map((e) => e.attributes)).toEqual([
      marker('fast-checkout', true, 4),
      marker('receipt', false, 9),
    ]);
  });

  it('patched() in a query handler throws (IllegalStateError, the query fails)', async () => {
    const handle = await env.client.startWorkflow(CheckoutV2, { id: 'queried', taskQueue: 'q' });
    const error = await worker(CheckoutV2).runUntil(async () => {
      await eventually(handle, EventType.WorkflowTaskCompleted);
      return handle.query(CheckoutV2.prototype.probe).catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(WorkflowQueryFailedError);
    expect((error as Error).message).toBe('While in read-only function, action attempted: patched');
  });

  const recording = process.env['RECORD_HISTORIES'];
  if (recording === '1' || recording === 'patching') {
    it('records the fixtures', async () => {
      mkdirSync(HISTORIES, { recursive: true });
      for (const [file, version] of [
        ['old-code.json', CheckoutV1],
        ['patched.json', CheckoutV2],
        ['deprecated.json', CheckoutV3],
      ] as const) {
        const handle = await runAcross(file.replace('.json', ''), version, version);
        const history: WorkflowHistory = { workflowId: handle.workflowId, runId: handle.runId, events: await handle.fetchHistory() };
        writeFileSync(join(HISTORIES, file), `${JSON.stringify(history, null, 2)}\n`);
      }
    });
  }

  describe('recorded histories of each version, replayed by the next', () => {
    const replay = (version: new () => object, file: string) => new Replayer({ workflows: [version] }).replayWorkflow(read(file));

    it('the patched code replays the old code’s history on the old branch', async () => {
      await expect(replay(CheckoutV2, 'old-code.json')).resolves.toBeUndefined();
      // And the old code, which never records a marker, replays its own.
      await expect(replay(CheckoutV1, 'old-code.json')).resolves.toBeUndefined();
    });

    it('the deprecating code replays the patched code’s history', async () => {
      await expect(replay(CheckoutV2, 'patched.json')).resolves.toBeUndefined();
      await expect(replay(CheckoutV3, 'patched.json')).resolves.toBeUndefined();
    });

    it('code without the call skips deprecated markers, and fails on markers that are not deprecated', async () => {
      await expect(replay(CheckoutV4, 'deprecated.json')).resolves.toBeUndefined();
      const error = await replay(CheckoutV4, 'patched.json').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NondeterminismError);
      expect((error as Error).message).toBe(
        'Nondeterminism error: Non-deprecated patch marker encountered for change fast-checkout, but there is no corresponding change command! (event 5 MarkerRecorded)',
      );
    });

    it('the old code fails on a history with the marker', async () => {
      const error = await replay(CheckoutV1, 'patched.json').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NondeterminismError);
      expect((error as Error).message).toBe(
        'Nondeterminism error: Non-deprecated patch marker encountered for change fast-checkout, but there is no corresponding change command! (event 5 MarkerRecorded)',
      );
    });
  });
});
