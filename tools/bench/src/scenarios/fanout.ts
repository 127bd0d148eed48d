/**
 * Fan-out: one workflow starts N activities at once and awaits them all, against one BullMQ job
 * that adds N jobs, the last of which to finish adds the final job (a counter in Redis standing
 * for the workflow's state). Workers run in this process.
 */
import { performance } from 'node:perf_hooks';
import type { SizeProfile } from '../config';
import { InProcessSystems } from '../context';
import type { BenchContext } from '../context';
import { comparison } from '../report';
import type { ScenarioResult } from '../report';
import { summarize } from '../stats';
import { FanOutWorkflow } from '../workloads';

/** Runs the fan-out scenario. */
export async function fanout(ctx: BenchContext, profile: SizeProfile['fanout']): Promise<ScenarioResult> {
  const began = performance.now();
  const systems = await InProcessSystems.open(ctx);
  const { client, raw, names } = systems;
  const n = profile.activities;
  try {
    const durabullOnce = async (id: string): Promise<number> => {
      const start = performance.now();
      const completed = await client.executeWorkflow(FanOutWorkflow, n, { id, taskQueue: names.taskQueue });
      const ms = performance.now() - start;
      if (completed !== n) throw new Error(`Fan-out ${id} completed ${completed} of ${n} activities`);
      return ms;
    };
    const rawOnce = async (id: string): Promise<number> => {
      const start = performance.now();
      await raw.fanOut(id, n);
      return performance.now() - start;
    };
    for (let i = 0; i < profile.warmup; i++) {
      await durabullOnce(`warm-d${i}`);
      await rawOnce(`warm-r${i}`);
    }
    const durations = { durabull: [] as number[], baseline: [] as number[] };
    for (let rep = 0; rep < profile.reps; rep++) {
      durations.durabull.push(await durabullOnce(`d${rep}`));
      durations.baseline.push(await rawOnce(`r${rep}`));
    }
    ctx.log(`  fan-out: ${durations.durabull.map((ms) => ms.toFixed(0)).join(' ')} ms vs raw ${durations.baseline.map((ms) => ms.toFixed(0)).join(' ')} ms`);
    const d = summarize(durations.durabull);
    const b = summarize(durations.baseline);
    return {
      scenario: 'fanout',
      title: `One workflow starting ${n} activities at once and awaiting all`,
      parameters: { activities: n, reps: profile.reps, warmup: profile.warmup, workers: 'in-process' },
      rows: [
        comparison('fanout.p50', `fan-out of ${n}, median`, 'ms', d.p50, b.p50),
        comparison('fanout.p95', `fan-out of ${n}, p95`, 'ms', d.p95, b.p95),
        comparison('fanout.p99', `fan-out of ${n}, p99`, 'ms', d.p99, b.p99),
        comparison('fanout.perActivity', 'per activity (median / N)', 'ms', d.p50 / n, b.p50 / n),
      ],
      details: { durabull: d, baseline: b, durations },
      durationMs: performance.now() - began,
    };
  } finally {
    await systems.close();
  }
}
