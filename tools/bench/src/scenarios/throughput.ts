/**
 * Throughput: N one-activity workflows started at once and awaited, against N raw three-job
 * chains at once, with the workers in 1 and then 2 separate processes (this process only starts
 * and awaits). Each worker process runs a Durabull worker and the baseline's workers with the
 * same concurrency; the idle side only waits on Redis while the other is measured.
 */
import { performance } from 'node:perf_hooks';
import { Client } from '@durabull/sdk';
import { TUNING } from '../config';
import type { SizeProfile } from '../config';
import { cleanUp, scenarioNames } from '../context';
import type { BenchContext } from '../context';
import { RawChainClient } from '../raw-chain';
import { aofBytesRows, medianMeasurement, withCommands } from '../measure';
import type { CommandMeasurement } from '../measure';
import { comparison } from '../report';
import type { ResultRow, ScenarioResult } from '../report';
import { median, ratio } from '../stats';
import { OneActivityWorkflow } from '../workloads';

/** Warm-up batches of each side, alternating, before the repetitions (BENCHMARKS.md, "The warm-up"). */
const WARMUP_ROUNDS = 2;

/** Runs the throughput scenario for each worker-process count of the profile. */
export async function throughput(ctx: BenchContext, profile: SizeProfile['throughput']): Promise<ScenarioResult> {
  const began = performance.now();
  const rows: ResultRow[] = [];
  const details: Record<string, unknown> = {};
  for (const processes of profile.processes) {
    const variant = await runVariant(ctx, profile, processes);
    const d = median(variant.rates.durabull);
    const b = median(variant.rates.baseline);
    const cd = median(variant.commands.durabull.map((c) => c.client.roundTrips));
    const cb = median(variant.commands.baseline.map((c) => c.client.roundTrips));
    const ud = median(variant.commands.durabull.map((c) => c.server.usec));
    const ub = median(variant.commands.baseline.map((c) => c.server.usec));
    const rd = median(variant.commands.durabull.map((c) => c.cpu.redis));
    const rb = median(variant.commands.baseline.map((c) => c.cpu.redis));
    const nd = median(variant.commands.durabull.map((c) => c.cpu.node));
    const nb = median(variant.commands.baseline.map((c) => c.cpu.node));
    const label = `${processes} worker process${processes === 1 ? '' : 'es'}`;
    rows.push(
      // Each repetition runs the two sides back to back, so their ratio cancels slower drifts in
      // machine load; its median is the ratio reported (and checked against the target).
      {
        key: `throughput.p${processes}`,
        metric: `throughput, ${label}`,
        unit: 'wf/s',
        durabull: d,
        baseline: b,
        ratio: median(variant.rates.durabull.map((rate, i) => ratio(rate, variant.rates.baseline[i]))),
      },
      comparison(`throughput.p${processes}.roundTrips`, `Redis round trips per workflow, ${label}`, 'cmds', cd, cb),
      comparison(`throughput.p${processes}.redisTime`, `Redis time per workflow, ${label}`, 'µs', ud, ub),
      comparison(`throughput.p${processes}.redisCpu`, `Redis CPU per workflow, ${label}`, 'µs', rd, rb),
      comparison(`throughput.p${processes}.nodeCpu`, `Node CPU per workflow (client + workers), ${label}`, 'µs', nd, nb),
      ...aofBytesRows(`throughput.p${processes}.aofBytes`, `AOF bytes per workflow, ${label}`, variant.commands.durabull, variant.commands.baseline),
    );
    details[`p${processes}`] = {
      ...variant,
      commandsMedian: { durabull: medianMeasurement(variant.commands.durabull), baseline: medianMeasurement(variant.commands.baseline) },
    };
  }
  return {
    scenario: 'throughput',
    title: `${profile.workflows} one-activity workflows started at once`,
    parameters: {
      workflows: profile.workflows,
      reps: profile.reps,
      warmup: profile.warmup,
      warmupRounds: WARMUP_ROUNDS,
      processes: profile.processes.join(','),
      activityConcurrency: TUNING.maxConcurrentActivityTaskExecutions,
      workflowConcurrency: TUNING.maxConcurrentWorkflowTaskExecutions,
    },
    rows,
    details,
    durationMs: performance.now() - began,
  };
}

interface Variant {
  /** Workflows (chains) per second, one value per repetition. */
  rates: { durabull: number[]; baseline: number[] };
  commands: { durabull: CommandMeasurement[]; baseline: CommandMeasurement[] };
}

async function runVariant(ctx: BenchContext, profile: SizeProfile['throughput'], processes: number): Promise<Variant> {
  const names = scenarioNames();
  const hosts = await ctx.hosts.get(processes);
  const client = await Client.connect({ redis: ctx.redisUrl, namespace: names.namespace });
  const raw = await RawChainClient.open(ctx.redisUrl, names.rawPrefix);
  try {
    await Promise.all(
      hosts.map((host) =>
        host.start({
          redisUrl: ctx.redisUrl,
          durabull: { namespace: names.namespace, taskQueue: names.taskQueue, tuning: TUNING },
          raw: {
            prefix: names.rawPrefix,
            workflowConcurrency: TUNING.maxConcurrentWorkflowTaskExecutions,
            activityConcurrency: TUNING.maxConcurrentActivityTaskExecutions,
          },
        }),
      ),
    );
    const durabullBatch = async (tag: string, count: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const id = `${tag}-${i}`;
          const result = await client.executeWorkflow(OneActivityWorkflow, id, { id, taskQueue: names.taskQueue });
          if (result !== id) throw new Error(`Workflow ${id} returned ${JSON.stringify(result)}`);
        }),
      );
    };
    const rawBatch = async (tag: string, count: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const id = `${tag}-${i}`;
          const result = await raw.chain(id, id);
          if (result !== id) throw new Error(`Chain ${id} returned ${JSON.stringify(result)}`);
        }),
      );
    };
    const rate = async (batch: (tag: string, count: number) => Promise<void>, tag: string) => {
      const { value: ms, commands } = await withCommands(ctx, profile.workflows, hosts, async () => {
        const start = performance.now();
        await batch(tag, profile.workflows);
        return performance.now() - start;
      });
      return { rate: profile.workflows / (ms / 1000), commands };
    };

    // Alternating as the repetitions do: Durabull's first batch after the chain's first one, in the
    // same processes, ran slower than the batches after it.
    for (let round = 0; round < WARMUP_ROUNDS; round++) {
      await durabullBatch(`p${processes}-warm${round}-d`, profile.warmup);
      await rawBatch(`p${processes}-warm${round}-r`, profile.warmup);
    }
    const variant: Variant = { rates: { durabull: [], baseline: [] }, commands: { durabull: [], baseline: [] } };
    for (let rep = 0; rep < profile.reps; rep++) {
      const d = await rate(durabullBatch, `p${processes}-d${rep}`);
      const b = await rate(rawBatch, `p${processes}-r${rep}`);
      variant.rates.durabull.push(d.rate);
      variant.rates.baseline.push(b.rate);
      variant.commands.durabull.push(d.commands);
      variant.commands.baseline.push(b.commands);
      ctx.log(`  throughput ${processes}p rep ${rep + 1}/${profile.reps}: ${d.rate.toFixed(0)} wf/s vs raw ${b.rate.toFixed(0)} chains/s`);
    }
    return variant;
  } finally {
    await Promise.all(hosts.map((host) => host.stop()));
    await raw.close();
    await cleanUp(ctx, names, client);
    await client.close();
  }
}
