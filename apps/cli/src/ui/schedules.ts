// Schedules as the web UI shows them: the list (spec, next run, paused, recent actions) and one
// schedule's details, as JSON views.
import { ScheduleNotFoundError } from '@durabull/sdk';
import type { Client, ScheduleActionResult, ScheduleDescription } from '@durabull/sdk';
import { formatSpec } from '../commands/schedule';

function actionView(action: ScheduleActionResult) {
  return {
    scheduledAt: action.scheduledAt.toISOString(),
    takenAt: action.takenAt.toISOString(),
    workflowId: action.action.workflow.workflowId,
    runId: action.action.workflow.firstExecutionRunId,
    status: action.status,
  };
}

/** Every schedule of the namespace, by id. */
export async function listScheduleViews(client: Client) {
  const views = [];
  for await (const summary of client.listSchedules()) {
    views.push({
      scheduleId: summary.scheduleId,
      workflowType: summary.action.workflowType,
      spec: formatSpec(summary.spec),
      paused: summary.state.paused,
      note: summary.state.note,
      nextActionTimes: summary.info.nextActionTimes.map((t) => t.toISOString()),
      recentActions: summary.info.recentActions.map(actionView),
    });
  }
  return views;
}

/** One schedule: its options, state, counters, recent actions and next run times; undefined when there is none. */
export async function scheduleView(client: Client, scheduleId: string) {
  let description: ScheduleDescription;
  try {
    description = await client.getScheduleHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
  const { action, policies, state, info } = description;
  return {
    scheduleId,
    spec: formatSpec(description.spec),
    timezone: description.spec.timezone,
    workflowType: action.workflow,
    workflowId: action.id,
    taskQueue: action.taskQueue,
    args: action.args,
    overlap: policies.overlap,
    catchupWindow: policies.catchupWindow,
    pauseOnFailure: policies.pauseOnFailure,
    paused: state.paused,
    note: state.note,
    remainingActions: state.remainingActions,
    actionCount: info.numActionsTaken,
    skippedOverlap: info.numActionsSkippedOverlap,
    missedCatchupWindow: info.numActionsMissedCatchupWindow,
    bufferSize: info.bufferSize,
    createdAt: info.createdAt.toISOString(),
    updatedAt: info.lastUpdatedAt.toISOString(),
    nextActionTimes: info.nextActionTimes.map((t) => t.toISOString()),
    recentActions: info.recentActions.map(actionView),
  };
}

/** What the schedule page's buttons do. */
export type ScheduleAction = 'pause' | 'unpause' | 'trigger' | 'delete';
export const SCHEDULE_ACTIONS: readonly ScheduleAction[] = ['pause', 'unpause', 'trigger', 'delete'];

/** Pauses, unpauses (with a note), triggers or deletes a schedule; false when there is none. */
export async function actOnSchedule(client: Client, scheduleId: string, action: ScheduleAction, note: string): Promise<boolean> {
  const handle = client.getScheduleHandle(scheduleId);
  try {
    if (action === 'pause') await handle.pause(note || 'Paused via the web UI');
    else if (action === 'unpause') await handle.unpause(note || 'Unpaused via the web UI');
    else if (action === 'trigger') await handle.trigger();
    else await handle.delete();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}
