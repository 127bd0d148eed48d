// `durabull ui`: the web UI on the Redis and namespaces of --redis, until Ctrl-C.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandSpec, OptionSpec, OptionValues } from '../command';
import { optionalString } from '../command';
import { connectRedis, redactUrl } from '../connection';
import type { CommandContext } from '../context';
import { CliError, UsageError } from '../errors';
import { checkCodecEndpoint } from '../ui/codec';
import { UiServer, isLoopback } from '../ui/server';

/** The UI's default port (Temporal's dev UI port). */
export const DEFAULT_UI_PORT = 8233;
/** The environment variable that may hold the access token instead of --token. */
export const TOKEN_ENV = 'DURABULL_UI_TOKEN';
const MIN_TOKEN_LENGTH = 16;

/** The options of the UI that `durabull dev --ui` shares. */
export interface UiSettings {
  host: string;
  port: number;
  token?: string;
  readOnly: boolean;
  codecEndpoint?: string;
}

function port(text: string | undefined, option: string): number {
  if (text === undefined) return DEFAULT_UI_PORT;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value > 65_535) {
    throw new UsageError(`${option} must be an integer from 0 to 65535 (0 picks a free port), got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Reads and checks the UI options: where to listen, the token rule, the codec endpoint. @throws UsageError */
export function uiSettings(ctx: CommandContext, values: OptionValues): UiSettings {
  const ip = optionalString(values, 'ip');
  const hostOption = optionalString(values, 'host');
  if (ip !== undefined && hostOption !== undefined && ip !== hostOption) throw new UsageError('give --ip or --host, not both');
  const host = ip ?? hostOption ?? '127.0.0.1';
  if (host === '') throw new UsageError('--ip needs an address');
  const token = optionalString(values, 'token') ?? (ctx.env[TOKEN_ENV] || undefined);
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(`the access token (--token or ${TOKEN_ENV}) must be at least ${MIN_TOKEN_LENGTH} characters long`);
  }
  const readOnly = values['read-only'] === true;
  if (!isLoopback(host) && token === undefined && !readOnly) {
    throw new UsageError(
      `listening on ${host}, which is not a loopback address, needs an access token (--token or ${TOKEN_ENV}) or --read-only`,
    );
  }
  const endpoint = optionalString(values, 'codec-endpoint');
  let codecEndpoint: string | undefined;
  if (endpoint !== undefined) {
    try {
      codecEndpoint = checkCodecEndpoint(endpoint);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return { host, port: port(optionalString(values, 'port'), '--port'), token, readOnly, codecEndpoint };
}

/** The CLI's version, from its package.json. */
function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Waits for Ctrl-C (the command's abort signal). */
export function interrupted(ctx: CommandContext): Promise<void> {
  return new Promise<void>((resolve) => {
    const signal = ctx.io.signal;
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Serves the UI on `redisUrl` until `until` resolves; prints its URL (never the token).
 * @throws CliError when the address cannot be listened on
 */
export async function serveUi(ctx: CommandContext, settings: UiSettings, redisUrl: string, until: Promise<unknown>): Promise<void> {
  const connection = await connectRedis(redisUrl, ctx.connectOptions);
  let server: UiServer;
  try {
    server = await UiServer.start({
      redis: connection.redis,
      host: settings.host,
      port: settings.port,
      namespace: ctx.globals.namespace,
      token: settings.token,
      readOnly: settings.readOnly,
      codecEndpoint: settings.codecEndpoint,
      version: cliVersion(),
      log: (line) => ctx.note(line),
    });
  } catch (error) {
    await connection.close();
    const { code } = error as { code?: string };
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EADDRNOTAVAIL' ? 'no interface has that address' : (error as Error).message;
    throw new CliError(`the web UI cannot listen on ${settings.host}:${settings.port}: ${why}`);
  }
  try {
    const notes = [
      settings.readOnly ? 'read-only' : undefined,
      settings.token ? 'access token required' : undefined,
      settings.codecEndpoint ? `codec endpoint ${settings.codecEndpoint}` : undefined,
    ].filter(Boolean);
    if (ctx.json) ctx.outJson({ url: server.url, redisUrl: redactUrl(redisUrl), namespace: ctx.globals.namespace, readOnly: settings.readOnly });
    else ctx.out(`Web UI: ${server.url}`);
    if (!ctx.json) ctx.note(`web UI on ${redactUrl(redisUrl)}${notes.length ? ` (${notes.join(', ')})` : ''}; press Ctrl-C to stop it`);
    await until;
  } finally {
    await server.close();
    await connection.close();
  }
}

export const UI_OPTIONS: Record<string, OptionSpec> = {
  port: { type: 'string', value: '<n>', description: `port to listen on (default ${DEFAULT_UI_PORT}; 0 picks a free one)` },
  ip: { type: 'string', value: '<address>', description: 'address to listen on (default 127.0.0.1); another than loopback needs --token or --read-only' },
  host: { type: 'string', value: '<address>', description: 'the same as --ip' },
  token: { type: 'string', value: '<token>', description: `access token required by the UI (default: ${TOKEN_ENV}); at least ${MIN_TOKEN_LENGTH} characters` },
  'read-only': { type: 'boolean', description: 'no actions (cancel, terminate, signal, delete)' },
  'codec-endpoint': { type: 'string', value: '<url>', description: 'codec server that decodes payloads for display (POST <url>/decode, <url>/encode)' },
};

export const uiCommand: CommandSpec = {
  words: ['ui'],
  summary: 'serve the web UI (workflows, histories, actions) until Ctrl-C',
  usage: '[--port <n>] [--ip <address>] [--token <token>] [--read-only] [--codec-endpoint <url>]',
  options: UI_OPTIONS,
  details: [
    'The UI shows every namespace of the Redis (it opens --namespace first) and never creates one.',
    'It listens on 127.0.0.1 unless --ip says otherwise; any other address needs an access token',
    `(--token or ${TOKEN_ENV}: the browser asks for it once) unless --read-only. Scripts may send`,
    '"Authorization: Bearer <token>" to its JSON API under /api.',
    '',
    'Payloads that a codec encoded (AesGcmEncryptionCodec, say) are shown as encoded unless',
    '--codec-endpoint names a codec server: the UI POSTs {"payloads": [...]} to <url>/decode',
    '(and a signal\'s arguments to <url>/encode) with an X-Namespace header, and shows what it answers.',
    '',
    'Example:',
    `  durabull ui --port ${DEFAULT_UI_PORT}`,
  ].join('\n'),
  async run(ctx, values) {
    const settings = uiSettings(ctx, values);
    await serveUi(ctx, settings, ctx.globals.redisUrl, interrupted(ctx));
    return 0;
  },
};
