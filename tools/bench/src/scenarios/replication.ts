/**
 * Replication: what the `durability: { replicas: 1 }` client setting costs. On a primary with one
 * replica of the scenario's own (two throwaway redis-server processes), one-activity workflows
 * run with durability off and with every transition acknowledged by the replica (Redis `WAIT`),
 * and raw three-job chains run for reference: first one at a time (latency), then many at once
 * (throughput), the three side by side in each repetition. Workers run in this process.
 */
import { performance } from 'node:perf_hooks';
import { Client, Worker } from '@durabull/sdk';
import { TUNING } from '../config';
import type { SizeProfile } from '../config';
import type { BenchContext } from '../context';
import { scenarioNames } from '../context';
import { RawChainClient, RawChainWorkers } from '../raw-chain';
import { ReplicaPair } from '../replica-pair';
import { comparison } from '../report';
import type { ScenarioResult } from '../report';
import { median, ratio, summarize } from '../stats';
import { BENCH_WORKFLOWS, BenchActivities, OneActivityWorkflow } from '../workloads';

type Side = 'off' | 'replicas1' | 'raw';
const SIDES: Side[] = ['off', 'replicas1', 'raw'];

/** Runs the replication scenario. */
export async function replication(ctx: BenchContext, profile: SizeProfile['replication']): Promise<ScenarioResult> {
  const began = performance.now();
  const pair = await ReplicaPair.start();
  const names = scenarioNames();
  const clients: Client[] = [];
  const workers: Array<{ worker: Worker; running: Promise<void> }> = [];
  let rawWorkers: RawChainWorkers | undefined;
  let raw: RawChainClient | undefined;
  try {
    // Two clients of one namespace, each with its own worker on its own task queue: a worker
    // runs its transitions through its client's engine, so with its durability setting.
    const open = async (taskQueue: string, durability?: { replicas: number; timeout: string }) => {
      const client = await Client.connect({ redis: pair.primaryUrl, namespace: names.namespace, ...(durability ? { durability } : {}) });
      clients.push(client);
      const worker = new Worker(client, { taskQueue, workflows: BENCH_WORKFLOWS, activities: [new BenchActivities()], ...TUNING });
      workers.push({ worker, running: worker.run() });
      return client;
    };
    const off = await open('off');
    const acknowledged = await open('replicas1', { replicas: 1, timeout: '10s' });
    rawWorkers = new RawChainWorkers({
      redisUrl: pair.primaryUrl,
      prefix: names.rawPrefix,
      workflowConcurrency: TUNING.maxConcurrentWorkflowTaskExecutions,
      activityConcurrency: TUNING.maxConcurrentActivityTaskExecutions,
    });
    raw = await RawChainClient.open(pair.primaryUrl, names.rawPrefix);
    const chains = raw;

    const once: Record<Side, (id: string) => Promise<unknown>> = {
      off: (id) => off.executeWorkflow(OneActivityWorkflow, id, { id, taskQueue: 'off' }),
      replicas1: (id) => acknowledged.executeWorkflow(OneActivityWorkflow, id, { id, taskQueue: 'replicas1' }),
      raw: (id) => chains.chain(id, id),
    };
    const timed = async (side: Side, id: string): Promise<number> => {
      const start = performance.now();
      const result = await once[side](id);
      if (result !== id) throw new Error(`${side} ${id} returned ${JSON.stringify(result)}`);
      return performance.now() - start;
    };
    const series = async (side: Side, tag: string, count: number): Promise<number[]> => {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) samples.push(await timed(side, `${tag}-${side}-${i}`));
      return samples;
    };
    const rate = async (side: Side, tag: string, count: number): Promise<number> => {
      const start = performance.now();
      await Promise.all(Array.from({ length: count }, (_, i) => timed(side, `${tag}-${side}-${i}`)));
      return count / ((performance.now() - start) / 1000);
    };

    for (const side of SIDES) await series(side, 'warm', profile.warmup);
    const perRep = Math.max(1, Math.ceil(profile.runs / profile.reps));
    const latency: Record<Side, number[]> = { off: [], replicas1: [], raw: [] };
    const rates: Record<Side, number[]> = { off: [], replicas1: [], raw: [] };
    for (let rep = 0; rep < profile.reps; rep++) {
      // Side by side in every repetition, so drifts in machine load hit the three alike.
      for (const side of SIDES) latency[side].push(...(await series(side, `l${rep}`, perRep)));
      for (const side of SIDES) rates[side].push(await rate(side, `t${rep}`, profile.workflows));
      ctx.log(
        `  replication rep ${rep + 1}/${profile.reps}: ` +
          SIDES.map((side) => `${side} ${median(latency[side]).toFixed(2)} ms, ${rates[side].at(-1)!.toFixed(0)} wf/s`).join('; '),
      );
    }

    const p50 = (side: Side) => summarize(latency[side]).p50;
    const perRepRatio = (a: Side, b: Side) => median(rates[a].map((value, i) => ratio(value, rates[b][i])));
    return {
      scenario: 'replication',
      title: 'One-activity workflows on a primary with one replica: durability off vs { replicas: 1 }',
      parameters: {
        runs: perRep * profile.reps,
        workflows: profile.workflows,
        reps: profile.reps,
        warmup: profile.warmup,
        workers: 'in-process',
        redis: 'a primary and one replica on loopback, no persistence',
      },
      rows: [
        comparison('replication.latency.off', 'latency p50, durability off (vs raw chain)', 'ms', p50('off'), p50('raw')),
        comparison('replication.latency.replicas1', 'latency p50, { replicas: 1 } (vs raw chain)', 'ms', p50('replicas1'), p50('raw')),
        comparison('replication.latency.cost', 'latency p50, { replicas: 1 } vs off', 'ms', p50('replicas1'), p50('off')),
        {
          ...comparison('replication.throughput.off', 'throughput, durability off (vs raw chains)', 'wf/s', median(rates.off), median(rates.raw)),
          ratio: perRepRatio('off', 'raw'),
        },
        {
          ...comparison('replication.throughput.replicas1', 'throughput, { replicas: 1 } (vs raw chains)', 'wf/s', median(rates.replicas1), median(rates.raw)),
          ratio: perRepRatio('replicas1', 'raw'),
        },
        {
          ...comparison('replication.throughput.cost', 'throughput, { replicas: 1 } vs off', 'wf/s', median(rates.replicas1), median(rates.off)),
          ratio: perRepRatio('replicas1', 'off'),
        },
      ],
      details: {
        latency: { off: summarize(latency.off), replicas1: summarize(latency.replicas1), raw: summarize(latency.raw) },
        rates,
      },
      durationMs: performance.now() - began,
    };
  } finally {
    for (const { worker } of workers) await worker.shutdown();
    await Promise.all(workers.map(({ running }) => running));
    await rawWorkers?.close();
    await raw?.close();
    for (const client of clients) await client.close();
    await pair.stop();
  }
}
