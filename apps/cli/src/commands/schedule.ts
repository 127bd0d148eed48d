// `durabull schedule ...`: create, list, describe, pause, unpause, trigger, backfill, delete
// (Temporal CLI's `temporal schedule` flag names).
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@durabull/sdk';
import type { Client, ScheduleDescription, ScheduleHandle, ScheduleOptions, ScheduleSpec } from '@durabull/sdk';
import type { CommandSpec, OptionSpec, OptionValues } from '../command';
import { inputArguments, inputOptions, optionalString, optionalStrings, parseJsonOption, requiredString } from '../command';
import type { CommandContext } from '../context';
import { CliError, UsageError } from '../errors';
import { formatKeyValues, formatTable, formatTime } from '../output';

const SCHEDULE_ID: Record<string, OptionSpec> = {
  'schedule-id': { type: 'string', short: 's', value: '<id>', description: 'schedule id' },
};
const OVERLAP: Record<string, OptionSpec> = {
  'overlap-policy': {
    type: 'string',
    value: '<policy>',
    description: `what a start due while the last run still runs does: ${Object.values(ScheduleOverlapPolicy).join(', ')}`,
    choices: Object.values(ScheduleOverlapPolicy),
  },
};

/** Runs `action` on the schedule, turning the schedule errors into one-line CLI errors. */
async function onSchedule<T>(ctx: CommandContext, scheduleId: string, action: (client: Client) => Promise<T>, create = false): Promise<T> {
  const client = await ctx.client({ create });
  try {
    return await action(client);
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw new CliError(`schedule ${JSON.stringify(scheduleId)} not found in namespace ${JSON.stringify(client.namespace)}`);
    }
    if (error instanceof ScheduleAlreadyRunning) throw new CliError(`schedule ${JSON.stringify(scheduleId)} already exists`);
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
}

function timeOption(values: OptionValues, name: string): Date | undefined {
  const text = optionalString(values, name);
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--${name} must be a time such as 2024-01-02T03:04:05Z, got ${JSON.stringify(text)}`);
  return time;
}

/** A spec as one line: its cron strings and intervals. */
export function formatSpec(spec: ScheduleDescription['spec']): string {
  const parts = [
    ...spec.cronExpressions,
    ...spec.intervals.map(({ every, offset }) => `every ${every / 1000}s${offset ? ` offset ${offset / 1000}s` : ''}`),
  ];
  return parts.join('; ') + (spec.timezone !== 'UTC' && spec.cronExpressions.length > 0 ? ` (${spec.timezone})` : '');
}

const create: CommandSpec = {
  words: ['schedule', 'create'],
  summary: 'create a schedule that starts a workflow at cron or interval times',
  usage: '--schedule-id <id> (--cron <expr> | --interval <every[/offset]>)... --type <WorkflowType> --task-queue <queue> --workflow-id <id> [options]',
  options: {
    ...SCHEDULE_ID,
    cron: { type: 'string', value: '<expr>', repeatable: true, description: 'a cron string, e.g. "0 12 * * MON-FRI" or @daily (repeatable)' },
    interval: { type: 'string', value: '<every[/offset]>', repeatable: true, description: 'an interval, e.g. 90m, or 60m/15m with an offset (repeatable)' },
    'start-time': { type: 'string', value: '<time>', description: 'no time before this one (ISO-8601)' },
    'end-time': { type: 'string', value: '<time>', description: 'no time after this one (ISO-8601)' },
    jitter: { type: 'string', value: '<duration>', description: 'delay each time by up to this much, e.g. 30s' },
    'time-zone': { type: 'string', value: '<zone>', description: 'IANA time zone of the cron strings (default UTC)' },
    type: { type: 'string', value: '<WorkflowType>', description: 'workflow type to start' },
    'task-queue': { type: 'string', short: 't', value: '<queue>', description: 'task queue of the workflow' },
    'workflow-id': { type: 'string', short: 'w', value: '<id>', description: 'workflow id; started runs get <id>-<scheduled time>' },
    ...inputOptions('workflow'),
    'execution-timeout': { type: 'string', value: '<duration>', description: 'timeout of each started execution' },
    'run-timeout': { type: 'string', value: '<duration>', description: 'timeout of each started run' },
    'task-timeout': { type: 'string', value: '<duration>', description: 'workflow task timeout (default 10s)' },
    memo: { type: 'string', value: '<JSON object>', description: 'memo of each started run' },
    ...OVERLAP,
    'catchup-window': { type: 'string', value: '<duration>', description: 'how late a missed time may still run (default 1 year, at least 10s)' },
    'pause-on-failure': { type: 'boolean', description: 'pause the schedule when a started run fails or times out' },
    paused: { type: 'boolean', description: 'create the schedule paused' },
    note: { type: 'string', value: '<text>', description: 'note of the schedule state (why it is paused)', aliases: ['notes'] },
    'remaining-actions': { type: 'string', value: '<n>', description: 'take this many scheduled actions, then stop' },
  },
  details: [
    'Example:',
    '  durabull schedule create --schedule-id nightly --cron "0 2 * * *" --type Report --task-queue reports --workflow-id report',
  ].join('\n'),
  async run(ctx, values) {
    const scheduleId = requiredString(values, 'schedule-id', this);
    const options = scheduleOptions(values, this);
    await onSchedule(ctx, scheduleId, (client) => client.createSchedule(scheduleId, options), true);
    if (ctx.json) ctx.outJson({ scheduleId });
    else ctx.out(`Schedule ${scheduleId} created.`);
    return 0;
  },
};

const update: CommandSpec = {
  ...create,
  words: ['schedule', 'update'],
  summary: 'replace a schedule\'s spec, action, policies and state (the options of create)',
  details: [
    'Every option of create, which replace the schedule\'s: what is not given takes its default.',
    'Times due before the update are discarded.',
  ].join('\n'),
  async run(ctx, values) {
    const scheduleId = requiredString(values, 'schedule-id', this);
    const options = scheduleOptions(values, this);
    await onSchedule(ctx, scheduleId, (client) => client.getScheduleHandle(scheduleId).update(() => options));
    if (ctx.json) ctx.outJson({ scheduleId });
    else ctx.out(`Schedule ${scheduleId} updated.`);
    return 0;
  },
};

/** The schedule options create's (and update's) flags give. @throws UsageError */
function scheduleOptions(values: OptionValues, command: CommandSpec): ScheduleOptions {
  const cronExpressions = optionalStrings(values, 'cron');
  const intervals = optionalStrings(values, 'interval').map((text) => {
    const [every = '', offset, extra] = text.split('/');
    if (extra !== undefined) throw new UsageError(`--interval must be <every> or <every>/<offset>, got ${JSON.stringify(text)}`);
    return offset === undefined ? { every } : { every, offset };
  });
  if (cronExpressions.length === 0 && intervals.length === 0) throw new UsageError(`durabull ${command.words.join(' ')} needs --cron or --interval`);
  const memo = parseJsonOption(values, 'memo');
  const remaining = optionalString(values, 'remaining-actions');
  if (remaining !== undefined && !/^\d+$/.test(remaining)) throw new UsageError(`--remaining-actions must be an integer >= 0, got ${JSON.stringify(remaining)}`);
  const spec: ScheduleSpec = {
    cronExpressions,
    intervals,
    startAt: timeOption(values, 'start-time'),
    endAt: timeOption(values, 'end-time'),
    jitter: optionalString(values, 'jitter'),
    timezone: optionalString(values, 'time-zone'),
  };
  return {
    action: {
      workflow: requiredString(values, 'type', command),
      taskQueue: requiredString(values, 'task-queue', command),
      id: requiredString(values, 'workflow-id', command),
      args: inputArguments(values),
      executionTimeout: optionalString(values, 'execution-timeout'),
      runTimeout: optionalString(values, 'run-timeout'),
      taskTimeout: optionalString(values, 'task-timeout'),
      memo: memo?.value as Record<string, unknown> | undefined,
    },
    spec,
    policies: {
      overlap: optionalString(values, 'overlap-policy') as ScheduleOverlapPolicy | undefined,
      catchupWindow: optionalString(values, 'catchup-window'),
      pauseOnFailure: values['pause-on-failure'] === true,
    },
    state: {
      paused: values['paused'] === true,
      note: optionalString(values, 'note'),
      remainingActions: remaining === undefined ? undefined : Number(remaining),
    },
  };
}

const list: CommandSpec = {
  words: ['schedule', 'list'],
  summary: 'list the schedules: spec, next run, paused, recent actions',
  usage: '',
  options: {},
  async run(ctx) {
    const client = await ctx.client();
    const schedules = [];
    for await (const summary of client.listSchedules()) schedules.push(summary);
    if (ctx.jsonl) for (const schedule of schedules) ctx.out(JSON.stringify(schedule));
    else if (ctx.json) ctx.outJson(schedules);
    else if (schedules.length === 0) ctx.out('No schedules.');
    else {
      ctx.out(
        formatTable(
          ['SCHEDULE ID', 'WORKFLOW TYPE', 'SPEC', 'PAUSED', 'NEXT RUN', 'RECENT ACTIONS'],
          schedules.map((s) => [
            s.scheduleId,
            s.action.workflowType,
            formatSpec(s.spec),
            s.state.paused ? 'yes' : 'no',
            formatTime(s.info.nextActionTimes[0]),
            String(s.info.recentActions.length),
          ]),
        ),
      );
    }
    return 0;
  },
};

const describe: CommandSpec = {
  words: ['schedule', 'describe'],
  summary: 'show a schedule: spec, policies, state, recent actions and next run times',
  usage: '--schedule-id <id>',
  options: { ...SCHEDULE_ID },
  async run(ctx, values) {
    const scheduleId = requiredString(values, 'schedule-id', this);
    const description = await onSchedule(ctx, scheduleId, (client) => client.getScheduleHandle(scheduleId).describe());
    if (ctx.json) {
      ctx.outJson(description);
      return 0;
    }
    const { action, policies, state, info } = description;
    ctx.out(
      formatKeyValues([
        ['ScheduleId', scheduleId],
        ['Spec', formatSpec(description.spec)],
        ['WorkflowType', action.workflow],
        ['WorkflowId', action.id],
        ['TaskQueue', action.taskQueue],
        ['OverlapPolicy', policies.overlap],
        ['Paused', state.paused ? 'yes' : 'no'],
        ['Note', state.note],
        ['RemainingActions', state.remainingActions === undefined ? 'unlimited' : String(state.remainingActions)],
        ['ActionCount', String(info.numActionsTaken)],
        ['SkippedOverlap', String(info.numActionsSkippedOverlap)],
        ['MissedCatchupWindow', String(info.numActionsMissedCatchupWindow)],
        ['NextRuns', info.nextActionTimes.slice(0, 5).map(formatTime).join(', ') || '-'],
      ]),
    );
    if (info.recentActions.length > 0) {
      ctx.out('');
      ctx.out(
        formatTable(
          ['SCHEDULED AT', 'TAKEN AT', 'WORKFLOW ID', 'STATUS'],
          info.recentActions.map((a) => [formatTime(a.scheduledAt), formatTime(a.takenAt), a.action.workflow.workflowId, a.status]),
        ),
      );
    }
    return 0;
  },
};

/** A command acting on one schedule, printing `done` (or `{ scheduleId }` as JSON). */
function act(
  word: string,
  summary: string,
  options: Record<string, OptionSpec>,
  action: (handle: ScheduleHandle, values: OptionValues) => Promise<void>,
  done: string,
): CommandSpec {
  return {
    words: ['schedule', word],
    summary,
    usage: `--schedule-id <id>${Object.keys(options).map((name) => ` [--${name}]`).join('')}`,
    options: { ...SCHEDULE_ID, ...options },
    async run(ctx, values) {
      const scheduleId = requiredString(values, 'schedule-id', this);
      await onSchedule(ctx, scheduleId, (client) => action(client.getScheduleHandle(scheduleId), values));
      if (ctx.json) ctx.outJson({ scheduleId });
      else ctx.out(`Schedule ${scheduleId} ${done}.`);
      return 0;
    },
  };
}

const NOTE: Record<string, OptionSpec> = { note: { type: 'string', value: '<text>', description: 'why (shown by describe)', aliases: ['reason'] } };

export const scheduleCommands: CommandSpec[] = [
  create,
  update,
  list,
  describe,
  act('pause', 'pause a schedule: its times are skipped until unpaused', NOTE, (h, v) => h.pause(optionalString(v, 'note') ?? 'Paused via durabull CLI'), 'paused'),
  act('unpause', 'unpause a schedule (times that passed while paused do not run)', NOTE, (h, v) => h.unpause(optionalString(v, 'note') ?? 'Unpaused via durabull CLI'), 'unpaused'),
  act('trigger', 'start the schedule\'s action now (also while paused)', OVERLAP, (h, v) => h.trigger(optionalString(v, 'overlap-policy') as ScheduleOverlapPolicy | undefined), 'triggered'),
  act(
    'backfill',
    'take every spec time of a past range now',
    {
      'start-time': { type: 'string', value: '<time>', description: 'first time of the range (inclusive, ISO-8601)' },
      'end-time': { type: 'string', value: '<time>', description: 'last time of the range (inclusive, ISO-8601)' },
      ...OVERLAP,
    },
    async (h, v) => {
      const start = timeOption(v, 'start-time');
      const end = timeOption(v, 'end-time');
      if (!start || !end) throw new UsageError('durabull schedule backfill needs --start-time and --end-time');
      await h.backfill({ start, end, overlap: optionalString(v, 'overlap-policy') as ScheduleOverlapPolicy | undefined });
    },
    'backfilled',
  ),
  act('delete', 'delete a schedule (the runs it started go on)', {}, (h) => h.delete(), 'deleted'),
];
