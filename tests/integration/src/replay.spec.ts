import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { YourActivities, YourWorkflow } from '@durabull/hello-worker';
import { NondeterminismError, Replayer } from '@durabull/sdk';
import type { EventType, WorkflowHistory } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { Queried, queryUntilClosed } from './fixtures/query-workflows';
import { Family, Kid, familyRun } from './fixtures/child-workflows';
import { Relay, relayRun } from './fixtures/continue-as-new-workflows';
import { Composite, CompositeChanged, ReplayActivities } from './fixtures/replay-workflows';
import { Signalled, signalledRun } from './fixtures/signal-workflows';
import { Updated, updatedRun } from './fixtures/update-workflows';

/**
 * Recorded histories, checked in under tests/integration/histories, replayed against the current
 * workflow code: a change that breaks determinism fails here. `RECORD_HISTORIES=1` records them
 * anew (run it only for an intended, compatible change); `RECORD_HISTORIES=<file>.json` records
 * that one only.
 */
const HISTORIES = join(__dirname, '..', 'histories');
const read = (file: string) => JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as WorkflowHistory;

describe('recorded histories', () => {
  const recording = process.env['RECORD_HISTORIES'];
  if (recording) {
    it('records the fixtures', async () => {
      const env = await TestEnvironment.create();
      try {
        const worker = env.newWorker({ taskQueue: 'replay', workflows: [YourWorkflow, Composite, Queried, Signalled, Updated, Family, Kid, Relay], activities: [new YourActivities(), new ReplayActivities()] });
        await worker.runUntil(async () => {
          for (const [file, start] of [
            ['greeting.json', () => env.client.startWorkflow(YourWorkflow, 'World', { id: 'greeting', taskQueue: 'replay' })],
            ['composite.json', () => env.client.startWorkflow(Composite, 'item', { id: 'composite', taskQueue: 'replay' })],
            // Queried while it runs and once closed: queries write nothing, so nothing of them is recorded.
            ['queried.json', async () => {
              const handle = await env.client.startWorkflow(Queried, 'item', { id: 'queried', taskQueue: 'replay' });
              await queryUntilClosed(handle);
              return handle;
            }],
            // Signal-with-start, signals kept for a handler set later, a cancelled waitCondition timeout.
            ['signalled.json', () => signalledRun(env.client)],
            // Updates accepted (one by a handler set at run time), rejected (nothing recorded), failed, two at once.
            ['updated.json', () => updatedRun(env.client)],
            // Child workflows: executed with an id, started with the default id, failed (caught).
            ['children.json', () => familyRun(env.client)],
            // Continue-as-new: the middle run of a chain of three (chain fields in, ContinuedAsNew out).
            ['continued.json', () => relayRun(env.client)],
          ] as const) {
            if (recording !== '1' && recording !== file) continue;
            const handle = await start();
            await handle.result();
            const history: WorkflowHistory = { workflowId: handle.workflowId, runId: handle.runId, events: await handle.fetchHistory() };
            writeFileSync(join(HISTORIES, file), `${JSON.stringify(history, null, 2)}\n`);
          }
        });
      } finally {
        await env.teardown();
      }
    }, 30_000);
  }

  it('replays every recorded history against the current code', async () => {
    const replayer = new Replayer({ workflows: [YourWorkflow, Composite, Queried, Signalled, Updated, Family, Relay] });
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['children.json', 'composite.json', 'continued.json', 'greeting.json', 'queried.json', 'signalled.json', 'updated.json']);
    const results = await replayer.replayWorkflows(files.map(read));
    expect(results.map((r) => r.error)).toEqual(files.map(() => undefined));
  });

  it('raises NondeterminismError, naming the event and the command, for code that changed incompatibly', async () => {
    const replayer = new Replayer({ workflows: [CompositeChanged] });
    const error = await replayer.replayWorkflow(read('composite.json')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NondeterminismError);
    expect((error as Error).message).toBe(
      'Nondeterminism error: Workflow code produced ScheduleActivityTask where history has TimerStarted (event 5 TimerStarted)',
    );
    expect((error as NondeterminismError).event).toMatchObject({ eventId: 5, eventType: 'TimerStarted' });
    expect((error as NondeterminismError).command).toEqual({ type: 'ScheduleActivityTask', activityId: '1', activityType: 'echo' });
  });

  it('fails on an event type it does not know instead of skipping it', async () => {
    const history = read('greeting.json');
    const events = history.events.map((e) => (e.eventId === 6 ? { ...e, eventType: 'NoSuchEvent' as EventType } : e));
    const error = await new Replayer({ workflows: [YourWorkflow] }).replayWorkflow({ events }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      `History event 6 has an unknown event type "NoSuchEvent": this worker cannot run this history (recorded by a newer Durabull, or corrupt)`,
    );
  });

  it('rejects a malformed history with a clear error', async () => {
    const replayer = new Replayer({ workflows: [YourWorkflow] });
    await expect(replayer.replayWorkflow('{oops')).rejects.toThrow('History is not valid JSON');
    await expect(replayer.replayWorkflow({ events: [] })).rejects.toThrow('History has no events');
    const history = read('greeting.json');
    await expect(replayer.replayWorkflow({ events: history.events.slice(1) })).rejects.toThrow('History event at position 1 is malformed or out of order');
    await expect(new Replayer({ workflows: [YourWorkflow] }).replayWorkflow(read('composite.json'))).rejects.toThrow(
      'History is of workflow type "Composite", which the replayer was not given (it has: YourWorkflow)',
    );
  });
});
