/**
 * Long history: one workflow running N activities in sequence (its history grows to ~6N events).
 * The metric is the time per activity over the last `window` activities against the first
 * `window`: a workflow that slows down as its history grows re-reads or replays it. For context,
 * a raw BullMQ sequence of the same shape (activity job, then a workflow-task job that adds the
 * next activity job: 2 jobs per step). Workers run in this process; each activity notes when it
 * ran, and time per activity is the gap between consecutive activities.
 */
import { performance } from 'node:perf_hooks';
import type { SizeProfile } from '../config';
import { InProcessSystems } from '../context';
import type { BenchContext } from '../context';
import { comparison } from '../report';
import type { ScenarioResult } from '../report';
import { median } from '../stats';
import { SequenceWorkflow, StepRecorder } from '../workloads';

/** Per-step times of one sequence: ms per step over the first and the last `window` steps. */
export interface StepTiming {
  totalMs: number;
  firstMs: number;
  lastMs: number;
  lastOverFirst: number;
}

/** Time per step at both ends of a sequence, from the times its steps ran. */
export function stepTiming(times: readonly number[], window: number, totalMs: number): StepTiming {
  const n = times.length;
  if (n < 2 * window + 1) throw new Error(`A sequence of ${n} steps is too short for windows of ${window}`);
  const firstMs = (times[window]! - times[0]!) / window;
  const lastMs = (times[n - 1]! - times[n - 1 - window]!) / window;
  return { totalMs, firstMs, lastMs, lastOverFirst: lastMs / firstMs };
}

/** Runs the long-history scenario. */
export async function longHistory(ctx: BenchContext, profile: SizeProfile['longHistory']): Promise<ScenarioResult> {
  const began = performance.now();
  const recorder = new StepRecorder();
  const systems = await InProcessSystems.open(ctx, recorder);
  const { client, raw, names } = systems;
  const n = profile.activities;
  const window = Math.min(profile.window, Math.floor((n - 1) / 2));
  try {
    const durabullOnce = async (id: string, count: number): Promise<StepTiming> => {
      const start = performance.now();
      const done = await client.executeWorkflow(SequenceWorkflow, count, { id, taskQueue: names.taskQueue });
      const totalMs = performance.now() - start;
      if (done !== count) throw new Error(`Sequence ${id} ran ${done} of ${count} activities`);
      return stepTiming(recorder.take(id), Math.min(window, Math.floor((count - 1) / 2)), totalMs);
    };
    const rawOnce = async (id: string, count: number): Promise<StepTiming> => {
      const start = performance.now();
      await raw.sequence(id, count);
      const totalMs = performance.now() - start;
      return stepTiming(recorder.take(id), Math.min(window, Math.floor((count - 1) / 2)), totalMs);
    };
    // Warm-up on a short sequence: JIT and connections, not the long history being measured.
    const warm = Math.min(n, 50);
    await durabullOnce('warm-d', warm);
    await rawOnce('warm-r', warm);
    const runs = { durabull: [] as StepTiming[], baseline: [] as StepTiming[] };
    for (let rep = 0; rep < profile.reps; rep++) {
      const d = await durabullOnce(`d${rep}`, n);
      const b = await rawOnce(`r${rep}`, n);
      runs.durabull.push(d);
      runs.baseline.push(b);
      ctx.log(
        `  long history rep ${rep + 1}/${profile.reps}: ${d.firstMs.toFixed(2)} -> ${d.lastMs.toFixed(2)} ms/activity ` +
          `(raw ${b.firstMs.toFixed(2)} -> ${b.lastMs.toFixed(2)} ms/step)`,
      );
    }
    const med = (list: StepTiming[], field: keyof StepTiming) => median(list.map((run) => run[field]));
    const row = (key: string, metric: string, unit: string, field: keyof StepTiming) =>
      comparison(key, metric, unit, med(runs.durabull, field), med(runs.baseline, field));
    const history = await client.getWorkflowHandle(`d${profile.reps - 1}`).describe();
    return {
      scenario: 'long-history',
      title: `One workflow running ${n} activities in sequence`,
      parameters: { activities: n, window, reps: profile.reps, historyEvents: history.historyLength, workers: 'in-process' },
      rows: [
        row('longHistory.first', `time per activity, first ${window}`, 'ms', 'firstMs'),
        row('longHistory.last', `time per activity, last ${window}`, 'ms', 'lastMs'),
        row('longHistory.lastOverFirst', `last ${window} / first ${window}`, 'ratio', 'lastOverFirst'),
        row('longHistory.total', `whole workflow (${n} activities)`, 'ms', 'totalMs'),
      ],
      details: { runs, rawJobsPerStep: 2 },
      durationMs: performance.now() - began,
    };
  } finally {
    await systems.close();
  }
}
