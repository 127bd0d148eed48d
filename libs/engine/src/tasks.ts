import { QueueNames } from './keys';
import type { NamespaceKeys } from './keys';
import type { StreamEntry } from './replies';

/**
 * Tasks as the scripts write them into a shard's outbox ("<kind>|...|<workflowId>", the workflow
 * id last because it may contain '|') and as BullMQ jobs carry them. Job ids are deterministic, so
 * dispatching the same task twice (a sweep after a crash) adds one job.
 */
export type Task = WorkflowTask | ActivityTask | WakeTask | MessageTask;

export interface WorkflowTask {
  kind: 'workflow';
  runId: string;
  token: string;
  /** The task queue, or `@<workerId>` for that worker's sticky queue. */
  queue: string;
  workflowId: string;
}

export interface ActivityTask {
  kind: 'activity';
  runId: string;
  scheduledEventId: number;
  attempt: number;
  taskQueue: string;
  workflowId: string;
}

export interface WakeTask {
  kind: 'wake';
  shard: number;
  at: number;
}

/**
 * A message from one run to another (a signal or a cancellation request for another workflow):
 * the sender's command event `initiatedEventId` says what and to whom.
 */
export interface MessageTask {
  kind: 'message';
  runId: string;
  initiatedEventId: number;
  workflowId: string;
}

/** BullMQ job data of a message between runs: the sender and its initiating event. */
export interface MessageJobData {
  runId: string;
  workflowId: string;
  initiatedEventId: number;
}

/** BullMQ job data of a workflow task. */
export interface WorkflowTaskJobData {
  runId: string;
  workflowId: string;
  token: string;
  queue: string;
  /**
   * A run's first task, as its start queued it (on a single Redis, on the task queue's first-task
   * list: `Engine.takeFirstTasks`) or dispatched it (on a cluster, as a job): the run's history so
   * far (stream entries), with which a worker runs the task and takes it in the transition that
   * completes it (`Engine.workflowTaskFromJob`). Absent on a job a sweep dispatched again, and
   * when the history is large.
   */
  history?: StreamEntry[];
}

/** BullMQ job data of an activity task. */
export interface ActivityTaskJobData {
  runId: string;
  workflowId: string;
  scheduledEventId: number;
  attempt: number;
  taskQueue: string;
}

/** BullMQ job data of a shard wake-up. */
export interface WakeJobData {
  shard: number;
  at: number;
}

function splitFields(member: string, count: number): string[] {
  const parts: string[] = [];
  let rest = member;
  for (let i = 0; i < count - 1; i++) {
    const bar = rest.indexOf('|');
    if (bar < 0) throw new Error(`Malformed task descriptor: ${member}`);
    parts.push(rest.slice(0, bar));
    rest = rest.slice(bar + 1);
  }
  parts.push(rest);
  return parts;
}

export function parseTask(member: string, shard: number): Task {
  const kind = member.slice(0, member.indexOf('|'));
  switch (kind) {
    case 'wft': {
      const [, runId, token, queue, workflowId] = splitFields(member, 5) as [string, string, string, string, string];
      return { kind: 'workflow', runId, token, queue, workflowId };
    }
    case 'act': {
      const [, runId, sid, attempt, taskQueue, workflowId] = splitFields(member, 6) as [
        string, string, string, string, string, string,
      ];
      return { kind: 'activity', runId, scheduledEventId: Number(sid), attempt: Number(attempt), taskQueue, workflowId };
    }
    case 'wake':
      return { kind: 'wake', shard, at: Number(member.slice(5)) };
    case 'msg': {
      const [, runId, id, workflowId] = splitFields(member, 4) as [string, string, string, string];
      return { kind: 'message', runId, initiatedEventId: Number(id), workflowId };
    }
    default:
      throw new Error(`Unknown task descriptor: ${member}`);
  }
}

export interface JobSpec {
  prefix: string;
  queueName: string;
  jobName: string;
  jobId: string;
  data: WorkflowTaskJobData | ActivityTaskJobData | WakeJobData | MessageJobData;
}

export function jobSpec(keys: NamespaceKeys, task: Task): JobSpec {
  switch (task.kind) {
    case 'workflow':
      return {
        prefix: task.queue.startsWith('@') ? keys.stickyPrefix(task.queue.slice(1)) : keys.taskQueuePrefix(task.queue),
        queueName: QueueNames.workflow,
        jobName: 'workflow-task',
        jobId: `w.${task.runId}.${task.token}`,
        data: { runId: task.runId, workflowId: task.workflowId, token: task.token, queue: task.queue },
      };
    case 'activity':
      return {
        prefix: keys.taskQueuePrefix(task.taskQueue),
        queueName: QueueNames.activity,
        jobName: 'activity-task',
        jobId: `a.${task.runId}.${task.scheduledEventId}.${task.attempt}`,
        data: {
          runId: task.runId,
          workflowId: task.workflowId,
          scheduledEventId: task.scheduledEventId,
          attempt: task.attempt,
          taskQueue: task.taskQueue,
        },
      };
    case 'message':
      return {
        prefix: keys.systemPrefix,
        queueName: QueueNames.messages,
        jobName: 'message',
        jobId: `m.${task.runId}.${task.initiatedEventId}`,
        data: { runId: task.runId, workflowId: task.workflowId, initiatedEventId: task.initiatedEventId },
      };
    case 'wake':
      return {
        prefix: keys.timerPrefix,
        queueName: QueueNames.timers,
        jobName: 'wake',
        jobId: `t.${task.shard}.${task.at}`,
        data: { shard: task.shard, at: task.at },
      };
  }
}
