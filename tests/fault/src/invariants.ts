import { ACTIVITY_CLOSE_EVENT_TYPES, EventType, WORKFLOW_CLOSE_EVENT_TYPES } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';

/**
 * What must hold for every history, whatever crashed while it was written. Returns the
 * violations found (empty when the history is sound).
 */
export function historyViolations(history: HistoryEvent[]): string[] {
  const problems: string[] = [];
  history.forEach((event, i) => {
    if (event.eventId !== i + 1) problems.push(`event at position ${i + 1} has id ${event.eventId} (ids must be 1, 2, 3, ... without gaps)`);
  });
  const closeAt = history.findIndex((e) => WORKFLOW_CLOSE_EVENT_TYPES.has(e.eventType));
  if (closeAt >= 0 && closeAt !== history.length - 1) {
    problems.push(`${history.length - 1 - closeAt} event(s) after the close event ${history[closeAt]!.eventType}`);
  }
  const closes = new Map<number, number>();
  history.forEach((event, i) => {
    const attrs = event.attributes as { scheduledEventId?: number; startedEventId?: number };
    if (ACTIVITY_CLOSE_EVENT_TYPES.has(event.eventType)) {
      const scheduled = attrs.scheduledEventId!;
      closes.set(scheduled, (closes.get(scheduled) ?? 0) + 1);
      if (history[scheduled - 1]?.eventType !== EventType.ActivityTaskScheduled) {
        problems.push(`${event.eventType} ${event.eventId} names ${scheduled}, which is not an ActivityTaskScheduled`);
      }
      if (attrs.startedEventId) {
        const started = history[i - 1];
        if (started?.eventType !== EventType.ActivityTaskStarted || started.eventId !== attrs.startedEventId) {
          problems.push(`${event.eventType} ${event.eventId} is not right after its ActivityTaskStarted ${attrs.startedEventId}`);
        }
      }
    }
    if (event.eventType === EventType.ActivityTaskStarted) {
      const next = history[i + 1];
      if (!next || !ACTIVITY_CLOSE_EVENT_TYPES.has(next.eventType)) {
        problems.push(`ActivityTaskStarted ${event.eventId} is not followed by its close event`);
      }
    }
  });
  for (const [scheduled, count] of closes) {
    if (count > 1) problems.push(`activity scheduled at ${scheduled} closed ${count} times`);
  }
  // Workflow tasks never overlap: Scheduled -> Started -> Completed/Failed/TimedOut, one at a time.
  let open: 'none' | 'scheduled' | 'started' = 'none';
  for (const event of history) {
    switch (event.eventType) {
      case EventType.WorkflowTaskScheduled:
        if (open !== 'none') problems.push(`WorkflowTaskScheduled ${event.eventId} while a workflow task is ${open}`);
        open = 'scheduled';
        break;
      case EventType.WorkflowTaskStarted:
        if (open !== 'scheduled') problems.push(`WorkflowTaskStarted ${event.eventId} without a scheduled task`);
        open = 'started';
        break;
      case EventType.WorkflowTaskCompleted:
      case EventType.WorkflowTaskFailed:
        if (open !== 'started') problems.push(`${event.eventType} ${event.eventId} without a started task`);
        open = 'none';
        break;
      case EventType.WorkflowTaskTimedOut:
        if (open === 'none') problems.push(`WorkflowTaskTimedOut ${event.eventId} without an open task`);
        open = 'none';
        break;
      default:
    }
  }
  return problems;
}
