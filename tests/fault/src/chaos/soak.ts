/**
 * The chaos soak: worker processes SIGKILLed and replaced at random while five-activity workflows
 * start and run; then every run is checked (result, history invariants, side effects) and the
 * recovery figures are computed. Shared by the fault suite's short version
 * (chaos-soak.spec.ts) and the full one (`npm run soak`, main.ts).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventType, WORKFLOW_CLOSE_EVENT_TYPES, WorkflowExecutionStatus } from '@durabull/sdk';
import type { Client, HistoryEvent } from '@durabull/sdk';
import { historyViolations } from '../invariants';
import { SOAK_STEPS, SOAK_TASK_QUEUE, SOAK_TASK_TIMEOUT, SoakWorkflow, effectsKey, expectedResult, retryBackoffMs } from './soak-workflow';

/** tests/fault, whether this module runs from src/chaos (Jest) or dist/chaos (the command). */
const FAULT_ROOT = resolve(__dirname, '..', '..');
/** The worker process, compiled by `npm run build` (a compiled worker starts in half the time). */
export const SOAK_WORKER = join(FAULT_ROOT, 'dist', 'chaos', 'soak-worker.js');

export interface SoakOptions {
  /** A client on the soak's own namespace (the soak adds keys to it; the caller purges it). */
  client: Client;
  /** How long workers are killed and replaced; workflows start all along. */
  chaosMs: number;
  /** Workflows started, evenly over the chaos. */
  workflows: number;
  /** Worker processes kept running. @default 3 */
  workers?: number;
  /** A kill every `[min, max)` ms, uniformly. @default [300, 1200] */
  killEveryMs?: [number, number];
  /** How long after the last kill the soak waits for every run to close before it gives up. @default 60 s */
  drainTimeoutMs?: number;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/** A run's longest unexplained gap between consecutive history events. */
export interface Gap {
  workflowId: string;
  ms: number;
  /** The event types the gap lies between, `from -> to`, and the id of the later event. */
  between: string;
  eventId: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface SoakReport {
  chaosMs: number;
  workers: number;
  workflows: number;
  kills: number;
  /** Runs still open when the last kill landed (so it landed on work in flight). */
  openAtLastKill: number;
  /** Runs closed with the expected result. */
  completed: number;
  /** Runs not closed when the soak gave up, or closed otherwise than with the expected result. */
  failures: string[];
  /** History invariant violations, `<workflowId>: <violation>`. */
  violations: string[];
  /** Per run, the worst gap between consecutive history events not explained by retry backoff. */
  worstGap: Percentiles;
  /** The runs with the largest worst gaps (up to 5). */
  worstGaps: Gap[];
  /** From the last kill until every run was closed (0 when all closed before it). */
  lastKillToAllClosedMs: number;
  /** Run time, start to close. */
  runTime: Percentiles;
  /** Activities (workflow, step) that ran more than once, and the runs beyond the first. */
  activities: { total: number; ranMoreThanOnce: number; extraRuns: number; neverRan: number };
  /** Activity retries recorded in history (final attempt > 1). */
  retriedActivities: number;
  /** Lines the workers wrote on stderr (warnings and errors), and a sample of them. */
  workerStderr: { lines: number; sample: string[] };
}

/** The soak's targets at full size (60 s or more of chaos). */
export const FULL_SIZE_TARGETS = { worstGapP99Ms: 12_000, worstGapMaxMs: 15_000, lastKillToAllClosedMs: 15_000 };

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { client, chaosMs, workflows } = options;
  const workerCount = options.workers ?? 3;
  const [killMin, killMax] = options.killEveryMs ?? [300, 1200];
  const log = options.log ?? (() => undefined);
  if (!existsSync(SOAK_WORKER)) throw new Error(`${SOAK_WORKER} does not exist: run \`npm run build\` first`);

  const stderr = { lines: 0, sample: [] as string[] };
  const live = new Set<ChildProcess>();
  const spawnWorker = (): SoakWorker => {
    const worker = spawnSoakWorker(client.namespace, (line) => {
      stderr.lines++;
      if (stderr.sample.length < 10 && !stderr.sample.includes(line.slice(0, 300))) stderr.sample.push(line.slice(0, 300));
    });
    live.add(worker.child);
    void worker.exited.then(() => live.delete(worker.child));
    return worker;
  };

  try {
    const slots = Array.from({ length: workerCount }, spawnWorker);
    await Promise.all(slots.map((w) => w.ready));
    log(`${workerCount} workers ready; ${chaosMs} ms of chaos, ${workflows} workflows`);

    const chaosStart = Date.now();
    const ids: string[] = [];
    const starting = startEvenly(client, workflows, Math.max(chaosMs - 1_000, chaosMs / 2), ids);
    let kills = 0;
    let lastKillAt = chaosStart;
    for (;;) {
      await sleep(killMin + Math.random() * (killMax - killMin));
      if (Date.now() - chaosStart >= chaosMs) break;
      const index = Math.floor(Math.random() * slots.length);
      lastKillAt = Date.now();
      slots[index]!.child.kill('SIGKILL');
      await slots[index]!.exited;
      slots[index] = spawnWorker();
      kills++;
      if (kills % 20 === 0) log(`${kills} kills, ${ids.length} workflows started`);
    }
    await starting;
    log(`chaos over: ${kills} kills; waiting for ${ids.length} runs to close`);

    const drainDeadline = Date.now() + (options.drainTimeoutMs ?? 60_000);
    while ((await client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })) > 0 && Date.now() < drainDeadline) await sleep(200);
    log('checking every run');
    return { ...(await analyse(client, ids, lastKillAt)), chaosMs, workers: workerCount, kills, workerStderr: stderr };
  } finally {
    const exits = [...live].map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve))));
    for (const child of live) child.kill('SIGKILL');
    await Promise.all(exits);
  }
}

/** Starts `count` soak workflows evenly over `windowMs`, pushing their ids onto `ids`. */
async function startEvenly(client: Client, count: number, windowMs: number, ids: string[]): Promise<void> {
  const start = Date.now();
  while (ids.length < count) {
    const due = Math.min(count, Math.ceil((count * (Date.now() - start + 50)) / windowMs));
    const batch: Array<Promise<unknown>> = [];
    for (let i = ids.length; i < due; i++) {
      const id = `soak-${i}`;
      ids.push(id);
      batch.push(client.startWorkflow(SoakWorkflow, { args: [`in${i}`], id, taskQueue: SOAK_TASK_QUEUE, taskTimeout: SOAK_TASK_TIMEOUT }));
    }
    await Promise.all(batch);
    await sleep(50);
  }
}

type Analysis = Omit<SoakReport, 'chaosMs' | 'workers' | 'kills' | 'workerStderr'>;

async function analyse(client: Client, ids: string[], lastKillAt: number): Promise<Analysis> {
  const failures: string[] = [];
  const violations: string[] = [];
  const gaps: Gap[] = [];
  const runTimes: number[] = [];
  let lastClose = 0;
  let openAtLastKill = 0;
  let retriedActivities = 0;
  await forEachLimited(ids, 32, async (id) => {
    const handle = client.getWorkflowHandle<string>(id);
    const history = await handle.fetchHistory();
    for (const violation of historyViolations(history)) violations.push(`${id}: ${violation}`);
    const close = history.at(-1);
    if (!close || !WORKFLOW_CLOSE_EVENT_TYPES.has(close.eventType)) {
      failures.push(`${id}: still open (${history.length} events, the last ${close?.eventType ?? 'none'})`);
      return;
    }
    const input = `in${id.slice('soak-'.length)}`;
    try {
      const result = await handle.result();
      if (result !== expectedResult(input)) failures.push(`${id}: returned ${JSON.stringify(result)}`);
    } catch (error) {
      failures.push(`${id}: ${close.eventType}: ${(error as Error).message}`);
    }
    const completedActivities = history.filter((e) => e.eventType === EventType.ActivityTaskCompleted).length;
    if (completedActivities !== SOAK_STEPS) failures.push(`${id}: ${completedActivities} ActivityTaskCompleted events`);
    retriedActivities += history.filter((e) => e.eventType === EventType.ActivityTaskStarted && attemptOf(e) > 1).length;
    const closedAt = Date.parse(close.eventTime);
    lastClose = Math.max(lastClose, closedAt);
    if (closedAt > lastKillAt) openAtLastKill++;
    runTimes.push(closedAt - Date.parse(history[0]!.eventTime));
    gaps.push(worstGap(id, history));
  });

  const counts = await client.redis.hgetall(effectsKey(client.engine.keys.prefix, client.namespace));
  const activities = { total: ids.length * SOAK_STEPS, ranMoreThanOnce: 0, extraRuns: 0, neverRan: 0 };
  for (const id of ids) {
    for (let step = 1; step <= SOAK_STEPS; step++) {
      const runs = Number(counts[`${id}:${step}`] ?? 0);
      if (runs === 0) activities.neverRan++;
      if (runs > 1) {
        activities.ranMoreThanOnce++;
        activities.extraRuns += runs - 1;
      }
    }
  }

  gaps.sort((a, b) => b.ms - a.ms);
  return {
    workflows: ids.length,
    openAtLastKill,
    completed: ids.length - new Set(failures.map((f) => f.slice(0, f.indexOf(':')))).size,
    failures: failures.sort(),
    violations,
    worstGap: percentiles(gaps.map((g) => g.ms)),
    worstGaps: gaps.slice(0, 5),
    lastKillToAllClosedMs: Math.max(0, lastClose - lastKillAt),
    runTime: percentiles(runTimes),
    activities,
    retriedActivities,
  };
}

/**
 * The run's longest gap between consecutive history events that no retry backoff explains: a
 * gap ending in an ActivityTaskStarted of attempt n > 1 is reduced by the backoffs of attempts
 * 2..n (they all elapsed between the activity's scheduling and that start). The soak's workflow
 * has no timers; a gap ending in TimerFired would be skipped.
 */
export function worstGap(workflowId: string, history: HistoryEvent[]): Gap {
  let worst: Gap = { workflowId, ms: 0, between: '-', eventId: 0 };
  for (let i = 1; i < history.length; i++) {
    const event = history[i]!;
    if (event.eventType === EventType.TimerFired) continue;
    let ms = Date.parse(event.eventTime) - Date.parse(history[i - 1]!.eventTime);
    if (event.eventType === EventType.ActivityTaskStarted) ms -= retryBackoffMs(attemptOf(event));
    if (ms > worst.ms) worst = { workflowId, ms, between: `${history[i - 1]!.eventType} -> ${event.eventType}`, eventId: event.eventId };
  }
  return worst;
}

function attemptOf(event: HistoryEvent): number {
  return (event.attributes as { attempt?: number }).attempt ?? 1;
}

/** Nearest-rank percentiles (0 for no values). */
export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

/** The report as lines of text. */
export function formatReport(report: SoakReport): string[] {
  const { activities: a, worstGap: g, runTime: r } = report;
  return [
    `chaos: ${(report.chaosMs / 1000).toFixed(0)} s, ${report.workers} worker processes, ${report.kills} SIGKILLs (each replaced at once)`,
    `workflows: ${report.workflows} started, ${report.completed} completed with the right result, ${report.openAtLastKill} still open at the last kill`,
    `history invariant violations: ${report.violations.length}`,
    `worst unexplained gap per run: p50 ${g.p50} ms, p99 ${g.p99} ms, max ${g.max} ms`,
    ...report.worstGaps.map((w) => `  ${w.workflowId}: ${w.ms} ms (${w.between}, event ${w.eventId})`),
    `last kill to every run closed: ${report.lastKillToAllClosedMs} ms`,
    `run time (start to close): p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`,
    `activities: ${a.total}; ran more than once: ${a.ranMoreThanOnce} (${a.extraRuns} extra runs); retried in history: ${report.retriedActivities}; never ran: ${a.neverRan}`,
    `worker stderr lines: ${report.workerStderr.lines}${report.workerStderr.sample.map((l) => `\n  ${l}`).join('')}`,
    ...report.failures.slice(0, 10).map((f) => `FAILED ${f}`),
    ...report.violations.slice(0, 10).map((v) => `VIOLATION ${v}`),
  ];
}

/** The soak's targets, each with what was measured: every run right, no violation, and the full-size bounds. */
export function targets(report: SoakReport): Array<{ target: string; measured: string; pass: boolean }> {
  return [
    { target: 'every run completes with the right result', measured: `${report.completed}/${report.workflows}`, pass: report.completed === report.workflows },
    { target: 'history invariant violations = 0', measured: String(report.violations.length), pass: report.violations.length === 0 },
    { target: `worst gap p99 <= ${FULL_SIZE_TARGETS.worstGapP99Ms} ms`, measured: `${report.worstGap.p99} ms`, pass: report.worstGap.p99 <= FULL_SIZE_TARGETS.worstGapP99Ms },
    { target: `worst gap max <= ${FULL_SIZE_TARGETS.worstGapMaxMs} ms`, measured: `${report.worstGap.max} ms`, pass: report.worstGap.max <= FULL_SIZE_TARGETS.worstGapMaxMs },
    {
      target: `every run closed <= ${FULL_SIZE_TARGETS.lastKillToAllClosedMs} ms after the last kill`,
      measured: `${report.lastKillToAllClosedMs} ms`,
      pass: report.lastKillToAllClosedMs <= FULL_SIZE_TARGETS.lastKillToAllClosedMs && report.completed === report.workflows,
    },
  ];
}

interface SoakWorker {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
}

/** Starts a compiled soak worker; `ready` resolves when it takes tasks. */
function spawnSoakWorker(namespace: string, onStderr: (line: string) => void): SoakWorker {
  const child = spawn(process.execPath, [SOAK_WORKER], {
    cwd: resolve(FAULT_ROOT, '..', '..'),
    env: { ...process.env, DURABULL_NAMESPACE: namespace },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const ready = new Promise<void>((done, fail) => {
    lines(child.stdout!, (line) => line === 'ready' && done());
    void exited.then(() => fail(new Error(`soak worker ${child.pid} exited before it was ready`)));
  });
  // A worker killed while starting never gets ready: nobody waits for that.
  ready.catch(() => undefined);
  lines(child.stderr!, onStderr);
  return { child, ready, exited };
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
