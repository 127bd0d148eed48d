import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startServer, stopServers } from './own-servers';

/** Holds a loopback port, as another program taking it between the probe and the bind would. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  // It answers nothing: a client connecting to it is cut off.
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe("the benchmark's own redis-server processes", () => {
  let dir: string;
  let held: { port: number; server: Server };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'durabull-bench-own-'));
    held = await holdPort();
  });

  afterEach(async () => {
    await new Promise((resolve) => held.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('start again on another port when the first was taken, and answer there', async () => {
    const picked: number[] = [];
    const server = await startServer(dir, () => [], async () => {
      const port = picked.length === 0 ? held.port : await freePort();
      picked.push(port);
      return port;
    });
    try {
      expect(picked).toHaveLength(2);
      expect(picked[0]).toBe(held.port);
      expect(server.port).toBe(picked[1]);
      const redis = new Redis({ host: '127.0.0.1', port: server.port });
      try {
        expect(await redis.ping()).toBe('PONG');
      } finally {
        redis.disconnect();
      }
    } finally {
      await stopServers([server]);
    }
  });

  it('fail with the server output, without waiting out the deadline, when every port is taken', async () => {
    const began = Date.now();
    const attempt = startServer(dir, () => [], async () => held.port);
    await expect(attempt).rejects.toThrow(new RegExp(`^bench: redis-server on 127\\.0\\.0\\.1:${held.port} exited \\(exit code 1\\); its output:\\n[\\s\\S]*Address already in use`));
    // Three attempts of a server that exits at once, not three start-up deadlines (15 s each).
    expect(Date.now() - began).toBeLessThan(10_000);
  });
});
