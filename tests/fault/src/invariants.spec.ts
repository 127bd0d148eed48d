import { EventType } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { historyViolations } from './invariants';

const event = (eventId: number, eventType: EventType, attributes: object = {}): HistoryEvent => ({
  eventId,
  eventTime: new Date(0).toISOString(),
  eventType,
  attributes: attributes as Record<string, unknown>,
});

const sound = [
  event(1, EventType.WorkflowExecutionStarted),
  event(2, EventType.WorkflowTaskScheduled),
  event(3, EventType.WorkflowTaskStarted),
  event(4, EventType.WorkflowTaskCompleted),
  event(5, EventType.ActivityTaskScheduled),
  event(6, EventType.ActivityTaskStarted, { scheduledEventId: 5 }),
  event(7, EventType.ActivityTaskCompleted, { scheduledEventId: 5, startedEventId: 6 }),
  event(8, EventType.WorkflowTaskScheduled),
  event(9, EventType.WorkflowTaskStarted),
  event(10, EventType.WorkflowTaskCompleted),
  event(11, EventType.WorkflowExecutionCompleted),
];

/** The checker itself must catch each violation, or the fault suite proves nothing. */
describe('historyViolations', () => {
  it('accepts the canonical history', () => {
    expect(historyViolations(sound)).toEqual([]);
  });

  it('finds a gap in event ids', () => {
    const gap = sound.filter((e) => e.eventId !== 4);
    expect(historyViolations(gap)).toContain('event at position 4 has id 5 (ids must be 1, 2, 3, ... without gaps)');
  });

  it('finds an activity closed twice', () => {
    const twice = [...sound.slice(0, 7), event(8, EventType.ActivityTaskCompleted, { scheduledEventId: 5 })];
    expect(historyViolations(twice)).toContain('activity scheduled at 5 closed 2 times');
  });

  it('finds an ActivityTaskStarted not followed by its close event', () => {
    const apart = [...sound.slice(0, 6), event(7, EventType.TimerStarted)];
    expect(historyViolations(apart)).toContain('ActivityTaskStarted 6 is not followed by its close event');
  });

  it('finds events after the close event', () => {
    expect(historyViolations([...sound, event(12, EventType.TimerFired)])).toContain(
      '1 event(s) after the close event WorkflowExecutionCompleted',
    );
  });

  it('finds overlapping workflow tasks', () => {
    const overlap = [...sound.slice(0, 3), event(4, EventType.WorkflowTaskScheduled)];
    expect(historyViolations(overlap)).toContain('WorkflowTaskScheduled 4 while a workflow task is started');
  });
});
