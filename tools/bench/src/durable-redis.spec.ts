import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DurableRedis } from './durable-redis';
import { startServer, stopServers } from './own-servers';
import { aofSize } from './redis-stats';

describe("the durable mode's own redis-server", () => {
  it('appends every write to an AOF fsynced as asked, never rewritten on its own, whose growth aofSize reads', async () => {
    const durable = await DurableRedis.start('always');
    const redis = new Redis(durable.url);
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
      expect(await redis.config('GET', 'auto-aof-rewrite-percentage')).toEqual(['auto-aof-rewrite-percentage', '0']);
      // The first write of a connection's database is preceded by a SELECT.
      await redis.set('k', 'u');
      const before = await aofSize(redis);
      expect(before).toEqual(expect.any(Number));
      await redis.set('k', 'v');
      // *3 $3 SET $1 k $1 v, each line ending in CRLF.
      expect(await aofSize(redis)).toBe(before! + '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n'.length);
    } finally {
      redis.disconnect();
      await durable.stop();
    }
  }, 30_000);

  it('has no AOF size to read from a Redis with AOF off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durabull-bench-no-aof-'));
    const server = await startServer(dir, () => []);
    const redis = new Redis({ host: '127.0.0.1', port: server.port });
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await aofSize(redis)).toBeUndefined();
    } finally {
      redis.disconnect();
      await stopServers([server]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
