// What the scripts that find or start a local Redis share (with-redis.mjs, redis-cluster.mjs):
// finding executables on PATH, loopback ports, and a raw Redis PING. Node 20 built-ins only.
//
// The CLI (`durabull dev`, apps/cli/src/redis-rule.ts) has its own copy of the Redis rule: it is
// shipped as a package of its own and cannot import the repository's tools.
import { accessSync, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const HOST = '127.0.0.1';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Key of PATH in env (Windows spells it `Path`). */
export function pathKey(env) {
  return Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH';
}

/** Full path of an executable found on PATH, or null. */
export function which(name, env = process.env) {
  const dirs = (env[pathKey(env)] ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
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
  return null;
}

/**
 * Sends a Redis PING to host:port. Resolves 'pong' for +PONG, 'other' for any other reply (e.g.
 * -NOAUTH: a Redis answers, it just wants credentials), or null when nothing answers in time.
 */
export function probe(port, host = HOST, timeoutMs = 500) {
  return new Promise((resolve) => {
    let settled = false;
    let reply = '';
    const socket = net.connect({ host, port });
    const done = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(reply ? 'other' : null), timeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') ? 'pong' : 'other');
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(reply ? 'other' : null));
  });
}

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true when `port` can be bound on HOST right now. */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}
