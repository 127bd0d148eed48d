// `durabull dev`: a Redis for local development, found or started by the Redis rule.
import type { CommandSpec } from '../command';
import { optionalPositiveInteger } from '../command';
import { connectRedis, redactUrl } from '../connection';
import type { CommandContext } from '../context';
import { CliError } from '../errors';
import { DEFAULT_REDIS_PORT, INSTALL_HINT, LOOPBACK, probe, startRedisServer, which } from '../redis-rule';

function announce(ctx: CommandContext, url: string, started: boolean): void {
  if (ctx.json) ctx.outJson({ redisUrl: url, started });
  else ctx.out(`REDIS_URL=${url}`);
}

export const dev: CommandSpec = {
  words: ['dev'],
  summary: 'find a Redis for development, or start a throwaway redis-server, and print its REDIS_URL',
  usage: '[--port <n>]',
  options: {
    port: { type: 'string', value: '<n>', description: `port probed on ${LOOPBACK} and used by a started server (default: probe ${DEFAULT_REDIS_PORT}, start on a free port)` },
  },
  details: [
    'The Redis rule, as npm test and npm run demo apply it:',
    '  1. --redis or REDIS_URL when given: checked, printed, and the command exits.',
    `  2. Else a Redis answering PING on ${LOOPBACK}:${DEFAULT_REDIS_PORT} (or --port): printed, and the command exits.`,
    '  3. Else a throwaway redis-server (no persistence) is started on a free loopback port (or --port);',
    '     its REDIS_URL is printed and it runs until Ctrl-C.',
    '  4. Else the command fails and says how to install redis-server.',
    '',
    'Example (another terminal): export REDIS_URL=redis://127.0.0.1:<port printed by durabull dev>',
  ].join('\n'),
  async run(ctx, values) {
    const port = optionalPositiveInteger(values, 'port', 65_535);

    if (ctx.globals.redisGiven) {
      const connection = await connectRedis(ctx.globals.redisUrl);
      await connection.close();
      if (!ctx.json) ctx.note(`Redis answers at ${redactUrl(ctx.globals.redisUrl)}; nothing to start`);
      announce(ctx, ctx.globals.redisUrl, false);
      return 0;
    }

    const probePort = port ?? DEFAULT_REDIS_PORT;
    const answer = await probe(probePort);
    if (answer) {
      const url = `redis://${LOOPBACK}:${probePort}`;
      if (!ctx.json) {
        const note = answer === 'pong' ? '' : ' (it answered PING with an error: it may need a password)';
        ctx.note(`a Redis already answers on ${LOOPBACK}:${probePort}${note}; nothing to start`);
      }
      announce(ctx, url, false);
      return 0;
    }

    const redisServer = which('redis-server', ctx.env);
    if (!redisServer) {
      throw new CliError(`nothing answers a Redis PING on ${LOOPBACK}:${probePort} and redis-server is not on PATH: ${INSTALL_HINT}`);
    }
    if (ctx.io.signal?.aborted) return 0;
    let server;
    try {
      server = await startRedisServer(redisServer, port);
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    try {
      announce(ctx, server.url, true);
      if (!ctx.json) ctx.note(`started a throwaway redis-server (pid ${server.pid}, no persistence) on ${LOOPBACK}:${server.port}; press Ctrl-C to stop it`);
      const interrupted = new Promise<'interrupted'>((resolve) => {
        const signal = ctx.io.signal;
        if (signal?.aborted) resolve('interrupted');
        signal?.addEventListener('abort', () => resolve('interrupted'), { once: true });
      });
      const outcome = await Promise.race([interrupted, server.exited]);
      if (outcome !== 'interrupted') throw new CliError(`redis-server on port ${server.port} exited unexpectedly (${outcome})`);
      await server.stop();
      if (!ctx.json) ctx.note(`stopped redis-server on ${LOOPBACK}:${server.port}`);
      return 0;
    } finally {
      await server.stop();
    }
  },
};
