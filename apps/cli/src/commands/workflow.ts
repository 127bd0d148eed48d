// `durabull workflow ...`: start, execute, describe, show, list, count, result, cancel, terminate, delete.
import { randomUUID } from 'node:crypto';
import { CancelledError, TerminatedError, TimeoutError, WORKFLOW_CLOSE_EVENT_TYPES, WorkflowExecutionStatus, WorkflowFailureError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, formatHistoryTable } from '@durabull/sdk';
import type { Client, HistoryEvent, WorkflowHistory, WorkflowListFilter } from '@durabull/sdk';
import type { CommandSpec, OptionSpec, OptionValues } from '../command';
import { ID, RUN_ID, inputArguments, inputOptions, optionalPositiveInteger, optionalString, parseJsonOption, requiredString } from '../command';
import type { CommandContext } from '../context';
import { UsageError } from '../errors';
import { queryCommand } from './query';
import { signalCommand } from './signal';
import { updateCommand } from './update';
import { describeExecution, describeJson, errorJson, executionsTable, followHeader, followLine, formatKeyValues } from '../output';


const START_OPTIONS: Record<string, OptionSpec> = {
  type: { type: 'string', value: '<WorkflowType>', description: 'workflow type (the @WorkflowDefn name)' },
  'task-queue': { type: 'string', short: 't', value: '<queue>', description: 'task queue whose workers run the workflow' },
  'workflow-id': { ...ID['workflow-id']!, description: 'workflow id (default: a new UUID)' },
  ...inputOptions('workflow'),
  'task-timeout': { type: 'string', value: '<duration>', description: 'workflow task timeout, e.g. 10s (default 10s, at most 120s)' },
  'execution-timeout': { type: 'string', value: '<duration>', description: 'timeout of the whole execution, e.g. 1h (default: none)' },
  'run-timeout': { type: 'string', value: '<duration>', description: 'timeout of one run (default: the execution timeout)' },
  'id-reuse-policy': {
    type: 'string',
    value: '<policy>',
    description: `when the id's last run has closed: ${Object.values(WorkflowIdReusePolicy).join(', ')} (default ALLOW_DUPLICATE)`,
  },
  'id-conflict-policy': {
    type: 'string',
    value: '<policy>',
    description: `when a run of the id is running: ${Object.values(WorkflowIdConflictPolicy).join(', ')} (default FAIL)`,
  },
  memo: { type: 'string', value: '<JSON object>', description: 'values kept with the run, shown by describe' },
  'start-signal': {
    type: 'string',
    value: '<signal>',
    description: 'signal-with-start: send this signal with the start; a running run of the id is signalled instead',
  },
  'start-signal-args': { type: 'string', value: '<JSON array>', description: "the start signal's arguments (default [])" },
  'start-delay': { type: 'string', value: '<duration>', description: 'time before the first workflow task, e.g. 30s (default: none)' },
  cron: { type: 'string', value: '<schedule>', description: 'cron schedule of the workflow\'s runs, e.g. "*/15 * * * *" or @hourly (UTC; default: none)' },
};
const FILTER_OPTIONS: Record<string, OptionSpec> = {
  status: { type: 'string', value: '<status>', description: `only runs in this status: ${Object.values(WorkflowExecutionStatus).join(', ')}` },
  type: { type: 'string', value: '<WorkflowType>', description: 'only runs of this workflow type' },
  'task-queue': { type: 'string', short: 't', value: '<queue>', description: 'only runs on this task queue' },
};

/** The `{ workflowId, runId }` a command acts on: `--run-id`, else the id's current run. */
async function resolveRun(client: Client, workflowId: string, runId: string | undefined): Promise<{ workflowId: string; runId: string }> {
  if (runId !== undefined) return { workflowId, runId };
  const description = await client.getWorkflowHandle(workflowId).describe();
  return { workflowId, runId: description.runId };
}

/** The status a run closed with, from the cause of its WorkflowFailureError. */
function closeStatus(cause: unknown): WorkflowExecutionStatus {
  if (cause instanceof CancelledError) return WorkflowExecutionStatus.CANCELED;
  if (cause instanceof TerminatedError) return WorkflowExecutionStatus.TERMINATED;
  if (cause instanceof TimeoutError) return WorkflowExecutionStatus.TIMED_OUT;
  return WorkflowExecutionStatus.FAILED;
}

/**
 * Waits for a run's result and prints it; a run that did not complete is printed, with `-o json`,
 * as `{ workflowId, runId, status, failure }` (exit code 1 either way).
 */
async function printResult(ctx: CommandContext, ref: { workflowId: string; runId: string }, result: Promise<unknown>, table: (value: unknown) => string): Promise<number> {
  let value: unknown;
  try {
    value = await ctx.untilInterrupted(result);
  } catch (error) {
    if (!(ctx.json && error instanceof WorkflowFailureError)) throw error;
    ctx.outJson({ ...ref, status: closeStatus(error.cause), failure: errorJson(error.cause) });
    return 1;
  }
  if (ctx.json) ctx.outJson({ ...ref, status: WorkflowExecutionStatus.COMPLETED, result: value ?? null });
  else ctx.out(table(value ?? null));
  return 0;
}

async function startWorkflow(ctx: CommandContext, values: OptionValues, command: CommandSpec) {
  const workflowType = requiredString(values, 'type', command);
  const taskQueue = requiredString(values, 'task-queue', command);
  const id = optionalString(values, 'workflow-id') || randomUUID();
  const args = inputArguments(values);
  const client = await ctx.client({ create: true });
  return client.startWorkflow(workflowType, {
    id,
    taskQueue,
    args,
    taskTimeout: optionalString(values, 'task-timeout'),
    executionTimeout: optionalString(values, 'execution-timeout'),
    runTimeout: optionalString(values, 'run-timeout'),
    idReusePolicy: optionalString(values, 'id-reuse-policy') as WorkflowIdReusePolicy | undefined,
    idConflictPolicy: optionalString(values, 'id-conflict-policy') as WorkflowIdConflictPolicy | undefined,
    memo: memoOption(values),
    ...startSignalOptions(values),
    startDelay: optionalString(values, 'start-delay'),
    cronSchedule: optionalString(values, 'cron'),
  });
}

/** `--start-signal` and `--start-signal-args` as the start options `startSignal`, `startSignalArgs`. */
function startSignalOptions(values: OptionValues): { startSignal?: string; startSignalArgs?: unknown[] } {
  const startSignal = optionalString(values, 'start-signal');
  const args = parseJsonOption(values, 'start-signal-args');
  if (args && startSignal === undefined) throw new UsageError('--start-signal-args needs --start-signal');
  if (args && !Array.isArray(args.value)) throw new UsageError(`--start-signal-args must be a JSON array, got ${JSON.stringify(args.value)}`);
  return startSignal === undefined ? {} : { startSignal, startSignalArgs: args ? (args.value as unknown[]) : [] };
}

function memoOption(values: OptionValues): Record<string, unknown> | undefined {
  const memo = parseJsonOption(values, 'memo');
  if (!memo) return undefined;
  if (typeof memo.value !== 'object' || memo.value === null || Array.isArray(memo.value)) {
    throw new UsageError(`--memo must be a JSON object, got ${JSON.stringify(memo.value)}`);
  }
  return memo.value as Record<string, unknown>;
}

const start: CommandSpec = {
  words: ['workflow', 'start'],
  summary: 'start a workflow and print its workflow id and run id',
  usage: '--type <WorkflowType> --task-queue <queue> [--workflow-id <workflowId>] [--input <JSON>]... [options]',
  options: START_OPTIONS,
  details: [
    'It creates the namespace when no client or worker has opened it yet.',
    '',
    'Example:',
    `  durabull workflow start --type YourWorkflow --task-queue hello --workflow-id greet-1 --input '"World"'`,
  ].join('\n'),
  async run(ctx, values) {
    const handle = await startWorkflow(ctx, values, this);
    if (ctx.json) ctx.outJson({ workflowId: handle.workflowId, runId: handle.runId });
    else ctx.out(formatKeyValues([['WorkflowId', handle.workflowId], ['RunId', handle.runId ?? '']]));
    return 0;
  },
};

const execute: CommandSpec = {
  words: ['workflow', 'execute'],
  summary: 'start a workflow, wait for it to close and print its result (exit code 1 when it did not complete)',
  usage: start.usage,
  options: START_OPTIONS,
  details: [
    'With --output json a run that did not complete prints { workflowId, runId, status, failure }.',
    '',
    'Example:',
    `  durabull workflow execute --type YourWorkflow --task-queue hello --workflow-id greet-2 --input '"World"'`,
  ].join('\n'),
  async run(ctx, values) {
    const handle = await startWorkflow(ctx, values, this);
    const runId = handle.runId ?? '';
    // Ids first, so they are known while the workflow runs. Keys padded to the longest, WorkflowId.
    if (!ctx.json) ctx.out(formatKeyValues([['WorkflowId', handle.workflowId], ['RunId', runId]]));
    return printResult(ctx, { workflowId: handle.workflowId, runId }, handle.result(), (value) => `${'Result'.padEnd('WorkflowId'.length)}  ${JSON.stringify(value)}`);
  },
};

const describe: CommandSpec = {
  words: ['workflow', 'describe'],
  summary: 'print the status and facts of a workflow run: memo, result or failure once closed, pending activities',
  usage: '--workflow-id <workflowId> [--run-id <runId>]',
  options: { ...ID, ...RUN_ID },
  async run(ctx, values) {
    const client = await ctx.client();
    const handle = client.getWorkflowHandle(requiredString(values, 'workflow-id', this), optionalString(values, 'run-id'));
    const description = await handle.describe();
    if (ctx.json) ctx.outJson(describeJson(description));
    else ctx.out(describeExecution(description));
    return 0;
  },
};

const result: CommandSpec = {
  words: ['workflow', 'result'],
  summary: 'wait for a workflow run to close and print its result (exit code 1 when it did not complete)',
  usage: '--workflow-id <workflowId> [--run-id <runId>]',
  options: { ...ID, ...RUN_ID },
  details: 'With --output json a run that did not complete prints { workflowId, runId, status, failure }.',
  async run(ctx, values) {
    const client = await ctx.client();
    const ref = await resolveRun(client, requiredString(values, 'workflow-id', this), optionalString(values, 'run-id'));
    return printResult(ctx, ref, client.getWorkflowHandle(ref.workflowId, ref.runId).result(), (value) => JSON.stringify(value));
  },
};

const cancel: CommandSpec = {
  words: ['workflow', 'cancel'],
  summary: 'request cancellation of a running workflow (its code may clean up)',
  usage: '--workflow-id <workflowId> [--run-id <runId>] [--reason <text>]',
  options: { ...ID, ...RUN_ID, reason: { type: 'string', value: '<text>', description: 'why, recorded in history' } },
  async run(ctx, values) {
    const client = await ctx.client();
    const ref = await resolveRun(client, requiredString(values, 'workflow-id', this), optionalString(values, 'run-id'));
    await client.getWorkflowHandle(ref.workflowId, ref.runId).cancel(optionalString(values, 'reason') ?? '');
    if (ctx.json) ctx.outJson({ ...ref, cancelRequested: true });
    else ctx.out(`Requested cancellation of workflow ${JSON.stringify(ref.workflowId)} (run ${ref.runId})`);
    return 0;
  },
};

const terminate: CommandSpec = {
  words: ['workflow', 'terminate'],
  summary: 'end a running workflow at once (no workflow code runs)',
  usage: '--workflow-id <workflowId> [--run-id <runId>] [--reason <text>]',
  options: { ...ID, ...RUN_ID, reason: { type: 'string', value: '<text>', description: 'why, recorded in history' } },
  async run(ctx, values) {
    const client = await ctx.client();
    const ref = await resolveRun(client, requiredString(values, 'workflow-id', this), optionalString(values, 'run-id'));
    await client.getWorkflowHandle(ref.workflowId, ref.runId).terminate(optionalString(values, 'reason') ?? '');
    if (ctx.json) ctx.outJson({ ...ref, terminated: true });
    else ctx.out(`Terminated workflow ${JSON.stringify(ref.workflowId)} (run ${ref.runId})`);
    return 0;
  },
};

const deleteRun: CommandSpec = {
  words: ['workflow', 'delete'],
  summary: "delete a workflow run now: its history, state and index entries (a running one is terminated first)",
  usage: '--workflow-id <workflowId> [--run-id <runId>]',
  options: { ...ID, ...RUN_ID },
  details: [
    'Closed runs are also deleted by themselves once the namespace\'s retention has passed (72h unless a',
    'client set another). Afterwards the workflow id can be started again.',
    '',
    'Example:',
    '  durabull workflow delete --workflow-id greet-1',
  ].join('\n'),
  async run(ctx, values) {
    const client = await ctx.client();
    const ref = await resolveRun(client, requiredString(values, 'workflow-id', this), optionalString(values, 'run-id'));
    await client.getWorkflowHandle(ref.workflowId, ref.runId).delete();
    if (ctx.json) ctx.outJson({ ...ref, deleted: true });
    else ctx.out(`Deleted workflow ${JSON.stringify(ref.workflowId)} (run ${ref.runId})`);
    return 0;
  },
};

const show: CommandSpec = {
  words: ['workflow', 'show'],
  summary: "print a run's history as a table; --follow streams new events until the run closes",
  usage: '--workflow-id <workflowId> [--run-id <runId>] [--follow] [--output json]',
  options: {
    ...ID,
    ...RUN_ID,
    follow: { type: 'boolean', short: 'f', description: 'keep printing events as they are appended, until the run closes' },
  },
  details: [
    'With --output json it prints the history file the Replayer accepts: { workflowId, runId, events };',
    'with --output jsonl (or json with --follow) one event per line, as JSON, as they are appended.',
    '',
    'Example:',
    '  durabull workflow show --workflow-id greet-1 --output json > greet-1.json',
  ].join('\n'),
  async run(ctx, values) {
    const client = await ctx.client();
    const ref = await resolveRun(client, requiredString(values, 'workflow-id', this), optionalString(values, 'run-id'));
    const events = await client.getWorkflowHandle(ref.workflowId, ref.runId).fetchHistory();
    if (values['follow'] === true) return follow(ctx, client, ref, events);
    if (ctx.jsonl) events.forEach((event) => ctx.out(JSON.stringify(event)));
    else if (ctx.json) ctx.outJson({ workflowId: ref.workflowId, runId: ref.runId, events } satisfies WorkflowHistory);
    else ctx.out(formatHistoryTable(events));
    return 0;
  },
};

/** Prints `events`, then every event appended to the run's history, until its close event. */
async function follow(ctx: CommandContext, client: Client, ref: { workflowId: string; runId: string }, events: HistoryEvent[]): Promise<number> {
  const print = (event: HistoryEvent) => (ctx.json ? ctx.out(JSON.stringify(event)) : ctx.out(followLine(event)));
  if (!ctx.json) ctx.out(followHeader());
  events.forEach(print);
  const last = events.at(-1);
  if (last && WORKFLOW_CLOSE_EVENT_TYPES.has(last.eventType)) return 0;
  const handle = client.getWorkflowHandle(ref.workflowId, ref.runId);
  // Ctrl-C ends the follow: the user stopped watching, which is not a failure.
  for await (const event of handle.followHistory({ afterEventId: last?.eventId ?? 0, signal: ctx.io.signal })) print(event);
  return 0;
}

function listFilter(values: OptionValues): WorkflowListFilter {
  const statusText = optionalString(values, 'status');
  let status: WorkflowExecutionStatus | undefined;
  if (statusText !== undefined) {
    status = Object.values(WorkflowExecutionStatus).find((s) => s === statusText.toUpperCase());
    if (!status) {
      throw new UsageError(`--status must be one of ${Object.values(WorkflowExecutionStatus).join(', ')}, got ${JSON.stringify(statusText)}`);
    }
  }
  const filter: WorkflowListFilter = {};
  if (status) filter.status = status;
  const workflowType = optionalString(values, 'type');
  if (workflowType !== undefined) filter.workflowType = workflowType;
  const taskQueue = optionalString(values, 'task-queue');
  if (taskQueue !== undefined) filter.taskQueue = taskQueue;
  return filter;
}

const list: CommandSpec = {
  words: ['workflow', 'list'],
  summary: 'list workflow runs, newest first, a page at a time',
  usage: '[--status <status>] [--type <WorkflowType>] [--task-queue <queue>] [--page-size <n>] [--page-token <token> | --all]',
  options: {
    ...FILTER_OPTIONS,
    'page-size': { type: 'string', value: '<n>', description: 'runs per page, 1 to 10000 (default 100)' },
    'page-token': { type: 'string', value: '<token>', description: 'the page after the one that printed this token' },
    all: { type: 'boolean', description: 'every page' },
  },
  details: 'With --output json it prints { executions, nextPageToken }; with --output jsonl one run per line.',
  async run(ctx, values) {
    const filter = listFilter(values);
    const pageSize = optionalPositiveInteger(values, 'page-size', 10_000) ?? 100;
    const client = await ctx.client();
    let pageToken = optionalString(values, 'page-token');
    const executions = [];
    do {
      const page = await client.listWorkflowsPage(filter, { pageSize, pageToken });
      executions.push(...page.executions);
      pageToken = page.nextPageToken;
    } while (values['all'] === true && pageToken !== undefined);
    if (ctx.jsonl) {
      for (const execution of executions) ctx.out(JSON.stringify(execution));
    } else if (ctx.json) {
      ctx.outJson({ executions, nextPageToken: pageToken ?? null });
    } else {
      ctx.out(executions.length > 0 ? executionsTable(executions) : 'No workflow runs.');
      if (pageToken !== undefined) ctx.out(`\nNext page: --page-token ${pageToken}`);
    }
    return 0;
  },
};

const count: CommandSpec = {
  words: ['workflow', 'count'],
  summary: 'count workflow runs',
  usage: '[--status <status>] [--type <WorkflowType>] [--task-queue <queue>]',
  options: FILTER_OPTIONS,
  async run(ctx, values) {
    const filter = listFilter(values);
    const client = await ctx.client();
    const total = await client.countWorkflows(filter);
    if (ctx.json) ctx.outJson({ count: total });
    else ctx.out(String(total));
    return 0;
  },
};

export const workflowCommands: CommandSpec[] = [start, execute, describe, show, list, count, result, signalCommand, queryCommand, updateCommand, cancel, terminate, deleteRun];
