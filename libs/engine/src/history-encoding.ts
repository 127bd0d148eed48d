// How history events are stored compactly in their stream, and the one decoder every reader goes
// through. The writer is lua/includes/history.lua (append): its EVENT_CODES and ATTRIBUTE_CODES
// tables mirror the two lists below (history-encoding.spec.ts compares them). Attributes a worker
// sends whole (a workflow task's commands) it encodes itself with encodeAttributes, which writes
// exactly what the Lua writer would, so that Redis does not spend its time on it. A closed
// one-activity run's history takes about half the memory it took as plain names and JSON
// (BENCHMARKS.md, "Memory of a closed run").
//
// - Event type (field `t`): the 1-based index of its name in EVENT_TYPE_CODES, a small integer
//   that a listpack stores in a byte or two. A type missing from the list is stored by name, so a
//   new event type works before it gets a code. Append only: a code, once written, never changes.
// - Attributes (field `a`): the JSON text with each `"<name>":` of ATTRIBUTE_CODES replaced by its
//   code, and a JSON payload's `{"metadata":{"encoding":"json/plain"},"data":` by one byte. Codes
//   are control characters, which JSON text never holds unescaped, so decoding is one pass that
//   cannot mistake data for a code; plain JSON (no code) reads as it is. A code is one byte of
//   \x01-\x1e (tab, newline and carriage return left out) or \x1f followed by one printable byte.

/** Event types by code (code = index + 1). Append only. */
export const EVENT_TYPE_CODES: readonly string[] = [
  'WorkflowExecutionStarted',
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionCancelRequested',
  'WorkflowExecutionSignaled',
  'WorkflowExecutionUpdateAccepted',
  'WorkflowExecutionUpdateCompleted',
  'WorkflowTaskScheduled',
  'WorkflowTaskStarted',
  'WorkflowTaskCompleted',
  'WorkflowTaskTimedOut',
  'WorkflowTaskFailed',
  'ActivityTaskScheduled',
  'ActivityTaskStarted',
  'ActivityTaskCompleted',
  'ActivityTaskFailed',
  'ActivityTaskTimedOut',
  'ActivityTaskCancelRequested',
  'ActivityTaskCanceled',
  'TimerStarted',
  'TimerFired',
  'TimerCanceled',
  'MarkerRecorded',
  'WorkflowExecutionContinuedAsNew',
  'StartChildWorkflowExecutionInitiated',
  'StartChildWorkflowExecutionFailed',
  'ChildWorkflowExecutionStarted',
  'ChildWorkflowExecutionCompleted',
  'ChildWorkflowExecutionFailed',
  'ChildWorkflowExecutionCanceled',
  'ChildWorkflowExecutionTimedOut',
  'ChildWorkflowExecutionTerminated',
  'SignalExternalWorkflowExecutionInitiated',
  'SignalExternalWorkflowExecutionFailed',
  'ExternalWorkflowExecutionSignaled',
  'RequestCancelExternalWorkflowExecutionInitiated',
  'RequestCancelExternalWorkflowExecutionFailed',
  'ExternalWorkflowExecutionCancelRequested',
];

/** The JSON text a payload of the default converter's JSON encoding begins with, up to its data. */
export const JSON_PAYLOAD_PREFIX = '{"metadata":{"encoding":"json/plain"},"data":';

/**
 * Codes of the attribute text: the code, and the text it stands for (an attribute name stands
 * for `"<name>":`). Append only; the most frequent names have the one-byte codes.
 */
export const ATTRIBUTE_CODES: ReadonlyArray<readonly [code: string, name: string]> = [
  ['\x01', JSON_PAYLOAD_PREFIX],
  ['\x02', 'scheduledEventId'],
  ['\x03', 'startedEventId'],
  ['\x04', 'identity'],
  ['\x05', 'workflowTaskCompletedEventId'],
  ['\x06', 'taskQueue'],
  ['\x07', 'startToCloseTimeout'],
  ['\x08', 'attempt'],
  ['\x0b', 'input'],
  ['\x0c', 'result'],
  ['\x0e', 'activityId'],
  ['\x0f', 'activityType'],
  ['\x10', 'scheduleToCloseTimeout'],
  ['\x11', 'scheduleToStartTimeout'],
  ['\x12', 'heartbeatTimeout'],
  ['\x13', 'retryPolicy'],
  ['\x14', 'initialInterval'],
  ['\x15', 'backoffCoefficient'],
  ['\x16', 'maximumInterval'],
  ['\x17', 'maximumAttempts'],
  ['\x18', 'nonRetryableErrorTypes'],
  ['\x19', 'workflowType'],
  ['\x1a', 'workflowId'],
  ['\x1b', 'workflowExecutionTimeout'],
  ['\x1c', 'workflowRunTimeout'],
  ['\x1d', 'workflowTaskTimeout'],
  ['\x1e', 'firstExecutionRunId'],
  ['\x1fa', 'randomnessSeed'],
  ['\x1fb', 'timerId'],
  ['\x1fc', 'startToFireTimeout'],
  ['\x1fd', 'signalName'],
  ['\x1fe', 'details'],
  ['\x1ff', 'reason'],
  ['\x1fg', 'failure'],
  ['\x1fh', 'message'],
  ['\x1fi', 'source'],
  ['\x1fj', 'stackTrace'],
  ['\x1fk', 'cause'],
  ['\x1fl', 'applicationFailureInfo'],
  ['\x1fm', 'type'],
  ['\x1fn', 'nonRetryable'],
  ['\x1fo', 'header'],
  ['\x1fp', 'metadata'],
  ['\x1fq', 'encoding'],
  ['\x1fr', 'data'],
  ['\x1fs', 'requestId'],
  ['\x1ft', 'initiatedEventId'],
  ['\x1fu', 'namespace'],
  ['\x1fv', 'runId'],
  ['\x1fw', 'workflowExecution'],
  ['\x1fx', 'control'],
  ['\x1fy', 'markerName'],
  ['\x1fz', 'latestCancelRequestedEventId'],
  ['\x1fA', 'timeoutType'],
  ['\x1fB', 'lastFailure'],
  ['\x1fC', 'retryState'],
  ['\x1fD', 'memo'],
  ['\x1fE', 'searchAttributes'],
  ['\x1fF', 'parentWorkflowExecution'],
  ['\x1fG', 'parentInitiatedEventId'],
  ['\x1fH', 'continuedExecutionRunId'],
  ['\x1fI', 'initiator'],
  ['\x1fJ', 'newExecutionRunId'],
  ['\x1fK', 'updateId'],
  ['\x1fL', 'acceptedEventId'],
  ['\x1fM', 'protocolInstanceId'],
  ['\x1fN', 'acceptedRequest'],
  ['\x1fO', 'outcome'],
  ['\x1fP', 'success'],
  ['\x1fQ', 'meta'],
  ['\x1fR', 'name'],
  ['\x1fS', 'args'],
  ['\x1fT', 'canceledFailureInfo'],
  ['\x1fU', 'timeoutFailureInfo'],
  ['\x1fV', 'activityFailureInfo'],
  ['\x1fW', 'childWorkflowExecutionFailureInfo'],
  ['\x1fX', 'terminatedFailureInfo'],
  ['\x1fY', 'serverFailureInfo'],
  ['\x1fZ', 'encodedAttributes'],
];

/** What each code stands for: one-byte codes by char code, and \x1f codes by their second char code. */
const ONE_BYTE: Array<string | undefined> = [];
const ESCAPED = new Map<number, string>();
for (const [code, name] of ATTRIBUTE_CODES) {
  const text = name === JSON_PAYLOAD_PREFIX ? name : `"${name}":`;
  if (code.length === 1) ONE_BYTE[code.charCodeAt(0)] = text;
  else ESCAPED.set(code.charCodeAt(1), text);
}
/** The code of each attribute name. */
const CODE_OF_NAME = new Map(ATTRIBUTE_CODES.slice(1).map(([code, name]) => [name, code]));

/**
 * JSON attributes as they are stored: what `encode_attrs` (lua/includes/history.lua) writes, byte
 * for byte. A `"<name>":` is replaced where its name is ASCII letters only (Lua's `%a+`).
 */
export function encodeAttributes(json: string): string {
  const withPayloads = json.includes(JSON_PAYLOAD_PREFIX) ? json.split(JSON_PAYLOAD_PREFIX).join('\x01') : json;
  return withPayloads.replace(/"([A-Za-z]+)":/g, (text, name: string) => CODE_OF_NAME.get(name) ?? text);
}

const unknownCode = (code: string) => new Error(`History attributes hold an unknown code ${JSON.stringify(code)}`);

/** A stored event type (`t`): its code, or its name for a type without one. */
export function decodeEventType(stored: string): string {
  const code = stored.charCodeAt(0);
  // Names begin with a capital letter; codes are decimal.
  return code >= 0x30 && code <= 0x39 ? (EVENT_TYPE_CODES[Number(stored) - 1] ?? stored) : stored;
}

/** Stored attributes (`a`) as the JSON text they encode. */
export function decodeAttributes(stored: string): string {
  // One scan with charCodeAt and slices: three times as fast as a regular expression with a
  // replacer, and this runs for every event a worker or client reads.
  let decoded = '';
  let from = 0;
  for (let i = 0; i < stored.length; i++) {
    const c = stored.charCodeAt(i);
    // JSON whitespace (tab, newline, carriage return) is never a code.
    if (c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    const escaped = c === 0x1f;
    const text = escaped ? ESCAPED.get(stored.charCodeAt(i + 1)) : ONE_BYTE[c];
    if (text === undefined) throw unknownCode(stored.slice(i, escaped ? i + 2 : i + 1));
    decoded += stored.slice(from, i) + text;
    if (escaped) i++;
    from = i + 1;
  }
  return from === 0 ? stored : decoded + stored.slice(from);
}
