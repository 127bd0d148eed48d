import { EventType } from '@durabull/common';
import type { HistoryEvent } from '@durabull/common';
import { EVENT_HANDLERS, MATCH_COMMAND, applyEvent } from './activation';
import type { ActivationTarget } from './activation';
import { COMMANDS } from './commands';

/** A target on which every call is a test failure, except those a test expects. */
function target(overrides: Partial<ActivationTarget> = {}): ActivationTarget {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call of ${name}`);
  };
  return {
    payloads: undefined as never,
    failures: undefined as never,
    enqueue: unexpected('enqueue'),
    matchCommand: unexpected('matchCommand'),
    matchedCommand: unexpected('matchedCommand'),
    initializeWorkflow: unexpected('initializeWorkflow'),
    startWorkflow: unexpected('startWorkflow'),
    deliverSignal: unexpected('deliverSignal'),
    deliverCancellation: unexpected('deliverCancellation'),
    settleActivity: unexpected('settleActivity'),
    settleTimer: unexpected('settleTimer'),
    settleExternal: unexpected('settleExternal'),
    markClosed: unexpected('markClosed'),
    ...overrides,
  };
}

const event = (eventType: string, attributes: Record<string, unknown> = {}): HistoryEvent =>
  ({ eventId: 7, eventTime: '2026-01-01T00:00:00.000Z', eventType, attributes }) as HistoryEvent;

describe('the event handler table', () => {
  it('has an entry for every event type and no other', () => {
    expect(Object.keys(EVENT_HANDLERS).sort()).toEqual(Object.values(EventType).sort());
  });

  it('pairs exactly the events commands are recorded as with their command', () => {
    const matched = Object.entries(EVENT_HANDLERS)
      .filter(([, handler]) => handler === MATCH_COMMAND)
      .map(([type]) => type);
    // Several command kinds may share an event type (patch and local activity markers).
    expect(matched.sort()).toEqual([...new Set(Object.values(COMMANDS).map((c) => c.eventType))].sort());
  });

  it('hands a command event to matchCommand', () => {
    const seen: HistoryEvent[] = [];
    const timerStarted = event(EventType.TimerStarted, { timerId: '1' });
    applyEvent(target({ matchCommand: (e) => void seen.push(e) }), timerStarted);
    expect(seen).toEqual([timerStarted]);
  });

  it('does nothing for events that carry nothing for the code', () => {
    for (const type of [
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowTaskTimedOut,
      EventType.WorkflowTaskFailed,
      EventType.ActivityTaskStarted,
    ]) {
      expect(() => applyEvent(target(), event(type))).not.toThrow();
    }
  });

  it('ignores the closing event of an activity or timer the run does not know', () => {
    const t = target({ matchedCommand: () => undefined });
    expect(() => applyEvent(t, event(EventType.ActivityTaskCompleted, { scheduledEventId: 99, result: [] }))).not.toThrow();
    expect(() => applyEvent(t, event(EventType.TimerFired, { startedEventId: 99, timerId: '9' }))).not.toThrow();
  });

  it('queues a signal in the message phase, and the start as init then run method', () => {
    const queued: Array<[string | undefined, () => void]> = [];
    const calls: string[] = [];
    const t = target({
      enqueue: (job, phase) => void queued.push([phase, job]),
      initializeWorkflow: () => void calls.push('init'),
      startWorkflow: () => void calls.push('start'),
      deliverSignal: (name, input) => void calls.push(`signal ${name} ${JSON.stringify(input)}`),
    });
    applyEvent(t, event(EventType.WorkflowExecutionStarted, { input: [] }));
    applyEvent(t, event(EventType.WorkflowExecutionSignaled, { signalName: 'go', input: [{ metadata: {}, data: '1' }], identity: 'me' }));
    expect(queued.map(([phase]) => phase)).toEqual(['init', undefined, 'message']);
    for (const [, job] of queued) job();
    expect(calls).toEqual(['init', 'start', 'signal go [{"metadata":{},"data":"1"}]']);
  });

  it('refuses an event type it does not know, naming it', () => {
    for (const type of ['MarkerRecordedSomewhereElse', 'toString', '__proto__']) {
      expect(() => applyEvent(target(), event(type))).toThrow(
        new Error(
          `History event 7 has an unknown event type ${JSON.stringify(type)}: this worker cannot run this history (recorded by a newer Durabull, or corrupt)`,
        ),
      );
    }
  });
});
