/**
 * Latency: one-activity workflows started and awaited one at a time, end to end (start call to
 * result), against raw three-job chains awaited one at a time. Workers run in this process, so
 * counting the commands this process sends gives the round trips per workflow; INFO
 * commandstats around each repetition adds what Redis ran (Lua scripts' inner calls included).
 */
import { performance } from 'node:perf_hooks';
import type { SizeProfile } from '../config';
import { InProcessSystems } from '../context';
import type { BenchContext } from '../context';
import { aofBytesRows, medianMeasurement, withCommands } from '../measure';
import type { CommandMeasurement } from '../measure';
import { comparison } from '../report';
import type { ScenarioResult } from '../report';
import { median, summarize } from '../stats';
import { OneActivityWorkflow } from '../workloads';

/** Runs the latency scenario. */
export async function latency(ctx: BenchContext, profile: SizeProfile['latency']): Promise<ScenarioResult> {
  const began = performance.now();
  const systems = await InProcessSystems.open(ctx);
  const { client, raw, names } = systems;
  try {
    const durabullOnce = async (id: string): Promise<number> => {
      const start = performance.now();
      const result = await client.executeWorkflow(OneActivityWorkflow, id, { id, taskQueue: names.taskQueue });
      const ms = performance.now() - start;
      if (result !== id) throw new Error(`Workflow ${id} returned ${JSON.stringify(result)}`);
      return ms;
    };
    const rawOnce = async (id: string): Promise<number> => {
      const start = performance.now();
      const result = await raw.chain(id, id);
      const ms = performance.now() - start;
      if (result !== id) throw new Error(`Chain ${id} returned ${JSON.stringify(result)}`);
      return ms;
    };
    const series = async (count: number, once: (id: string) => Promise<number>, tag: string): Promise<number[]> => {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) samples.push(await once(`${tag}-${i}`));
      return samples;
    };

    await series(profile.warmup, durabullOnce, 'warm-d');
    await series(profile.warmup, rawOnce, 'warm-r');

    const perRep = Math.max(1, Math.ceil(profile.runs / profile.reps));
    const samples = { durabull: [] as number[], baseline: [] as number[] };
    const repP50 = { durabull: [] as number[], baseline: [] as number[] };
    const commands = { durabull: [] as CommandMeasurement[], baseline: [] as CommandMeasurement[] };
    for (let rep = 0; rep < profile.reps; rep++) {
      // A B A B: drift (other load, Redis growing) hits both sides alike.
      const d = await withCommands(ctx, perRep, [], () => series(perRep, durabullOnce, `d${rep}`));
      const b = await withCommands(ctx, perRep, [], () => series(perRep, rawOnce, `r${rep}`));
      samples.durabull.push(...d.value);
      samples.baseline.push(...b.value);
      repP50.durabull.push(median(d.value));
      repP50.baseline.push(median(b.value));
      commands.durabull.push(d.commands);
      commands.baseline.push(b.commands);
      ctx.log(`  latency rep ${rep + 1}/${profile.reps}: p50 ${median(d.value).toFixed(2)} ms vs raw ${median(b.value).toFixed(2)} ms`);
    }

    const d = summarize(samples.durabull);
    const b = summarize(samples.baseline);
    const cmd = { durabull: medianMeasurement(commands.durabull), baseline: medianMeasurement(commands.baseline) };
    return {
      scenario: 'latency',
      title: 'One-activity workflow, one at a time, end to end',
      parameters: { runs: perRep * profile.reps, reps: profile.reps, warmup: profile.warmup, workers: 'in-process' },
      rows: [
        comparison('latency.p50', 'latency p50', 'ms', d.p50, b.p50),
        comparison('latency.p95', 'latency p95', 'ms', d.p95, b.p95),
        comparison('latency.p99', 'latency p99', 'ms', d.p99, b.p99),
        comparison('latency.roundTrips', 'Redis round trips per workflow (sent)', 'cmds', cmd.durabull.client.roundTrips, cmd.baseline.client.roundTrips),
        comparison('latency.commands', 'Redis commands per workflow (commandstats)', 'cmds', cmd.durabull.server.total, cmd.baseline.server.total),
        comparison('latency.scripts', 'of which scripts (EVALSHA/FCALL)', 'cmds', cmd.durabull.server.scripts, cmd.baseline.server.scripts),
        comparison('latency.redisTime', 'Redis time per workflow (commandstats usec)', 'µs', cmd.durabull.server.usec, cmd.baseline.server.usec),
        comparison('latency.redisCpu', 'Redis CPU per workflow', 'µs', cmd.durabull.cpu.redis, cmd.baseline.cpu.redis),
        comparison('latency.nodeCpu', 'Node CPU per workflow (client + workers)', 'µs', cmd.durabull.cpu.node, cmd.baseline.cpu.node),
        ...aofBytesRows('latency.aofBytes', 'AOF bytes per workflow', commands.durabull, commands.baseline),
      ],
      details: { durabull: d, baseline: b, repP50, commands: cmd },
      durationMs: performance.now() - began,
    };
  } finally {
    await systems.close();
  }
}
