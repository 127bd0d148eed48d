// `durabull task-queue describe`: which workers poll a task queue.
import type { CommandSpec } from '../command';
import { requiredString } from '../command';
import { formatTable, formatTime } from '../output';

const describe: CommandSpec = {
  words: ['task-queue', 'describe'],
  summary: 'list the workers that poll a task queue: identity, last seen, live, dead or stopped',
  usage: '--task-queue <queue>',
  options: {
    'task-queue': { type: 'string', short: 't', value: '<queue>', description: 'the task queue' },
  },
  details: [
    'Each worker records itself about every second while it runs; a worker that stopped refreshing',
    'its liveness (it crashed or lost Redis) is shown as dead, one that shut down as stopped, for 5',
    'minutes. With --output json it prints { taskQueue, pollers: [{ workerId, identity, lastSeen, state }] }.',
    '',
    'Example:',
    '  durabull task-queue describe --task-queue hello',
  ].join('\n'),
  async run(ctx, values) {
    const taskQueue = requiredString(values, 'task-queue', this);
    const client = await ctx.client();
    const pollers = await client.describeTaskQueue(taskQueue);
    if (ctx.jsonl) for (const poller of pollers) ctx.out(JSON.stringify({ taskQueue, ...poller }));
    else if (ctx.json) ctx.outJson({ taskQueue, pollers });
    else if (pollers.length === 0) ctx.out(`No worker has polled task queue ${JSON.stringify(taskQueue)} in the last 5 minutes.`);
    else {
      ctx.out(
        formatTable(
          ['WORKER ID', 'IDENTITY', 'STATE', 'LAST SEEN'],
          pollers.map((p) => [p.workerId, p.identity, p.state, formatTime(p.lastSeen)]),
        ),
      );
    }
    return 0;
  },
};

export const taskQueueCommands: CommandSpec[] = [describe];
