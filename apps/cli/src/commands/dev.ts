// `durabull dev`: a Redis for local development, found or started by the Redis rule.
import type { CommandSpec } from '../command';
import { optionalPositiveInteger } from '../command';
import { connectRedis, redactUrl } from '../connection';
import type { CommandContext } from '../context';
import { CliError, UsageError } from '../errors';
import { DEFAULT_UI_PORT, interrupted as untilCtrlC, serveUi, uiSettings } from './ui';
import { DEFAULT_REDIS_PORT, INSTALL_HINT, LOOPBACK, probe, startRedisServer, which } from '../redis-rule';

function announce(ctx: CommandContext, url: string, started: boolean): void {
  if (ctx.json) ctx.outJson({ redisUrl: url, started });
  else ctx.out(`REDIS_URL=${url}`);
}

export const dev: CommandSpec = {
  words: ['dev'],
  summary: 'find a Redis for development, or start a throwaway redis-server, and print its REDIS_URL',
  usage: '[--port <n>] [--ui [--ui-port <n>]]',
  options: {
    port: { type: 'string', value: '<n>', description: `port probed on ${LOOPBACK} and used by a started server (default: probe ${DEFAULT_REDIS_PORT}, start on a free port)` },
    ui: { type: 'boolean', description: `also serve the web UI on ${LOOPBACK} (as durabull ui does) until Ctrl-C` },
    'ui-port': { type: 'string', value: '<n>', description: `port of the web UI (default ${DEFAULT_UI_PORT}; 0 picks a free one)` },
  },
  details: [
    'The Redis rule, as npm test and npm run demo apply it:',
    '  1. --redis or REDIS_URL when given: checked, printed, and the command exits.',
    `  2. Else a Redis answering PING on ${LOOPBACK}:${DEFAULT_REDIS_PORT} (or --port): printed, and the command exits.`,
    '  3. Else a throwaway redis-server (no persistence) is started on a free loopback port (or --port);',
    '     its REDIS_URL is printed and it runs until Ctrl-C.',
    '  4. Else the command fails and says how to install redis-server.',
    '',
    'With --ui, the web UI is served beside that Redis (found or started) until Ctrl-C.',
    '',
    'Example (another terminal): export REDIS_URL=redis://127.0.0.1:<port printed by durabull dev>',
  ].join('\n'),
  async run(ctx, values) {
    const port = optionalPositiveInteger(values, 'port', 65_535);
    const ui = values['ui'] === true ? uiSettings(ctx, { port: values['ui-port'] }) : undefined;
    if (!ui && values['ui-port'] !== undefined) throw new UsageError('--ui-port goes with --ui');

    if (ctx.globals.redisGiven) {
      const connection = await connectRedis(ctx.globals.redisUrl, ctx.connectOptions);
      await connection.close();
      if (!ctx.json) ctx.note(`Redis answers at ${redactUrl(ctx.globals.redisUrl)}; nothing to start`);
      announce(ctx, ctx.globals.redisUrl, false);
      if (ui) await serveUi(ctx, ui, ctx.globals.redisUrl, untilCtrlC(ctx));
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
      if (ui) await serveUi(ctx, ui, url, untilCtrlC(ctx));
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
      const outcome = ui
        ? await new Promise<unknown>((resolve, reject) => {
            const until = Promise.race([interrupted, server.exited]);
            serveUi(ctx, ui, server.url, until).then(() => until.then(resolve), reject);
          })
        : await Promise.race([interrupted, server.exited]);
      if (outcome !== 'interrupted') throw new CliError(`redis-server on port ${server.port} exited unexpectedly (${outcome})`);
      await server.stop();
      if (!ctx.json) ctx.note(`stopped redis-server on ${LOOPBACK}:${server.port}`);
      return 0;
    } finally {
      await server.stop();
    }
  },
};
