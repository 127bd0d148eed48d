import { EventType, NondeterminismError } from '@durabull/common';
import type { HistoryEvent } from '@durabull/common';
import type { Command } from './commands';
import { patchMarkerDetails, patchesOfTask, skipsPatchMarker } from './patches';

const event = (eventId: number, eventType: string, attributes: Record<string, unknown> = {}): HistoryEvent =>
  ({ eventId, eventTime: '2026-01-01T00:00:00.000Z', eventType, attributes }) as HistoryEvent;
const marker = (eventId: number, id: string, deprecated: boolean) =>
  event(eventId, EventType.MarkerRecorded, { markerName: 'core_patch', details: patchMarkerDetails(id, deprecated), workflowTaskCompletedEventId: 4 });
const patch = (patchId: string): Command => ({ kind: 'recordPatchMarker', patchId, deprecated: false });

describe('patch markers on replay', () => {
  it('pairs a marker with the patch command of its id, deprecated or not', () => {
    expect(skipsPatchMarker(patch('a'), marker(5, 'a', false))).toBe(false);
    expect(skipsPatchMarker(patch('a'), marker(5, 'a', true))).toBe(false);
  });

  it('skips a deprecated marker the code no longer asks for, whatever comes next', () => {
    expect(skipsPatchMarker(undefined, marker(5, 'a', true))).toBe(true);
    expect(skipsPatchMarker(patch('b'), marker(5, 'a', true))).toBe(true);
  });

  it("fails on a marker that is not deprecated and has no command (Temporal core's message)", () => {
    const error = (() => {
      try {
        skipsPatchMarker(undefined, marker(5, 'a', false));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NondeterminismError);
    expect((error as Error).message).toBe(
      'Nondeterminism error: Non-deprecated patch marker encountered for change a, but there is no corresponding change command! (event 5 MarkerRecorded)',
    );
    // A patch command of another id: matching reports both ids.
    expect(skipsPatchMarker(patch('b'), marker(5, 'a', false))).toBe(false);
  });

  it('leaves other markers and events to matching', () => {
    const localActivity = event(5, EventType.MarkerRecorded, { markerName: 'core_local_activity', details: {}, workflowTaskCompletedEventId: 4 });
    expect(skipsPatchMarker(undefined, localActivity)).toBe(false);
    expect(skipsPatchMarker(undefined, event(5, EventType.TimerStarted, { timerId: '1' }))).toBe(false);
  });

  it("finds the patches a completed workflow task recorded, up to the next task's start", () => {
    const events = [
      event(3, EventType.WorkflowTaskStarted),
      event(4, EventType.WorkflowTaskCompleted),
      marker(5, 'a', false),
      event(6, EventType.TimerStarted, { timerId: '1' }),
      marker(7, 'b', true),
      event(8, EventType.WorkflowTaskScheduled),
      event(9, EventType.WorkflowTaskStarted),
      event(10, EventType.WorkflowTaskCompleted),
      marker(11, 'c', false),
    ];
    expect(patchesOfTask(events, 0)).toEqual(['a', 'b']);
    expect(patchesOfTask(events, 6)).toEqual(['c']);
  });
});
