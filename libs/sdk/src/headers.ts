// Headers on their own, below interceptors.ts: the option modules of workflow code name them, and
// interceptors.ts names those options, so keeping them apart avoids an import cycle.

import type { Payload } from '@durabull/common';

/**
 * Headers: named payloads that travel with a command in history: a workflow start
 * (`WorkflowExecutionStarted`), an activity (`ActivityTaskScheduled`), a child's start
 * (`StartChildWorkflowExecutionInitiated`), a continue-as-new, a signal, each as the attribute
 * `header.fields`. They are written as given: payload codecs do not apply to them.
 */
export type Headers = Record<string, Payload>;

/** The `header` attribute of an event: only written when there are fields. */
export function headerAttribute(headers: Headers): { fields: Headers } | undefined {
  return Object.keys(headers).length > 0 ? { fields: headers } : undefined;
}

/** The header fields of an event's attributes (an empty object when it has none). */
export function headersOf(attributes: Record<string, unknown>): Headers {
  const header = attributes['header'] as { fields?: Headers } | undefined;
  return { ...(header?.fields ?? {}) };
}
