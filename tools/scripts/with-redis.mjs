#!/usr/bin/env node
// Runs a command with a reachable Redis in REDIS_URL ("the Redis rule").
//
//   node tools/scripts/with-redis.mjs -- <command> [args...]
//
// 1. REDIS_URL is set: it is used as is (no probe, nothing started), the environment is unchanged.
// 2. Else something answers a Redis PING on 127.0.0.1:6379: the command runs with
//    REDIS_URL=redis://127.0.0.1:6379 (a -NOAUTH or other error reply counts as an answer).
// 3. Else redis-server is on PATH: a throwaway one is started on a free loopback port (no RDB, no
//    AOF), the command runs with REDIS_URL=redis://127.0.0.1:<port>, and the server is stopped
//    (SIGTERM, then SIGKILL after 3 s) when the command exits or this script gets SIGINT/SIGTERM.
// 4. Else it exits with code 1 and says how to install redis-server or set REDIS_URL.
//
// The command runs with inherited stdio and the repository's node_modules/.bin first on PATH;
// this script exits with the command's exit code (1 if the command was killed by a signal).
// One line on stderr says which Redis is used.
//
// Environment:
//   REDIS_URL              use this Redis, skip everything else.
//   WITH_REDIS_PROBE_PORT  port probed on 127.0.0.1 in step 2 (default 6379). Meant for testing
//                          this script: point it at a closed port to exercise step 3 or 4 while
//                          a Redis keeps running on 6379.
//
// Node 20 built-ins only.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, freePort, pathKey, probe, sleep, which } from './local-redis.mjs';

const TAG = 'with-redis:';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function fail(message, code = 1) {
  process.stderr.write(`${TAG} ${message}\n`);
  process.exit(code);
}

/** The command after `--` (a leading `--` is optional). */
function parseCommand(argv) {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if (args.length === 0) fail('usage: node tools/scripts/with-redis.mjs -- <command> [args...]', 2);
  return args;
}


/** The throwaway redis-server in use, or null while none. */
let server = null;
/** Every redis-server child not yet exited, killed on exit as a last resort. */
const liveServers = new Set();
/** The command's child process, once spawned. */
let command = null;
/** Set when SIGINT/SIGTERM arrived; no new process is started after that. */
let interrupted = null;

/** Starts redis-server on a free port and waits for its PING; returns { child, port, output }. */
async function startServer(redisServer) {
  let lastError = '';
  for (let attempt = 1; attempt <= 3 && !interrupted; attempt++) {
    const port = await freePort();
    const output = [];
    // Own process group: a terminal Ctrl-C reaches the command first; the server is stopped after it.
    const child = spawn(
      redisServer,
      ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' },
    );
    server = { child, port, output };
    liveServers.add(child);
    const collect = (chunk) => output.push(chunk);
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        liveServers.delete(child);
        resolve(signal ?? `exit code ${code}`);
      });
      child.on('error', (error) => {
        liveServers.delete(child);
        output.push(Buffer.from(`${error.message}\n`));
        resolve(error.message);
      });
    });
    const started = Date.now();
    let gone = null;
    exited.then((how) => (gone = how));
    while (!gone && !interrupted && Date.now() - started < START_TIMEOUT_MS) {
      if (await probe(port, HOST, 250)) return server;
      await sleep(50);
    }
    const text = Buffer.concat(output).toString().trim();
    lastError = gone
      ? `redis-server on port ${port} exited (${gone}) before answering PING`
      : `redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS / 1000} s`;
    if (text) lastError += `; its output:\n${text}`;
    await stopServer();
    if (!gone) break; // a hung server will not get better on another port
  }
  if (interrupted) return null;
  fail(lastError);
}

/** Stops the throwaway server: SIGTERM, then SIGKILL after STOP_GRACE_MS. */
async function stopServer() {
  const current = server;
  server = null;
  if (!current || !liveServers.has(current.child)) return;
  const exited = new Promise((resolve) => current.child.once('exit', resolve));
  current.child.kill('SIGTERM');
  const timer = setTimeout(() => current.child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Runs the command with extraEnv on top of the environment; resolves its exit code. */
function runCommand(args, extraEnv) {
  const env = { ...process.env, ...extraEnv };
  const key = pathKey(env);
  env[key] = [path.join(repoRoot, 'node_modules', '.bin'), env[key]].filter(Boolean).join(path.delimiter);
  return new Promise((resolve) => {
    command = spawn(args[0], args.slice(1), { stdio: 'inherit', env, shell: process.platform === 'win32' });
    command.on('error', (error) => {
      process.stderr.write(`${TAG} cannot run ${args[0]}: ${error.message}\n`);
      resolve(error.code === 'ENOENT' ? 127 : 1);
    });
    command.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

function onSignal(signal) {
  interrupted = signal;
  if (command && command.exitCode === null && command.signalCode === null) {
    command.kill(signal); // the command exits, then main() stops the server
  } else if (!command) {
    // Still probing or starting the server: stop it and leave.
    stopServer().finally(() => process.exit(1));
  }
}

async function main() {
  const args = parseCommand(process.argv.slice(2));

  if (process.env.REDIS_URL) {
    process.stderr.write(`${TAG} using REDIS_URL=${redact(process.env.REDIS_URL)}\n`);
    return runCommand(args, {});
  }

  const probePort = Number(process.env.WITH_REDIS_PROBE_PORT || 6379);
  if (!Number.isInteger(probePort) || probePort <= 0 || probePort > 65535) {
    fail(`WITH_REDIS_PROBE_PORT must be a port number, got ${JSON.stringify(process.env.WITH_REDIS_PROBE_PORT)}`, 2);
  }
  const answer = await probe(probePort);
  if (answer) {
    const url = `redis://${HOST}:${probePort}`;
    const note = answer === 'pong' ? '' : ' (it answered PING with an error, e.g. it needs a password)';
    process.stderr.write(`${TAG} using the Redis answering on ${HOST}:${probePort}${note}\n`);
    return runCommand(args, { REDIS_URL: url });
  }

  const redisServer = which('redis-server');
  if (!redisServer) {
    fail(
      [
        `nothing answers a Redis PING on ${HOST}:${probePort} and redis-server is not installed (not on PATH).`,
        'Install it and run again:',
        '  Debian/Ubuntu: sudo apt-get install redis-server',
        '  macOS:         brew install redis',
        'or point REDIS_URL at a Redis you have, e.g. REDIS_URL=redis://host:6379.',
      ].join('\n'),
    );
  }

  const started = await startServer(redisServer);
  if (!started) return 1; // interrupted while starting
  process.stderr.write(`${TAG} started a throwaway redis-server on ${HOST}:${started.port}\n`);
  try {
    return await runCommand(args, { REDIS_URL: `redis://${HOST}:${started.port}` });
  } finally {
    await stopServer();
  }
}

/** REDIS_URL with any password masked, for the log line. */
function redact(url) {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));
// Last resort if this script dies on an exception: do not leave a server behind.
process.on('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${TAG} ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
