// The web UI's HTTP server (node:http): the single-page front end in ./public and a small JSON
// API under /api. Security: an access token (when given) checked on every request but the login
// page and the static assets, a loopback Host header when listening on loopback without a token
// (against DNS rebinding), a CSRF token, a same-origin check and JSON bodies for every action,
// and no token in any log line or URL.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import path from 'node:path';
import { RedisConnectionError } from '@durabull/sdk';
import type { Cluster, Redis } from 'ioredis';
import { ApiError, UiData, parseListFilter } from './data';
import { SCHEDULE_ACTIONS } from './schedules';
import type { ScheduleAction } from './schedules';

/** Options of {@link UiServer.start}. */
export interface UiServerOptions {
  /** The connection the UI reads and acts through (not closed by the server). */
  redis: Redis | Cluster;
  /** Address to listen on. */
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** The namespace the UI opens first. */
  namespace: string;
  /** Access token every request must carry (a session cookie after login, or `Authorization: Bearer`). */
  token?: string;
  /** Refuse every action (cancel, terminate, signal, delete). */
  readOnly: boolean;
  /** Codec server that decodes payloads for display (see ./codec.ts). */
  codecEndpoint?: string;
  /** The CLI's version, shown in the page footer. */
  version: string;
  /** Where errors of the server itself go (never with the token). */
  log: (line: string) => void;
}

const SESSION_COOKIE = 'durabull_ui_session';
const CSRF_HEADER = 'x-durabull-csrf';
const MAX_BODY_BYTES = 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Whether an address or host name is the loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || bare.startsWith('::ffff:127.');
  return false;
}

/** The folder of the front end: beside the sources (ts-jest), or at ../../src/ui/public from dist/ui. */
function publicFolder(): string {
  const candidates = [path.join(__dirname, 'public'), path.join(__dirname, '..', '..', 'src', 'ui', 'public')];
  return candidates.find((folder) => existsSync(path.join(folder, 'index.html'))) ?? candidates[0]!;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookies(request: IncomingMessage): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) found.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
  }
  return found;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The web UI's HTTP server. */
export class UiServer {
  private readonly sessions = new Set<string>();
  /** Sent by the front end with every action; only same-origin pages can read it from /api/config. */
  private readonly csrfToken = randomBytes(24).toString('base64url');
  private readonly data: UiData;
  private readonly folder = publicFolder();

  private constructor(
    private readonly options: UiServerOptions,
    private readonly server: Server,
  ) {
    this.data = new UiData(options.redis, options.codecEndpoint);
  }

  /** Starts listening. @throws Error when the address cannot be listened on */
  static async start(options: UiServerOptions): Promise<UiServer> {
    const server = createServer();
    const ui = new UiServer(options, server);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      ui.handle(request, response).catch((error: unknown) => {
        options.log(`web UI: ${(error as Error).message}`);
        if (!response.headersSent) ui.json(response, 500, { error: 'internal error' });
        else response.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return ui;
  }

  /** The port it listens on. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** The page's URL (never with the token). */
  get url(): string {
    const host = isIP(this.options.host) === 6 ? `[${this.options.host}]` : this.options.host;
    const shown = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
    return `http://${shown}:${this.port}/`;
  }

  /** Stops listening, ends open connections and closes the UI's clients. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.data.close();
  }

  // -------------------------------------------------------------------------------------------

  private headers(response: ServerResponse): void {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('X-Frame-Options', 'DENY');
    response.setHeader('Referrer-Policy', 'same-origin');
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    this.headers(response);
    response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(body));
  }

  private redirect(response: ServerResponse, location: string): void {
    this.headers(response);
    response.writeHead(303, { Location: location });
    response.end();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://ui.invalid');
    const method = request.method ?? 'GET';

    // Listening on loopback without a token, the Host header must name loopback too: a page of
    // another site whose name was rebound to 127.0.0.1 sends its own name.
    const host = request.headers.host ?? '';
    if (!this.options.token && isLoopback(this.options.host) && !isLoopback(host.replace(/:\d+$/, ''))) {
      return this.json(response, 403, { error: `unexpected Host header ${JSON.stringify(host)}: this UI answers on loopback names only` });
    }

    if (url.pathname.startsWith('/assets/') && (method === 'GET' || method === 'HEAD')) return this.asset(response, url.pathname.slice('/assets/'.length));
    if (url.pathname === '/login') return this.login(request, response, method, url);

    if (!this.authenticated(request)) {
      if (url.pathname.startsWith('/api/')) return this.json(response, 401, { error: 'access token required: log in at /login or send Authorization: Bearer <token>' });
      return this.redirect(response, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
    }

    if (url.pathname.startsWith('/api/')) {
      if (method === 'POST') {
        const refusal = this.crossSite(request);
        if (refusal) return this.json(response, 403, { error: refusal });
        if (this.options.readOnly) return this.json(response, 403, { error: 'the web UI is read-only (started with --read-only): actions are refused' });
      } else if (method !== 'GET') {
        return this.json(response, 405, { error: `method ${method} not allowed` });
      }
      try {
        return await this.api(request, response, method, url);
      } catch (error) {
        if (error instanceof ApiError) return this.json(response, error.status, { error: error.message });
        if (error instanceof RedisConnectionError) return this.json(response, 503, { error: `Redis is unreachable: ${error.message}` });
        this.options.log(`web UI: ${request.method} ${url.pathname}: ${(error as Error).message}`);
        return this.json(response, 500, { error: (error as Error).message });
      }
    }
    if (method !== 'GET' && method !== 'HEAD') return this.json(response, 405, { error: `method ${method} not allowed` });
    if (url.pathname === '/') return this.redirect(response, `/namespaces/${encodeURIComponent(this.options.namespace)}/workflows`);
    return this.asset(response, 'index.html');
  }

  private authenticated(request: IncomingMessage): boolean {
    const token = this.options.token;
    if (!token) return true;
    const authorization = request.headers.authorization ?? '';
    if (authorization.startsWith('Bearer ') && sameSecret(authorization.slice('Bearer '.length), token)) return true;
    const session = cookies(request).get(SESSION_COOKIE);
    return session !== undefined && [...this.sessions].some((known) => sameSecret(session, known));
  }

  /** Why an action is refused as cross-site, or undefined when it is not. */
  private crossSite(request: IncomingMessage): string | undefined {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-site request refused (Sec-Fetch-Site: ${site})`;
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) return `cross-site request refused (Origin ${origin})`;
    const csrf = request.headers[CSRF_HEADER];
    if (typeof csrf !== 'string' || !sameSecret(csrf, this.csrfToken)) return `cross-site request refused (missing or wrong ${CSRF_HEADER} header)`;
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return 'actions take a JSON body (Content-Type: application/json)';
    return undefined;
  }

  private async asset(response: ServerResponse, name: string): Promise<void> {
    if (!/^[a-z0-9-]+\.(html|js|css|svg)$/.test(name)) return this.json(response, 404, { error: 'not found' });
    let body: Buffer;
    try {
      body = await readFile(path.join(this.folder, name));
    } catch {
      return this.json(response, 404, { error: 'not found' });
    }
    this.headers(response);
    response.setHeader('Cache-Control', 'no-cache');
    response.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream' });
    response.end(body);
  }

  private async login(request: IncomingMessage, response: ServerResponse, method: string, url: URL): Promise<void> {
    const next = url.searchParams.get('next') ?? '/';
    const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/';
    if (!this.options.token) return this.redirect(response, safeNext);
    let failed = false;
    if (method === 'POST') {
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) return this.json(response, 403, { error: `cross-site request refused (Origin ${origin})` });
      const form = new URLSearchParams(await this.body(request));
      if (sameSecret(form.get('token') ?? '', this.options.token)) {
        const session = randomBytes(32).toString('base64url');
        this.sessions.add(session);
        response.setHeader('Set-Cookie', `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`);
        return this.redirect(response, safeNext);
      }
      failed = true;
    } else if (method !== 'GET') {
      return this.json(response, 405, { error: `method ${method} not allowed` });
    }
    this.headers(response);
    response.writeHead(failed ? 401 : 200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Durabull · log in</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="login"><main><h1>Durabull</h1>
<form method="post" action="/login?next=${escapeHtml(encodeURIComponent(safeNext))}">
<label>Access token <input type="password" name="token" autocomplete="current-password" autofocus></label>
<button type="submit">Log in</button>
${failed ? '<p class="error">That is not the access token.</p>' : ''}
<p class="hint">The token is the one given to <code>durabull ui</code> (--token or DURABULL_UI_TOKEN).</p>
</form></main></body></html>`);
  }

  private body(request: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          reject(new ApiError(413, `request body over ${MAX_BODY_BYTES} bytes`));
          request.destroy();
        } else chunks.push(chunk);
      });
      request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      request.on('error', reject);
    });
  }

  private async jsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
    const text = await this.body(request);
    if (text.trim() === '') return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ApiError(400, `the body is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(400, 'the body must be a JSON object');
    return value as Record<string, unknown>;
  }

  private async api(request: IncomingMessage, response: ServerResponse, method: string, url: URL): Promise<void> {
    const parts = url.pathname.split('/').slice(2).map((part) => decodeURIComponent(part));
    const get = method === 'GET';
    // /api/config
    if (get && parts.length === 1 && parts[0] === 'config') {
      return this.json(response, 200, {
        namespace: this.options.namespace,
        readOnly: this.options.readOnly,
        codec: this.options.codecEndpoint !== undefined,
        csrfToken: this.csrfToken,
        version: this.options.version,
      });
    }
    // /api/namespaces
    if (get && parts.length === 1 && parts[0] === 'namespaces') return this.json(response, 200, { namespaces: await this.data.namespaces() });
    // /api/namespaces/:ns/schedules[/:id]
    if (get && parts[0] === 'namespaces' && parts[2] === 'schedules' && parts.length === 3) return this.json(response, 200, await this.data.schedules(parts[1]!));
    if (get && parts[0] === 'namespaces' && parts[2] === 'schedules' && parts.length === 4) return this.json(response, 200, await this.data.schedule(parts[1]!, parts[3]!));
    // POST /api/namespaces/:ns/schedules/:id/(pause|unpause|trigger|delete), body { note? }
    if (method === 'POST' && parts[0] === 'namespaces' && parts[2] === 'schedules' && parts.length === 5) {
      const action = parts[4] as ScheduleAction;
      if (!SCHEDULE_ACTIONS.includes(action)) throw new ApiError(404, `no such action: ${parts[4]}`);
      const note = (await this.jsonBody(request))['note'] ?? '';
      if (typeof note !== 'string') throw new ApiError(400, `note must be a string, got ${JSON.stringify(note)}`);
      await this.data.scheduleAction(parts[1]!, parts[3]!, action, note);
      return this.json(response, 200, { done: action });
    }
    if (parts[0] !== 'namespaces' || parts.length < 3 || parts[2] !== 'workflows') throw new ApiError(404, `no such API: ${url.pathname}`);
    const namespace = parts[1]!;
    const [, , , workflowId, runs, runId, action] = parts;

    // /api/namespaces/:ns/workflows
    if (get && workflowId === undefined) {
      const pageSize = Number(url.searchParams.get('pageSize') ?? '20');
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new ApiError(400, `pageSize must be an integer from 1 to 1000, got ${JSON.stringify(url.searchParams.get('pageSize'))}`);
      const filter = parseListFilter(url.searchParams);
      return this.json(response, 200, await this.data.list(namespace, filter, pageSize, url.searchParams.get('pageToken') || undefined));
    }
    // /api/namespaces/:ns/workflows/:id
    if (get && workflowId !== undefined && runs === undefined) return this.json(response, 200, await this.data.currentRun(namespace, workflowId));
    if (workflowId === undefined || runs !== 'runs' || runId === undefined) throw new ApiError(404, `no such API: ${url.pathname}`);
    // /api/namespaces/:ns/workflows/:id/runs/:runId
    if (get && action === undefined) return this.json(response, 200, await this.data.run(namespace, workflowId, runId));
    if (method !== 'POST' || action === undefined || parts.length !== 7) throw new ApiError(404, `no such API: ${url.pathname}`);

    const body = await this.jsonBody(request);
    const reason = body['reason'] === undefined ? '' : body['reason'];
    if (typeof reason !== 'string') throw new ApiError(400, `reason must be a string, got ${JSON.stringify(reason)}`);
    switch (action) {
      case 'cancel':
        await this.data.cancel(namespace, workflowId, runId, reason);
        return this.json(response, 200, { cancelRequested: true });
      case 'terminate':
        await this.data.terminate(namespace, workflowId, runId, reason);
        return this.json(response, 200, { terminated: true });
      case 'signal': {
        const name = body['name'];
        if (typeof name !== 'string' || name === '') throw new ApiError(400, 'name must be the signal name (a non-empty string)');
        const args = body['args'] ?? [];
        if (!Array.isArray(args)) throw new ApiError(400, `args must be a JSON array, got ${JSON.stringify(args)}`);
        await this.data.signal(namespace, workflowId, runId, name, args);
        return this.json(response, 200, { signalled: true });
      }
      case 'delete':
        await this.data.delete(namespace, workflowId, runId);
        return this.json(response, 200, { deleted: true });
      default:
        throw new ApiError(404, `no such action: ${action}`);
    }
  }
}
