import { ApplicationError, DEFAULT_FAILURE_CONVERTER, DEFAULT_PAYLOAD_CONVERTER, EventType } from '@durabull/common';
import type { HistoryEvent } from '@durabull/common';
import { WorkflowDefn, WorkflowRun, WorkflowSignal, workflowDefinition } from '../definitions/workflow';
import * as workflow from './api';
import { WorkflowRuntime, WorkflowTaskFailure } from './runtime';

// The runtime alone, driven by hand-made histories: where signals go in an activation, buffering,
// handler failures, waitCondition and the close report. (Integration: tests/integration/src/signals.spec.ts.)

const payload = (value: unknown) => DEFAULT_PAYLOAD_CONVERTER.toPayload(value);
let nextId = 1;
const at = (eventType: EventType, attributes: Record<string, unknown> = {}): HistoryEvent => ({
  eventId: nextId++,
  eventTime: new Date(1_700_000_000_000 + nextId).toISOString(),
  eventType,
  attributes,
});
const started = (input: unknown[] = []) =>
  at(EventType.WorkflowExecutionStarted, { workflowId: 'wf', taskQueue: 'q', input: input.map(payload), randomnessSeed: 'seed' });
const signaled = (signalName: string, ...args: unknown[]) =>
  at(EventType.WorkflowExecutionSignaled, { signalName, input: args.map(payload), identity: 'tester' });
const task = () => [at(EventType.WorkflowTaskScheduled), at(EventType.WorkflowTaskStarted)];
const completed = () => at(EventType.WorkflowTaskCompleted);

interface Logged {
  level: string;
  message: string;
  attributes?: Record<string, unknown>;
}

function runtimeOf(cls: Function, logs: Logged[] = []): WorkflowRuntime {
  nextId = 1;
  const first = started();
  const log = (level: string) => (message: string, attributes?: Record<string, unknown>) => void logs.push({ level, message, attributes });
  const runtime = new WorkflowRuntime(workflowDefinition(cls)!, first, 'run-1', {
    namespace: 'ns',
    payloads: DEFAULT_PAYLOAD_CONVERTER,
    failures: DEFAULT_FAILURE_CONVERTER,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  });
  (runtime as unknown as { first: HistoryEvent }).first = first;
  return runtime;
}
const firstEvent = (runtime: WorkflowRuntime) => (runtime as unknown as { first: HistoryEvent }).first;
const resultOf = (commands: Array<{ eventType: string; attributes: Record<string, unknown> }>) => {
  const done = commands.find((c) => c.eventType === EventType.WorkflowExecutionCompleted);
  return done && DEFAULT_PAYLOAD_CONVERTER.fromPayload((done.attributes['result'] as never[])[0]!);
};

@WorkflowDefn()
class Recorder {
  seen: string[] = [];

  @WorkflowRun()
  async run(): Promise<string[]> {
    this.seen.push('run begins');
    await workflow.sleep(1000);
    this.seen.push('after timer');
    await workflow.waitCondition(() => this.seen.includes('signal done'));
    return this.seen;
  }

  @WorkflowSignal()
  done(): void {
    this.seen.push('signal done');
  }

  @WorkflowSignal()
  note(text: string): void {
    this.seen.push(`signal note ${text}`);
  }
}

describe('signals in the workflow runtime', () => {
  it('delivers the first activation\'s signals after the instance exists and before the run method begins', async () => {
    const runtime = runtimeOf(Recorder);
    const events = [firstEvent(runtime), signaled('note', 'a'), signaled('note', 'b'), ...task()];
    const commands = await runtime.runTask(events, 0, 5, 'me');
    expect(commands.map((c) => c.eventType)).toEqual([EventType.TimerStarted]);
    const instance = (runtime as unknown as { instance: Recorder }).instance;
    expect(instance.seen).toEqual(['signal note a', 'signal note b', 'run begins']);
  });

  it('runs signal handlers before the code goes on after an event of the same activation, and waitCondition sees them', async () => {
    const runtime = runtimeOf(Recorder);
    const events = [
      firstEvent(runtime),
      ...task(),
      completed(),
      at(EventType.TimerStarted, { timerId: '1', startToFireTimeout: 1000 }),
      at(EventType.TimerFired, { timerId: '1', startedEventId: 5 }),
      // Recorded after the timer fired, delivered before the code goes on after the timer.
      signaled('done'),
      ...task(),
    ];
    const commands = await runtime.runTask(events, 0, 10, 'me');
    expect(resultOf(commands)).toEqual(['run begins', 'signal done', 'after timer']);
  });

  it('keeps a signal without a handler until one is set, then delivers those kept in order', async () => {
    @WorkflowDefn()
    class Late {
      got: string[] = [];
      @WorkflowRun()
      async run(): Promise<string[]> {
        await workflow.sleep(10);
        workflow.setSignalHandler('late', (value: string) => void this.got.push(`late ${value}`));
        this.got.push('handler set');
        workflow.setDynamicSignalHandler((name: string, ...args: unknown[]) => void this.got.push(`dynamic ${name} ${JSON.stringify(args)}`));
        return this.got;
      }
    }
    const runtime = runtimeOf(Late);
    const events = [
      firstEvent(runtime),
      signaled('late', 1),
      signaled('other', 'x', 2),
      signaled('late', 2),
      ...task(),
      completed(),
      at(EventType.TimerStarted, { timerId: '1', startToFireTimeout: 10 }),
      at(EventType.TimerFired, { timerId: '1', startedEventId: 8 }),
      ...task(),
    ];
    const commands = await runtime.runTask(events, 0, 12, 'me');
    expect(resultOf(commands)).toEqual(['late 1', 'late 2', 'handler set', 'dynamic other ["x",2]']);
  });

  it('lets the workflow constructor set signal handlers, which get the first activation\'s signals', async () => {
    @WorkflowDefn()
    class InConstructor {
      got: string[] = [];
      constructor() {
        workflow.setSignalHandler('early', (value: string) => void this.got.push(value));
      }
      @WorkflowRun()
      async run(): Promise<string[]> {
        return this.got;
      }
    }
    const runtime = runtimeOf(InConstructor);
    const commands = await runtime.runTask([firstEvent(runtime), signaled('early', 'x'), ...task()], 0, 5, 'me');
    expect(resultOf(commands)).toEqual(['x']);
  });

  it('a handler that throws an ApplicationError fails the workflow; any other error fails the workflow task', async () => {
    @WorkflowDefn()
    class Throws {
      @WorkflowRun()
      async run(): Promise<void> {
        await workflow.waitCondition(() => false);
      }
      @WorkflowSignal()
      fail(kind: string): void {
        if (kind === 'application') throw new ApplicationError('refused', { type: 'Refusal' });
        throw new TypeError('a bug');
      }
    }
    const failing = runtimeOf(Throws);
    const commands = await failing.runTask([firstEvent(failing), signaled('fail', 'application'), ...task()], 0, 5, 'me');
    expect(commands.map((c) => c.eventType)).toEqual([EventType.WorkflowExecutionFailed]);
    expect(commands[0]!.attributes['failure']).toMatchObject({ message: 'refused', applicationFailureInfo: { type: 'Refusal' } });

    const buggy = runtimeOf(Throws);
    const error = await buggy.runTask([firstEvent(buggy), signaled('fail', 'bug'), ...task()], 0, 5, 'me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowTaskFailure);
    expect((error as WorkflowTaskFailure).message).toBe('a bug');
  });

  it('waitCondition: true at once without a timer, a durable timer cancelled when fn wins, false when it fires first', async () => {
    const outcomes: boolean[] = [];
    @WorkflowDefn()
    class Waits {
      go = false;
      @WorkflowRun()
      async run(): Promise<boolean[]> {
        outcomes.push(await workflow.waitCondition(() => true, { timeout: '1s' }));
        outcomes.push(await workflow.waitCondition(() => this.go, { timeout: '1s' }));
        outcomes.push(await workflow.waitCondition(() => false, { timeout: 50 }));
        return outcomes;
      }
      @WorkflowSignal()
      start(): void {
        this.go = true;
      }
    }
    const runtime = runtimeOf(Waits);
    const first = await runtime.runTask([firstEvent(runtime), ...task()], 0, 4, 'me');
    expect(first.map((c) => [c.eventType, c.attributes['startToFireTimeout']])).toEqual([[EventType.TimerStarted, 1000]]);
    // A signal makes fn true: the timer is cancelled and the next wait starts its own.
    const second = await runtime.runTask([completed(), at(EventType.TimerStarted, { timerId: '1' }), signaled('start'), ...task()], 0, 10, 'me');
    expect(second.map((c) => [c.eventType, c.attributes['timerId']])).toEqual([
      [EventType.TimerCanceled, '1'],
      [EventType.TimerStarted, '2'],
    ]);
    // The 50 ms timer fires first: false.
    const third = await runtime.runTask(
      [
        completed(),
        at(EventType.TimerCanceled, { timerId: '1', startedEventId: 5 }),
        at(EventType.TimerStarted, { timerId: '2' }),
        at(EventType.TimerFired, { timerId: '2', startedEventId: 11 }),
        ...task(),
      ],
      0,
      15,
      'me',
    );
    expect(resultOf(third)).toEqual([true, true, false]);
  });

  it('reports unfinished signal handlers and undelivered signals when the run closes', async () => {
    @WorkflowDefn()
    class Leaves {
      @WorkflowRun()
      async run(): Promise<string> {
        return 'done';
      }
      @WorkflowSignal()
      async slow(): Promise<void> {
        await workflow.sleep('1h');
      }
    }
    const logs: Logged[] = [];
    const runtime = runtimeOf(Leaves, logs);
    const commands = await runtime.runTask(
      [firstEvent(runtime), signaled('slow'), signaled('slow'), signaled('nobody', 1), signaled('nobody', 2), ...task()],
      0,
      8,
      'me',
    );
    expect(commands.map((c) => c.eventType)).toEqual([EventType.TimerStarted, EventType.TimerStarted, EventType.WorkflowExecutionCompleted]);
    expect(workflow.allHandlersFinished).toThrow('workflow.allHandlersFinished() may only be called from workflow code');
    runtime.reportClose();
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      [
        'warn',
        '[TMPRL1102] Workflow finished while signal handlers are still running. This may have interrupted work that the signal ' +
          'handler was doing. You can wait for all update and signal handlers to complete by using ' +
          '`await workflow.waitCondition(workflow.allHandlersFinished)`. The following signals were unfinished: [{"name":"slow","count":2}]',
      ],
      ['warn', 'Workflow closed with signals that no handler received (dropped): [{"name":"nobody","count":2}]'],
    ]);
    expect(logs[1]!.attributes).toEqual({
      workflowId: 'wf',
      runId: 'run-1',
      workflowType: 'Leaves',
      signals: [{ name: 'nobody', count: 2 }],
    });
  });
});
