import type { ScenarioName, Size } from './config';
import type { MachineInfo } from './machine';
import type { DurabilityPolicy } from './durable-redis';
import { ratio } from './stats';
import { formatNumber, renderTable } from './table';

/** One measured quantity of a scenario, for Durabull and (when there is one) its baseline. */
export interface ResultRow {
  /** Stable id, e.g. `latency.p50`: targets and the JSON's readers refer to it. */
  key: string;
  /** What was measured, as printed. */
  metric: string;
  unit: string;
  durabull?: number;
  /** The raw-BullMQ baseline's value. */
  baseline?: number;
  /** `durabull / baseline`. */
  ratio?: number;
}

/** A row comparing Durabull with its baseline, with their ratio. */
export function comparison(key: string, metric: string, unit: string, durabull: number, baseline: number): ResultRow {
  return { key, metric, unit, durabull, baseline, ratio: ratio(durabull, baseline) };
}

/** What a scenario measured. */
export interface ScenarioResult {
  scenario: ScenarioName;
  title: string;
  /** Sizes and settings it ran with. */
  parameters: Record<string, number | string>;
  rows: ResultRow[];
  /** Everything else worth keeping: per-repetition values, command breakdowns. */
  details: Record<string, unknown>;
  durationMs: number;
}

/** A target of the issue, checked on ratios measured in this run. */
export interface TargetResult {
  id: string;
  description: string;
  value: number;
  limit: number;
  pass: boolean;
}

/** The JSON file a run writes (`bench-results/latest.json`). */
export interface BenchReport {
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The command line that produced it. */
  command: string;
  /** `git describe --always --dirty` of the working tree measured, when it is a git checkout. */
  commit?: string;
  size: Size;
  /** `--reps` when given (else each scenario's default). */
  reps?: number;
  /** `--durability`: the AOF fsync policy of the benchmark's own Redis every scenario ran on. */
  durability?: DurabilityPolicy;
  machine: MachineInfo;
  /** Worker concurrency of both sides. */
  tuning: Record<string, number>;
  scenarios: ScenarioResult[];
  targets: TargetResult[];
}

interface TargetSpec {
  id: string;
  description: string;
  row: string;
  field: 'durabull' | 'ratio';
  limit: number;
  atLeast?: boolean;
}

/** The targets, on the rows that carry them. */
const TARGETS: TargetSpec[] = [
  { id: 'throughput-1p', description: 'throughput, 1 worker process >= 1.0 x raw chain', row: 'throughput.p1', field: 'ratio', limit: 1, atLeast: true },
  { id: 'throughput-2p', description: 'throughput, 2 worker processes >= 1.0 x raw chain', row: 'throughput.p2', field: 'ratio', limit: 1, atLeast: true },
  { id: 'latency-p50', description: 'latency p50 <= 1.5 x raw chain p50', row: 'latency.p50', field: 'ratio', limit: 1.5 },
  { id: 'long-history', description: 'long history last100/first100 <= 1.2', row: 'longHistory.lastOverFirst', field: 'durabull', limit: 1.2 },
  { id: 'open-redis', description: 'open workflows <= 20 KiB Redis memory each', row: 'open.redisPerWorkflow', field: 'durabull', limit: 20 },
  { id: 'open-heap', description: 'open workflows <= 20 KiB worker heap each', row: 'open.heapPerWorkflow', field: 'durabull', limit: 20 },
];

/** The durable mode's own target, checked on top of the others when every write is fsynced. */
const FSYNC_ALWAYS_TARGETS: TargetSpec[] = [
  { id: 'latency-p50-fsync-always', description: 'latency p50 <= 1.0 x raw chain p50 with appendfsync always', row: 'latency.p50', field: 'ratio', limit: 1 },
];

/** Checks the targets whose rows were measured; `durability` is the run's `--durability`. */
export function evaluateTargets(scenarios: readonly ScenarioResult[], durability?: DurabilityPolicy): TargetResult[] {
  const rows = new Map(scenarios.flatMap((scenario) => scenario.rows.map((row) => [row.key, row] as const)));
  const results: TargetResult[] = [];
  for (const spec of durability === 'always' ? [...TARGETS, ...FSYNC_ALWAYS_TARGETS] : TARGETS) {
    const value = rows.get(spec.row)?.[spec.field];
    if (value === undefined) continue;
    const pass = Number.isFinite(value) && (spec.atLeast ? value >= spec.limit : value <= spec.limit);
    results.push({ id: spec.id, description: spec.description, value, limit: spec.limit, pass });
  }
  return results;
}

/** The results as one table: a row per metric, Durabull beside the baseline and their ratio. */
export function resultsTable(scenarios: readonly ScenarioResult[], markdown = false): string {
  const rows = scenarios.flatMap((scenario) =>
    scenario.rows.map((row, i) => [
      i === 0 ? scenario.scenario : '',
      row.metric,
      row.unit,
      formatNumber(row.durabull),
      formatNumber(row.baseline),
      row.ratio === undefined || !Number.isFinite(row.ratio) ? '-' : `${row.ratio.toFixed(2)}x`,
    ]),
  );
  return renderTable(
    [
      { header: 'scenario' },
      { header: 'metric' },
      { header: 'unit' },
      { header: 'Durabull', align: 'right' },
      { header: 'raw BullMQ', align: 'right' },
      { header: 'Durabull/raw', align: 'right' },
    ],
    rows,
    markdown,
  );
}

/** One line per target: `PASS`/`FAIL`, the target, the measured value. */
export function targetLines(targets: readonly TargetResult[]): string {
  return targets
    .map((target) => `${target.pass ? 'PASS' : 'FAIL'}  ${target.description}: measured ${formatNumber(target.value)}`)
    .join('\n');
}

/**
 * Redis commands per one-activity workflow (or chain) by command name, from the latency
 * scenario: what the processes sent, and what Redis ran (INFO commandstats, which adds the calls
 * Lua scripts make inside Redis). Empty when the latency scenario did not run.
 */
export function commandsTable(scenarios: readonly ScenarioResult[], markdown = false, limit = 20): string {
  const latency = scenarios.find((scenario) => scenario.scenario === 'latency');
  type Side = { client: { byCommand: Record<string, number> }; server: { byCommand: Record<string, number> } };
  const commands = latency?.details['commands'] as { durabull: Side; baseline: Side } | undefined;
  if (!commands) return '';
  const { durabull: d, baseline: b } = commands;
  const weight = (name: string) =>
    (d.client.byCommand[name] ?? 0) + (d.server.byCommand[name] ?? 0) + (b.client.byCommand[name] ?? 0) + (b.server.byCommand[name] ?? 0);
  const names = [...new Set([d, b].flatMap((side) => [...Object.keys(side.client.byCommand), ...Object.keys(side.server.byCommand)]))]
    .sort((x, y) => weight(y) - weight(x))
    .slice(0, limit);
  const cell = (map: Record<string, number>, name: string) => formatNumber(map[name] ?? 0);
  return renderTable(
    [
      { header: 'command' },
      { header: 'Durabull sent', align: 'right' },
      { header: 'raw sent', align: 'right' },
      { header: 'Durabull ran (commandstats)', align: 'right' },
      { header: 'raw ran (commandstats)', align: 'right' },
    ],
    names.map((name) => [
      name,
      cell(d.client.byCommand, name),
      cell(b.client.byCommand, name),
      cell(d.server.byCommand, name),
      cell(b.server.byCommand, name),
    ]),
    markdown,
  );
}

/**
 * Lua scripts (EVALSHA, FCALL) per one-activity workflow (or raw chain) by script name, one at a time
 * (latency scenario) and with thousands in flight (throughput, 1 worker process): which
 * transitions and BullMQ operations the round trips are. Empty when neither scenario ran.
 */
export function scriptsTable(scenarios: readonly ScenarioResult[], markdown = false): string {
  type Side = { client: { byScript: Record<string, number> } };
  type Pair = { durabull: Side; baseline: Side } | undefined;
  const latency = scenarios.find((scenario) => scenario.scenario === 'latency')?.details['commands'] as Pair;
  const p1 = scenarios.find((scenario) => scenario.scenario === 'throughput')?.details['p1'] as { commandsMedian: Pair } | undefined;
  const loaded = p1?.commandsMedian;
  const maps = [latency?.durabull, latency?.baseline, loaded?.durabull, loaded?.baseline].map((side) => side?.client.byScript);
  if (maps.every((map) => map === undefined)) return '';
  const names = [...new Set(maps.flatMap((map) => Object.keys(map ?? {})))].sort(
    (x, y) => maps.reduce((sum, map) => sum + (map?.[y] ?? 0) - (map?.[x] ?? 0), 0),
  );
  const cell = (map: Record<string, number> | undefined, name: string) => (map ? formatNumber(map[name] ?? 0) : '-');
  return renderTable(
    [
      { header: 'script' },
      { header: 'Durabull, one at a time', align: 'right' },
      { header: 'raw, one at a time', align: 'right' },
      { header: 'Durabull, in flight', align: 'right' },
      { header: 'raw, in flight', align: 'right' },
    ],
    names.map((name) => [name, ...maps.map((map) => cell(map, name))]),
    markdown,
  );
}

/** The machine line of a report. */
export function machineLine(machine: MachineInfo): string {
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  return (
    `${machine.nproc} CPUs (${machine.cpuModel}), ${gib} GiB RAM, ${machine.platform}; ` +
    `Node ${machine.node}, Redis ${machine.redis}, bullmq ${machine.bullmq}; load average ${machine.loadAverage1m.toFixed(2)} at start`
  );
}

/** The whole report as text for stdout, or as Markdown for BENCHMARKS.md. */
export function renderReport(report: BenchReport, markdown = false): string {
  const parts = [
    `Durabull benchmark (${report.size}), ${report.startedAt}, ${(report.durationMs / 1000).toFixed(0)} s` +
      (report.commit ? `, commit ${report.commit}` : ''),
    machineLine(report.machine),
    report.durability
      ? `Durable mode: every scenario on a redis-server of the benchmark's own with appendonly yes, appendfsync ${report.durability}`
      : 'Redis as found (REDIS_URL or 127.0.0.1:6379), with its own persistence settings',
    '',
    resultsTable(report.scenarios, markdown),
  ];
  if (report.targets.length > 0) {
    const lines = targetLines(report.targets);
    parts.push('', 'Targets:', markdown ? ['```text', lines, '```'].join('\n') : lines);
  }
  const commands = commandsTable(report.scenarios, markdown);
  if (commands) parts.push('', 'Redis commands per one-activity workflow (latency scenario, one at a time):', '', commands);
  const scripts = scriptsTable(report.scenarios, markdown);
  if (scripts) parts.push('', 'Lua scripts (EVALSHA, FCALL) sent per one-activity workflow / raw chain:', '', scripts);
  return parts.join('\n');
}
