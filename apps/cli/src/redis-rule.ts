// The Redis rule (as tools/scripts/with-redis.mjs applies it to `npm test` and `npm run demo`):
// REDIS_URL when set; else a Redis answering PING on 127.0.0.1:6379; else a throwaway
// redis-server on a free loopback port, without persistence. Node built-ins only.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const LOOPBACK = '127.0.0.1';
export const DEFAULT_REDIS_PORT = 6379;
const PROBE_TIMEOUT_MS = 500;
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/**
 * Sends a Redis PING to host:port. Resolves 'pong' for +PONG, 'other' for any other reply (a
 * -NOAUTH: a Redis answers, it wants credentials), or null when nothing answers in time.
 */
export function probe(port: number, host = LOOPBACK, timeoutMs = PROBE_TIMEOUT_MS): Promise<'pong' | 'other' | null> {
  return new Promise((resolve) => {
    let settled = false;
    let reply = '';
    const socket = net.connect({ host, port });
    const done = (result: 'pong' | 'other' | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(reply ? 'other' : null), timeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') ? 'pong' : 'other');
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(reply ? 'other' : null));
  });
}

/** Key of PATH in env (Windows spells it `Path`). */
function pathKey(env: NodeJS.ProcessEnv): string {
  return Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH';
}

/** Full path of an executable found on env's PATH, or undefined. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env[pathKey(env)] ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (env['PATHEXT'] ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        accessSync(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A redis-server this process started. */
export interface ThrowawayRedis {
  port: number;
  url: string;
  pid: number | undefined;
  /** Resolves when the server exits, for whatever reason, with how it ended. */
  exited: Promise<string>;
  /** Stops it: SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>;
}

/** Every server started and not yet exited: killed when this process exits, as a last resort. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * Starts `redis-server` on `port` (a free loopback port when undefined), bound to 127.0.0.1,
 * without RDB or AOF, and waits until it answers PING.
 * @throws Error naming what went wrong (exited early, did not answer), with the server's output.
 */
export async function startRedisServer(redisServer: string, port?: number): Promise<ThrowawayRedis> {
  let lastError = '';
  // A free port can be taken between the check and the start: try another one (not a given port).
  for (let attempt = 1; attempt <= (port === undefined ? 3 : 1); attempt++) {
    const serverPort = port ?? (await freePort());
    const output: Buffer[] = [];
    // Own process group: a terminal Ctrl-C reaches the CLI, which then stops the server.
    const child = spawn(
      redisServer,
      ['--port', String(serverPort), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' },
    );
    installExitHook();
    live.add(child);
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    let gone: string | undefined;
    const exited = new Promise<string>((resolve) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        resolve((gone = signal ?? `exit code ${code}`));
      });
      child.on('error', (error) => {
        live.delete(child);
        resolve((gone = error.message));
      });
    });
    const stop = async () => {
      if (!live.has(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    };
    const started = Date.now();
    while (gone === undefined && Date.now() - started < START_TIMEOUT_MS) {
      if (await probe(serverPort, LOOPBACK, 250)) {
        return { port: serverPort, url: `redis://${LOOPBACK}:${serverPort}`, pid: child.pid, exited, stop };
      }
      await sleep(50);
    }
    const text = Buffer.concat(output).toString().trim().split('\n').at(-1)?.trim();
    lastError =
      gone !== undefined
        ? `redis-server on port ${serverPort} exited (${gone}) before answering PING`
        : `redis-server on port ${serverPort} did not answer PING within ${START_TIMEOUT_MS / 1000} s`;
    if (text) lastError += `: ${text}`;
    await stop();
    if (gone === undefined) break; // a hung server will not get better on another port
  }
  throw new Error(lastError);
}

/** The one-line hint when no Redis answers and redis-server is not installed. */
export const INSTALL_HINT =
  'install redis-server (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a Redis you have';
