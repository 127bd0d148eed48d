/**
 * The benchmark's own throwaway `redis-server` processes (a replica pair, a Cluster, a durable
 * Redis): started on a free loopback port, waited for with a deadline that holds whatever the
 * server does, and started again on another port when one was taken between the probe and the
 * server's bind (the server then exits at once).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** Start attempts on fresh ports before giving up. */
const START_ATTEMPTS = 3;
/** How long a server may take to be ready. */
const READY_TIMEOUT_MS = 15_000;
/** Server output kept for an error message (redis-server logs its start-up and why it exits). */
const OUTPUT_KEPT_BYTES = 8_192;

/** A `redis-server` of the benchmark's own. */
export interface OwnServer {
  readonly port: number;
  readonly process: ChildProcess;
  /** What the server printed so far (its first {@link OUTPUT_KEPT_BYTES} bytes). */
  output(): string;
}

/** Starts a redis-server on `port` without persistence (unless `extra` turns it on). */
function spawnServer(port: number, dir: string, extra: string[]): OwnServer {
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--dbfilename', `dump-${port}.rdb`,
      '--save', '',
      '--appendonly', 'no',
      '--repl-diskless-sync-delay', '0',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    if (output.length < OUTPUT_KEPT_BYTES) output += chunk.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(`${error.message}\n`)));
  return { port, process: child, output: () => output };
}

const exited = (server: OwnServer) => server.process.exitCode !== null || server.process.signalCode !== null;

/**
 * Waits until `ready` holds on `server`. Commands fail at once while there is no connection and
 * time out after a second, so the deadline is checked however the server behaves; a server that
 * exited fails the wait at once, with its output.
 */
export async function waitForServer(server: OwnServer, ready: (redis: Redis) => Promise<boolean>, what: string): Promise<void> {
  const redis = new Redis({
    host: '127.0.0.1',
    port: server.port,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1_000,
    retryStrategy: () => 50,
  });
  // Refused until the server listens: the loop below waits for it.
  redis.on('error', () => undefined);
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await ready(redis).catch(() => false))) {
      const failure = exited(server)
        ? `exited (${server.process.signalCode ?? `exit code ${server.process.exitCode}`})`
        : Date.now() > deadline
          ? `did not ${what} within ${READY_TIMEOUT_MS / 1000} s`
          : undefined;
      if (failure) throw new Error(`bench: redis-server on 127.0.0.1:${server.port} ${failure}; its output:\n${server.output().trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts a redis-server on a port from `pickPort` with the arguments `extra(port)` gives, and
 * waits for its PING; on a port taken meanwhile it tries another, {@link START_ATTEMPTS} times.
 */
export async function startServer(dir: string, extra: (port: number) => string[], pickPort: () => Promise<number> = freePort): Promise<OwnServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    const server = spawnServer(port, dir, extra(port));
    try {
      await waitForServer(server, async (redis) => (await redis.ping()) === 'PONG', 'answer PING');
      return server;
    } catch (error) {
      await stopServers([server]);
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/** Kills servers and waits for them to exit. */
export async function stopServers(servers: OwnServer[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      if (exited(server)) return;
      const gone = new Promise((resolve) => server.process.once('exit', resolve));
      server.process.kill('SIGKILL');
      await gone;
    }),
  );
}

/** A free loopback TCP port (it was, a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Whether a loopback port can be listened on now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
