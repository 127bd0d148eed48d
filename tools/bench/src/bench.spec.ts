/**
 * Keeps the benchmark from rotting: every scenario runs at its tiny size (worker processes
 * included) against the test Redis. Nothing is asserted about speed, only that each scenario
 * measured something and the report has its shape.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIO_NAMES } from './config';
import type { DurabilityPolicy } from './durable-redis';
import { profilingFlags } from './hosts';
import { parseCli } from './main';
import { evaluateTargets, renderReport } from './report';
import type { BenchReport, ScenarioResult } from './report';
import { runBench } from './run';
import type { ClusterNodeLoad } from './scenarios/cluster';
import { percentile, summarize } from './stats';

describe('the benchmark at its tiny size', () => {
  let dir: string;
  let out: string;
  let report: BenchReport;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'durabull-bench-'));
    out = path.join(dir, 'latest.json');
    report = await runBench({ size: 'tiny', out, command: 'jest' });
  }, 90_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario, throughput with one and with two worker processes', () => {
    expect(report.scenarios.map((scenario) => scenario.scenario)).toEqual([...SCENARIO_NAMES]);
    const keys = report.scenarios.flatMap((scenario) => scenario.rows.map((row) => row.key));
    expect(keys).toEqual(
      expect.arrayContaining([
        'latency.p50',
        'latency.roundTrips',
        'latency.commands',
        'latency.redisTime',
        'latency.redisCpu',
        'latency.nodeCpu',
        'throughput.p1',
        'throughput.p2',
        'throughput.p1.redisCpu',
        'throughput.p1.nodeCpu',
        'fanout.p50',
        'longHistory.lastOverFirst',
        'open.redisPerWorkflow',
        'open.heapPerWorkflow',
        'forever.redisStart',
        'forever.redisEnd',
        'forever.heapStart',
        'forever.heapEnd',
        'replication.latency.off',
        'replication.latency.replicas1',
        'replication.latency.cost',
        'replication.throughput.off',
        'replication.throughput.replicas1',
        'replication.throughput.cost',
        'cluster.transitions',
        'cluster.spreadMin',
        'cluster.spreadMax',
        'cluster.queuesShare',
        'cluster.redisCpu',
        'cluster.nodeCpu',
      ]),
    );
    // The test Redis has AOF off: nothing is appended, so no row says what was.
    expect(keys.filter((key) => key.endsWith('.aofBytes'))).toEqual([]);
  });

  it('measures finite numbers, positive except memory growth (noise can beat a few dozen workflows)', () => {
    for (const scenario of report.scenarios) {
      expect(scenario.rows.length).toBeGreaterThan(0);
      expect(scenario.durationMs).toBeGreaterThan(0);
      for (const row of scenario.rows) {
        const values = [row.durabull, row.baseline, row.ratio].filter((value): value is number => value !== undefined);
        expect(values.length).toBeGreaterThan(0);
        for (const value of values) {
          expect({ key: row.key, finite: Number.isFinite(value) }).toEqual({ key: row.key, finite: true });
          if (row.unit !== 'KiB') expect({ key: row.key, positive: value > 0 }).toEqual({ key: row.key, positive: true });
        }
      }
    }
  });

  it('spreads the transitions over the cluster primaries as the capacity model says: by shard, the jobs on the queues\' primaries', () => {
    const scenario = report.scenarios.find((s) => s.scenario === 'cluster')!;
    const nodes = scenario.details['nodes'] as ClusterNodeLoad[];
    expect(nodes).toHaveLength(3);
    // Every shard on one primary, and the measured workflows all counted.
    expect(nodes.flatMap((node) => node.shards).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(nodes.reduce((sum, node) => sum + node.workflows, 0)).toBe(60);
    // A primary's transitions are its workflows' share of them all (5 a workflow today: the start,
    // two workflow tasks and their completions, the activity's completion), give or take a
    // periodic sweep (one call per shard).
    const transitions = nodes.reduce((sum, node) => sum + node.transitions, 0);
    expect(transitions).toBeGreaterThanOrEqual(3 * 60);
    for (const node of nodes) expect(Math.abs(node.transitions - node.predictedTransitions)).toBeLessThanOrEqual(16);
    // Job operations where the task queue's and the wake-up queue's hash tags live (elsewhere only
    // BullMQ's periodic stalled-job checks of the worker's other queues, every 30 s).
    const jobs = (pick: (node: ClusterNodeLoad) => boolean) => nodes.filter(pick).reduce((sum, node) => sum + node.jobScripts, 0);
    expect(jobs((node) => node.taskQueue)).toBeGreaterThan(0);
    expect(jobs((node) => node.taskQueue || node.timers)).toBeGreaterThanOrEqual(0.9 * jobs(() => true));
  });

  it('writes the JSON report', () => {
    const written = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(written).toEqual(JSON.parse(JSON.stringify(report)));
    expect(written).toMatchObject({
      schemaVersion: 1,
      size: 'tiny',
      command: 'jest',
      machine: {
        nproc: expect.any(Number),
        cpuModel: expect.any(String),
        memoryBytes: expect.any(Number),
        node: process.version,
        redis: expect.stringMatching(/^\d+\.\d+/),
        bullmq: expect.any(String),
      },
      tuning: expect.objectContaining({ maxConcurrentActivityTaskExecutions: expect.any(Number) }),
    });
    expect(Date.parse(written.finishedAt)).toBeGreaterThanOrEqual(Date.parse(written.startedAt));
    for (const scenario of written.scenarios) {
      expect(scenario).toEqual({
        scenario: expect.any(String),
        title: expect.any(String),
        parameters: expect.any(Object),
        rows: expect.any(Array),
        details: expect.any(Object),
        durationMs: expect.any(Number),
      });
    }
    expect(written.targets.map((target) => target.id)).toEqual([
      'throughput-1p',
      'throughput-2p',
      'latency-p50',
      'long-history',
      'open-redis',
      'open-heap',
    ]);
    for (const target of written.targets) expect(typeof target.pass).toBe('boolean');
  });
});

describe('the benchmark helpers', () => {
  it('computes interpolated percentiles', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([5], 99)).toBe(5);
    expect(summarize([3, 1, 2])).toMatchObject({ n: 3, min: 1, p50: 2, max: 3, mean: 2 });
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  it('parses the command line', () => {
    expect(parseCli(['--scenario', 'latency', '-s', 'fanout', '--size', 'tiny', '--reps', '2'])).toMatchObject({
      scenarios: ['latency', 'fanout'],
      size: 'tiny',
      reps: 2,
      strict: false,
    });
    expect(parseCli([]).scenarios).toEqual([...SCENARIO_NAMES]);
    expect(() => parseCli(['--scenario', 'nope'])).toThrow(/Unknown scenario "nope"/);
    expect(() => parseCli(['--reps', '0'])).toThrow(/--reps/);
    expect(parseCli(['--durability', 'always']).durability).toBe('always');
    expect(() => parseCli(['--durability', 'sometimes'])).toThrow(new TypeError('--durability must be always or everysec, got "sometimes"'));
  });

  it("checks the durable mode's latency target only when every write is fsynced", () => {
    const latency = (ratio: number): ScenarioResult => ({
      scenario: 'latency',
      title: 'latency',
      parameters: {},
      rows: [{ key: 'latency.p50', metric: 'latency p50', unit: 'ms', durabull: ratio, baseline: 1, ratio }],
      details: {},
      durationMs: 1,
    });
    const verdicts = (ratio: number, durability?: DurabilityPolicy) =>
      evaluateTargets([latency(ratio)], durability).map((target) => `${target.id} ${target.pass ? 'PASS' : 'FAIL'}`);
    expect(verdicts(1.2)).toEqual(['latency-p50 PASS']);
    expect(verdicts(1.2, 'everysec')).toEqual(['latency-p50 PASS']);
    expect(verdicts(1.2, 'always')).toEqual(['latency-p50 PASS', 'latency-p50-fsync-always FAIL']);
    expect(verdicts(1, 'always')).toEqual(['latency-p50 PASS', 'latency-p50-fsync-always PASS']);
  });
});

describe('the durable mode at its tiny size', () => {
  it('runs the latency scenario on a redis-server of its own with AOF and fsync on every write', async () => {
    const report = await runBench({ size: 'tiny', scenarios: ['latency'], durability: 'always', command: 'jest' });
    expect(report.durability).toBe('always');
    const p50 = report.scenarios[0]!.rows.find((row) => row.key === 'latency.p50')!;
    expect(p50.durabull).toBeGreaterThan(0);
    expect(p50.baseline).toBeGreaterThan(0);
    // Every workflow and chain writes its history or jobs: both append to the AOF.
    const aof = report.scenarios[0]!.rows.find((row) => row.key === 'latency.aofBytes')!;
    expect(aof.durabull).toBeGreaterThan(1000);
    expect(aof.baseline).toBeGreaterThan(1000);
    expect(renderReport(report)).toContain('Durable mode: every scenario on a redis-server of the benchmark\'s own with appendonly yes, appendfsync always');
    // With every write fsynced the latency target is the durable mode's: p50 at most the chain's.
    expect(report.targets.map((target) => [target.id, target.limit])).toEqual([
      ['latency-p50', 1.5],
      ['latency-p50-fsync-always', 1],
    ]);
    expect(report.targets[1]!.value).toBe(p50.ratio);
  }, 90_000);
});

describe('profiling flags', () => {
  it('passes --cpu-prof and --heap-prof flags with their values on to worker processes, never a file name', () => {
    expect(
      profilingFlags(['--expose-gc', '--cpu-prof', '--cpu-prof-dir', 'prof', '--cpu-prof-name=x.cpuprofile', '--heap-prof-interval=512', '-r', 'x']),
    ).toEqual(['--cpu-prof', '--cpu-prof-dir', 'prof', '--heap-prof-interval=512']);
  });
});
