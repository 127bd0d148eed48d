#!/usr/bin/env node
/**
 * The benchmark's command line: `npm run bench` (builds, then runs this against the Redis rule's
 * Redis), or after a build:
 *
 *   node tools/bench/dist/main.js [--scenario <name>]... [--size tiny|full] [--reps N] [--durability always|everysec] [--out path] [--strict]
 *   node --cpu-prof tools/bench/dist/main.js --scenario latency      # also profiles worker processes
 *   node tools/bench/dist/main.js --from bench-results/latest.json --markdown   # re-render a report
 *
 * Prints progress on stderr and the results table on stdout; writes the JSON report.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIO_NAMES } from './config';
import { DURABILITY_POLICIES } from './durable-redis';
import type { DurabilityPolicy } from './durable-redis';
import type { ScenarioName, Size } from './config';
import { evaluateTargets, renderReport } from './report';
import type { BenchReport } from './report';
import { runBench } from './run';

/** Where the JSON report goes by default: `bench-results/latest.json` at the repository root (gitignored). */
const DEFAULT_OUT = path.resolve(__dirname, '../../../bench-results/latest.json');

const USAGE = `Usage: node tools/bench/dist/main.js [options]

  --scenario, -s <name>  run only this scenario (repeatable): ${SCENARIO_NAMES.join(', ')}
  --size tiny|full       tiny runs every scenario in seconds (a smoke test); default full
  --reps N               repetitions of each repeated scenario (default: per scenario)
  --out <path>           JSON report (default bench-results/latest.json)
  --durability always|everysec
                         run every scenario on a throwaway redis-server with AOF and that fsync
                         policy (Durabull and the raw chain alike): the cost of durability
  --strict               exit with code 1 when a target fails
  --from <path>          do not run: print the tables of an earlier JSON report (targets judged anew)
  --markdown             print Markdown tables (for BENCHMARKS.md)
  --help, -h             this text

Redis: REDIS_URL, else 127.0.0.1:6379. npm run bench applies the Redis rule (tools/scripts/with-redis.mjs).
Profile with: node --cpu-prof tools/bench/dist/main.js --scenario latency (one .cpuprofile per process).`;

/** The parsed command line. */
export interface CliOptions {
  scenarios: ScenarioName[];
  size: Size;
  reps?: number;
  /** `--durability`: run on a throwaway Redis with AOF and this fsync policy. */
  durability?: DurabilityPolicy;
  out: string;
  strict: boolean;
  help: boolean;
  /** Re-render this JSON report instead of running. */
  from?: string;
  markdown: boolean;
}

/** Parses the command line; throws a TypeError with a message for the user on bad input. */
export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string', short: 's', multiple: true },
      size: { type: 'string', default: 'full' },
      reps: { type: 'string' },
      durability: { type: 'string' },
      out: { type: 'string' },
      strict: { type: 'boolean', default: false },
      from: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const scenarios = (values.scenario ?? [...SCENARIO_NAMES]) as string[];
  for (const name of scenarios) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`Unknown scenario ${JSON.stringify(name)}: expected one of ${SCENARIO_NAMES.join(', ')}`);
    }
  }
  if (values.size !== 'tiny' && values.size !== 'full') throw new TypeError(`--size must be tiny or full, got ${JSON.stringify(values.size)}`);
  let reps: number | undefined;
  if (values.reps !== undefined) {
    reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1) throw new TypeError(`--reps must be an integer >= 1, got ${JSON.stringify(values.reps)}`);
  }
  if (values.durability !== undefined && !(DURABILITY_POLICIES as readonly string[]).includes(values.durability)) {
    throw new TypeError(`--durability must be ${DURABILITY_POLICIES.join(' or ')}, got ${JSON.stringify(values.durability)}`);
  }
  return {
    scenarios: scenarios as ScenarioName[],
    size: values.size,
    reps,
    durability: values.durability as DurabilityPolicy | undefined,
    out: path.resolve(values.out ?? DEFAULT_OUT),
    strict: values.strict ?? false,
    help: values.help ?? false,
    from: values.from === undefined ? undefined : path.resolve(values.from),
    markdown: values.markdown ?? false,
  };
}

async function main(): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  if (cli.from) {
    // Targets judged again, against today's limits, on the figures the report holds.
    const report = JSON.parse(readFileSync(cli.from, 'utf8')) as BenchReport;
    console.log(renderReport({ ...report, targets: evaluateTargets(report.scenarios, report.durability) }, cli.markdown));
    return 0;
  }
  // DURABULL_LOG_LEVEL is left alone: a benchmark should show what the workers warn about.
  const report = await runBench({
    scenarios: cli.scenarios,
    size: cli.size,
    reps: cli.reps,
    durability: cli.durability,
    out: cli.out,
    log: (message) => console.error(message),
    command: ['node', ...process.execArgv, path.relative(process.cwd(), process.argv[1] ?? 'main.js'), ...process.argv.slice(2)].join(' '),
  });
  console.log(renderReport(report, cli.markdown));
  console.log(`\nJSON report: ${path.relative(process.cwd(), cli.out)}`);
  return cli.strict && report.targets.some((target) => !target.pass) ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
