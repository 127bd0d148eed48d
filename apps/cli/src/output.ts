// How the CLI prints: aligned text tables for people, pretty JSON for programs (`--output json`).
import { EventType, formatHistoryTable } from '@durabull/sdk';
import type { HistoryEvent, WorkflowExecutionDescription, WorkflowExecutionDetails } from '@durabull/sdk';
import { oneLine } from './errors';

/** Where a command writes: functions taking text (the CLI adds the newlines). */
export interface CliIO {
  /** Standard output: what a command produces. */
  stdout: (text: string) => void;
  /** Standard error: errors and notes for people. */
  stderr: (text: string) => void;
  /** Environment (REDIS_URL, PATH, DURABULL_DEBUG). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C: `dev` stops its server, `show --follow` and waiting commands stop. */
  signal?: AbortSignal;
}

export type OutputFormat = 'table' | 'json' | 'jsonl';

/** Pretty JSON (two-space indentation), as `--output json` prints every document. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

/**
 * Rows as a fixed-width table: columns separated by two spaces, each as wide as its widest cell,
 * trailing spaces trimmed (the layout of `formatHistoryTable`).
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const table = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  return table
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** `key  value` lines, keys aligned. */
export function formatKeyValues(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

/** A time as ISO-8601 UTC, or `-` when there is none. */
export function formatTime(time: Date | undefined): string {
  return time === undefined ? '-' : time.toISOString();
}

export function describeExecution(run: WorkflowExecutionDescription | WorkflowExecutionDetails): string {
  const pairs: Array<readonly [string, string]> = [
    ['WorkflowId', run.workflowId],
    ['RunId', run.runId],
    ['Type', run.workflowType],
    ['Status', run.status],
    ['TaskQueue', run.taskQueue],
    ['StartTime', formatTime(run.startTime)],
    ['CloseTime', formatTime(run.closeTime)],
    ['HistoryLength', String(run.historyLength)],
  ];
  if (!('pendingActivities' in run)) return formatKeyValues(pairs);
  if (Object.keys(run.memo).length > 0) pairs.push(['Memo', JSON.stringify(run.memo)]);
  if ('result' in run) pairs.push(['Result', JSON.stringify(run.result ?? null)]);
  if (run.failure) pairs.push(['Failure', formatCauseChain(run.failure)]);
  const task = run.pendingWorkflowTask;
  if (task) {
    pairs.push(['WorkflowTask', `${task.state}, attempt ${task.attempt}`]);
    if (task.lastFailure) pairs.push(['WorkflowTaskFailure', `${task.lastFailureCause}: ${formatCauseChain(task.lastFailure)}`]);
  }
  const text = formatKeyValues(pairs);
  if (run.pendingActivities.length === 0) return text;
  const activities = formatTable(
    ['ACTIVITY ID', 'TYPE', 'STATE', 'ATTEMPT', 'LAST HEARTBEAT', 'NEXT ATTEMPT', 'LAST FAILURE'],
    run.pendingActivities.map((a) => [
      a.activityId,
      a.activityType,
      a.state,
      a.maximumAttempts > 0 ? `${a.attempt}/${a.maximumAttempts}` : String(a.attempt),
      a.lastHeartbeatTime ? `${formatTime(a.lastHeartbeatTime)} ${JSON.stringify(a.heartbeatDetails ?? [])}` : '-',
      formatTime(a.nextAttemptScheduleTime),
      a.lastFailure ? formatCauseChain(a.lastFailure) : '-',
    ]),
  );
  return `${text}\n\nPending activities:\n${activities}`;
}

/** An error as `--output json` prints it: its class, message, type (ApplicationError) and cause. */
export function errorJson(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const type = (error as { type?: unknown }).type;
  return {
    name: error.name,
    message: error.message,
    ...(typeof type === 'string' ? { type } : {}),
    ...(error.cause === undefined ? {} : { cause: errorJson(error.cause) }),
  };
}

/** `describe()`'s answer as `--output json` prints it: errors as `{ name, message, type?, cause? }`. */
export function describeJson(run: WorkflowExecutionDetails): unknown {
  return {
    ...run,
    ...(run.failure ? { failure: errorJson(run.failure) } : {}),
    pendingActivities: run.pendingActivities.map((a) => (a.lastFailure ? { ...a, lastFailure: errorJson(a.lastFailure) } : a)),
    ...(run.pendingWorkflowTask?.lastFailure
      ? { pendingWorkflowTask: { ...run.pendingWorkflowTask, lastFailure: errorJson(run.pendingWorkflowTask.lastFailure) } }
      : {}),
  };
}

export function executionsTable(executions: readonly WorkflowExecutionDescription[]): string {
  return formatTable(
    ['WORKFLOW ID', 'RUN ID', 'TYPE', 'STATUS', 'TASK QUEUE', 'START TIME', 'CLOSE TIME'],
    executions.map((run) => [
      run.workflowId,
      run.runId,
      run.workflowType,
      run.status,
      run.taskQueue,
      formatTime(run.startTime),
      formatTime(run.closeTime),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// History rows for `show --follow`: the table grows while the run runs, so the columns get fixed
// widths up front (the longest event type) instead of the widest cell `formatHistoryTable` uses.
// The DETAILS cell is still `formatHistoryTable`'s, cut out of a one-event table.
// ---------------------------------------------------------------------------------------------

const FOLLOW_WIDTHS = [4, 12, Math.max(...Object.values(EventType).map((type) => type.length))] as const;

/** The TIME cell `formatHistoryTable` prints for an event. */
function timeCell(eventTime: string): string {
  const time = new Date(eventTime);
  return Number.isNaN(time.getTime()) ? String(eventTime) : time.toISOString().slice(11, 23);
}

/** The cells `formatHistoryTable` prints for one event: ID, TIME, TYPE, DETAILS. */
export function historyCells(event: HistoryEvent): [string, string, string, string] {
  const id = String(event.eventId);
  const time = timeCell(event.eventTime);
  const type = String(event.eventType);
  const line = formatHistoryTable([event]).split('\n')[1] ?? '';
  // One-event table: each column is as wide as the wider of its header and this event's cell.
  const start = Math.max(2, id.length) + 2 + Math.max(4, time.length) + 2 + Math.max(4, type.length) + 2;
  return [id, time, type, line.slice(start)];
}

function followRow(cells: readonly string[]): string {
  return cells.map((cell, column) => (column < FOLLOW_WIDTHS.length ? cell.padEnd(FOLLOW_WIDTHS[column] ?? 0) : cell)).join('  ').trimEnd();
}

/** The header line of a followed history table. */
export function followHeader(): string {
  return followRow(['ID', 'TIME', 'TYPE', 'DETAILS']);
}

/** One event as a line of a followed history table (same columns as the header). */
export function followLine(event: HistoryEvent): string {
  return followRow(historyCells(event));
}

// ---------------------------------------------------------------------------------------------

/** An error and its causes on one line: `Name: message; caused by Name: message; ...`. */
export function formatCauseChain(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let current: unknown = error; current !== undefined && current !== null && !seen.has(current); ) {
    seen.add(current);
    if (current instanceof Error) {
      const type = (current as { type?: unknown }).type;
      const tag = typeof type === 'string' && type !== '' && type !== current.name ? `${current.name}(${type})` : current.name;
      parts.push(current.message ? `${tag}: ${oneLine(current.message)}` : tag);
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(oneLine(String(current)));
      break;
    }
  }
  return parts.join('; caused by ');
}
