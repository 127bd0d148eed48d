/**
 * The full chaos soak, from the command line (`npm run soak`; see RELIABILITY.md):
 *
 *   node tests/fault/dist/chaos/main.js [--duration <s>] [--workflows <n>] [--json <path>] [--keep]
 *
 * --duration   seconds of chaos (default 60)
 * --workflows  workflows started over the chaos (default 50 per second of chaos)
 * --json       also write the report there
 * --keep       keep the namespace (to inspect histories, e.g. `durabull workflow show`)
 *
 * Uses the Redis of REDIS_URL (else 127.0.0.1:6379) and a fresh namespace that it deletes at the
 * end unless --keep. Prints progress on stderr and the figures and targets on stdout. Exits with 1 when a run
 * did not complete with the right result or a history broke an invariant, and with 2 when only a
 * full-size target (gaps, time to close) was missed.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { TestEnvironment } from '@durabull/testing';
import { formatReport, runSoak, targets } from './soak';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

function positive(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`Invalid --${name}: ${JSON.stringify(raw)} (a positive number)`);
  return value;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (['--duration', '--workflows', '--json'].includes(args[i]!)) i++;
    else if (args[i] !== '--keep') throw new Error(`Unknown argument: ${args[i]} (--duration <s>, --workflows <n>, --json <path>, --keep)`);
  }
  const keep = process.argv.includes('--keep');
  const seconds = positive('duration', 60);
  const workflows = Math.round(positive('workflows', 50 * seconds));
  const env = await TestEnvironment.create({ namespace: `soak-${Date.now().toString(36)}` });
  try {
    const info = await env.client.redis.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, Redis ${redisVersion}, load average at start ${loadavg()[0]!.toFixed(2)}`;
    const report = await runSoak({
      client: env.client,
      chaosMs: seconds * 1000,
      workflows,
      log: (line) => process.stderr.write(`soak: ${line}\n`),
    });
    const json = option('json');
    if (json) writeFileSync(json, `${JSON.stringify({ machine, ...report }, null, 2)}\n`);
    process.stdout.write(`machine: ${machine}\n`);
    for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
    const results = targets(report);
    for (const { target, measured, pass } of results) process.stdout.write(`${pass ? 'PASS' : 'FAIL'}  ${target}: measured ${measured}\n`);
    if (!results[0]!.pass || !results[1]!.pass) return 1;
    return results.every((r) => r.pass) ? 0 : 2;
  } finally {
    if (keep) {
      process.stderr.write(`soak: namespace ${env.namespace} kept\n`);
      await env.client.close();
    } else {
      await env.teardown();
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
