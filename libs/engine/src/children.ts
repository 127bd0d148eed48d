// Child workflows in the engine (lua/includes/children.lua): the message kinds their hand-overs
// use, the child's run id, and what a child's close event becomes in its parent's history.

import { createHash } from 'node:crypto';
import { EventType } from '@durabull/common';
import type { HistoryEvent } from '@durabull/common';

/** The message kinds (x:<id> values) of child workflows; 'signal' and 'cancel' are the others. */
export const CHILD_MESSAGES: ReadonlySet<string> = new Set(['start', 'terminate', 'cancelchild', 'parent']);

/**
 * The run id of the child a parent run starts with its event `initiatedEventId`: derived from
 * both (a name-based UUID, RFC 4122 version 5 layout), so that a start delivered twice names the
 * same run and the second finds it started.
 */
export function childRunId(parentRunId: string, initiatedEventId: number): string {
  const hash = createHash('sha1').update(`durabull-child:${parentRunId}:${initiatedEventId}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The parent's event for a child's close event (TEMPORAL-SEMANTICS §8.2): its type, and the
 * attributes of its own (the common ones, workflowExecution, workflowType, initiatedEventId and
 * startedEventId, are added by the caller and the engine). Undefined for an event that does not
 * close a run for good.
 */
export function childClosedEvent(event: HistoryEvent): { eventType: EventType; attributes: Record<string, unknown> } | undefined {
  const attrs = event.attributes as { result?: unknown; failure?: unknown; retryState?: unknown; details?: unknown };
  switch (event.eventType) {
    case EventType.WorkflowExecutionCompleted:
      return { eventType: EventType.ChildWorkflowExecutionCompleted, attributes: { result: attrs.result ?? [] } };
    case EventType.WorkflowExecutionFailed:
      return { eventType: EventType.ChildWorkflowExecutionFailed, attributes: { failure: attrs.failure, retryState: attrs.retryState } };
    case EventType.WorkflowExecutionCanceled:
      return { eventType: EventType.ChildWorkflowExecutionCanceled, attributes: { details: attrs.details ?? [] } };
    case EventType.WorkflowExecutionTimedOut:
      return { eventType: EventType.ChildWorkflowExecutionTimedOut, attributes: { retryState: attrs.retryState } };
    case EventType.WorkflowExecutionTerminated:
      return { eventType: EventType.ChildWorkflowExecutionTerminated, attributes: {} };
    default:
      return undefined;
  }
}
