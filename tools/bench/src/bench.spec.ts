/**
 * Keeps the benchmark from rotting: every scenario runs at its tiny size (worker processes
 * included) against the test Redis. Nothing is asserted about speed, only that each scenario
 * measured something and the report has its shape.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIO_NAMES } from './config';
import { profilingFlags } from './hosts';
import { parseCli } from './main';
import type { BenchReport } from './report';
import { runBench } from './run';
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
      ]),
    );
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
  });
});

describe('profiling flags', () => {
  it('passes --cpu-prof and --heap-prof flags with their values on to worker processes, never a file name', () => {
    expect(
      profilingFlags(['--expose-gc', '--cpu-prof', '--cpu-prof-dir', 'prof', '--cpu-prof-name=x.cpuprofile', '--heap-prof-interval=512', '-r', 'x']),
    ).toEqual(['--cpu-prof', '--cpu-prof-dir', 'prof', '--heap-prof-interval=512']);
  });
});
