// A plain-text rendering of a history for people (the demo, a CLI, test failure output). It must
// never throw, whatever a stored event holds, so every attribute is read defensively.

import { formatDuration } from './duration';
import { EventType } from './enums';
import type { Failure } from './failure';
import type { HistoryEvent, TypedHistoryEvent } from './history';
import { DEFAULT_PAYLOAD_CONVERTER, type Payload, type PayloadConverter } from './payload';

const PREVIEW_LENGTH = 60;

function truncate(text: string, max = PREVIEW_LENGTH): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function json(value: unknown): string {
  try {
    return value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

function payloadsPreview(payloads: Payload[] | undefined, converter: PayloadConverter, single: boolean): string {
  try {
    const values = converter.fromPayloads(payloads);
    return truncate(json(single && values.length <= 1 ? values[0] : values));
  } catch {
    return '<undecodable>';
  }
}

function failureKind(failure: Failure): string {
  if (failure.applicationFailureInfo) return failure.applicationFailureInfo.type || 'ApplicationError';
  if (failure.timeoutFailureInfo) return failure.timeoutFailureInfo.timeoutType;
  if (failure.canceledFailureInfo) return 'Cancelled';
  if (failure.terminatedFailureInfo) return 'Terminated';
  if (failure.serverFailureInfo) return 'ServerError';
  if (failure.activityFailureInfo) return 'ActivityError';
  if (failure.childWorkflowExecutionFailureInfo) return 'ChildWorkflowError';
  return 'Error';
}

/** `"message" (type, retryState)`. */
function failureSummary(failure: Failure | undefined, retryState?: string): string {
  if (!failure) return '-';
  const tags = [failureKind(failure), retryState].filter(Boolean).join(', ');
  return `${JSON.stringify(truncate(String(failure.message ?? '')))} (${tags})`;
}

function optionalDuration(label: string, ms: number | undefined): string {
  return ms ? ` ${label}=${formatDuration(ms)}` : '';
}

function describe(e: TypedHistoryEvent, converter: PayloadConverter): string {
  const preview = (payloads: Payload[] | undefined, single = true) => payloadsPreview(payloads, converter, single);
  switch (e.eventType) {
    case EventType.WorkflowExecutionStarted: {
      const a = e.attributes;
      return (
        `type=${a.workflowType} id=${a.workflowId} taskQueue=${a.taskQueue} input=${preview(a.input, false)}` +
        optionalDuration('executionTimeout', a.workflowExecutionTimeout) +
        optionalDuration('runTimeout', a.workflowRunTimeout) +
        optionalDuration('taskTimeout', a.workflowTaskTimeout)
      );
    }
    case EventType.WorkflowExecutionCompleted:
      return `result=${preview(e.attributes.result)}`;
    case EventType.WorkflowExecutionFailed:
      return `failure=${failureSummary(e.attributes.failure, e.attributes.retryState)}`;
    case EventType.WorkflowExecutionTimedOut:
      return `retryState=${e.attributes.retryState}`;
    case EventType.WorkflowExecutionCanceled:
      return `details=${preview(e.attributes.details, false)}`;
    case EventType.WorkflowExecutionTerminated:
      return `reason=${json(e.attributes.reason)} identity=${e.attributes.identity}`;
    case EventType.WorkflowExecutionCancelRequested:
      return `reason=${json(e.attributes.cause)} identity=${e.attributes.identity}`;
    case EventType.WorkflowExecutionSignaled:
      return `signal=${e.attributes.signalName} input=${preview(e.attributes.input, false)} identity=${e.attributes.identity}`;
    case EventType.WorkflowExecutionUpdateAccepted: {
      const request = e.attributes.acceptedRequest;
      return `update=${request.input.name} id=${json(e.attributes.protocolInstanceId)} input=${preview(request.input.args, false)}`;
    }
    case EventType.WorkflowExecutionUpdateRejected:
      return `id=${json(e.attributes.protocolInstanceId)} failure=${failureSummary(e.attributes.failure)}`;
    case EventType.WorkflowExecutionUpdateCompleted: {
      const { outcome } = e.attributes;
      const shown = 'success' in outcome ? `result=${preview(outcome.success)}` : `failure=${failureSummary(outcome.failure)}`;
      return `id=${json(e.attributes.meta.updateId)} acceptedEventId=${e.attributes.acceptedEventId} ${shown}`;
    }
    case EventType.WorkflowTaskScheduled:
      return `taskQueue=${e.attributes.taskQueue}${optionalDuration('startToClose', e.attributes.startToCloseTimeout)} attempt=${e.attributes.attempt}`;
    case EventType.WorkflowTaskStarted:
      return `scheduled=${e.attributes.scheduledEventId} identity=${e.attributes.identity}`;
    case EventType.WorkflowTaskCompleted:
      return `scheduled=${e.attributes.scheduledEventId} started=${e.attributes.startedEventId}`;
    case EventType.WorkflowTaskTimedOut:
      return `scheduled=${e.attributes.scheduledEventId} started=${e.attributes.startedEventId} timeout=${e.attributes.timeoutType}`;
    case EventType.WorkflowTaskFailed:
      return `scheduled=${e.attributes.scheduledEventId} started=${e.attributes.startedEventId} cause=${e.attributes.cause} failure=${failureSummary(e.attributes.failure)}`;
    case EventType.ActivityTaskScheduled: {
      const a = e.attributes;
      const attempts = a.retryPolicy?.maximumAttempts;
      return (
        `activityId=${a.activityId} type=${a.activityType}` +
        optionalDuration('startToClose', a.startToCloseTimeout) +
        optionalDuration('scheduleToClose', a.scheduleToCloseTimeout) +
        optionalDuration('heartbeat', a.heartbeatTimeout) +
        (attempts ? ` maxAttempts=${attempts}` : '') +
        ` input=${preview(a.input, false)}`
      );
    }
    case EventType.ActivityTaskStarted: {
      const a = e.attributes;
      const lastFailure = a.lastFailure ? ` lastFailure=${JSON.stringify(truncate(String(a.lastFailure.message ?? '')))}` : '';
      return `scheduled=${a.scheduledEventId} attempt=${a.attempt}${lastFailure}`;
    }
    case EventType.ActivityTaskCompleted:
      return `scheduled=${e.attributes.scheduledEventId} started=${e.attributes.startedEventId} result=${preview(e.attributes.result)}`;
    case EventType.ActivityTaskFailed:
    case EventType.ActivityTaskTimedOut:
      return `scheduled=${e.attributes.scheduledEventId} started=${e.attributes.startedEventId} failure=${failureSummary(e.attributes.failure, e.attributes.retryState)}`;
    case EventType.ActivityTaskCancelRequested:
      return `scheduled=${e.attributes.scheduledEventId}`;
    case EventType.ActivityTaskCanceled:
      return `scheduled=${e.attributes.scheduledEventId} started=${e.attributes.startedEventId} details=${preview(e.attributes.details, false)}`;
    case EventType.TimerStarted:
      return `timerId=${e.attributes.timerId} startToFire=${formatDuration(e.attributes.startToFireTimeout)}`;
    case EventType.StartChildWorkflowExecutionInitiated: {
      const a = e.attributes;
      return (
        `workflowId=${a.workflowId} type=${a.workflowType} taskQueue=${a.taskQueue}` +
        optionalDuration('executionTimeout', a.workflowExecutionTimeout) +
        optionalDuration('runTimeout', a.workflowRunTimeout) +
        ` parentClosePolicy=${a.parentClosePolicy} input=${preview(a.input, false)}`
      );
    }
    case EventType.StartChildWorkflowExecutionFailed:
      return `workflowId=${e.attributes.workflowId} initiated=${e.attributes.initiatedEventId} cause=${e.attributes.cause}`;
    case EventType.ChildWorkflowExecutionStarted: {
      const run = e.attributes.workflowExecution;
      return `workflowId=${run.workflowId} runId=${run.runId} initiated=${e.attributes.initiatedEventId}`;
    }
    case EventType.ChildWorkflowExecutionCompleted:
      return `workflowId=${e.attributes.workflowExecution.workflowId} initiated=${e.attributes.initiatedEventId} result=${preview(e.attributes.result)}`;
    case EventType.ChildWorkflowExecutionFailed:
      return `workflowId=${e.attributes.workflowExecution.workflowId} initiated=${e.attributes.initiatedEventId} failure=${failureSummary(e.attributes.failure, e.attributes.retryState)}`;
    case EventType.ChildWorkflowExecutionTimedOut:
      return `workflowId=${e.attributes.workflowExecution.workflowId} initiated=${e.attributes.initiatedEventId} retryState=${e.attributes.retryState}`;
    case EventType.ChildWorkflowExecutionCanceled:
    case EventType.ChildWorkflowExecutionTerminated:
      return `workflowId=${e.attributes.workflowExecution.workflowId} initiated=${e.attributes.initiatedEventId}`;
    case EventType.TimerFired:
    case EventType.TimerCanceled:
      return `timerId=${e.attributes.timerId} started=${e.attributes.startedEventId}`;
    default:
      return truncate(json((e as HistoryEvent).attributes));
  }
}

function timeOfDay(eventTime: string): string {
  const time = new Date(eventTime);
  return Number.isNaN(time.getTime()) ? String(eventTime) : time.toISOString().slice(11, 23);
}

/**
 * Renders events as a fixed-width text table with columns ID, TIME (UTC time of day with
 * milliseconds), TYPE and DETAILS (the event's key attributes, decoded payloads truncated to about
 * 60 characters, failures as `"message" (type, retryState)`). Never throws on odd events.
 *
 * @param converter - decodes payloads for display. @default DEFAULT_PAYLOAD_CONVERTER
 */
export function formatHistoryTable(events: readonly HistoryEvent[], converter: PayloadConverter = DEFAULT_PAYLOAD_CONVERTER): string {
  const rows = events.map((event) => {
    let details: string;
    try {
      details = describe(event as TypedHistoryEvent, converter);
    } catch {
      details = truncate(json(event.attributes));
    }
    return [String(event.eventId), timeOfDay(event.eventTime), String(event.eventType), details];
  });
  const table = [['ID', 'TIME', 'TYPE', 'DETAILS'], ...rows];
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  return table
    .map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd())
    .join('\n');
}
