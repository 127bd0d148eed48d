import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import { PROMETHEUS_CONTENT_TYPE } from './metrics';
import type { MetricsRegistry } from './metrics';

/**
 * A Prometheus endpoint: serves a metrics registry at `GET /metrics` in the Prometheus text format
 * (0.0.4) between {@link start} and {@link close}. A worker starts one for its `metrics.prometheus`
 * option; an application can serve a registry shared by several workers (or its own metrics)
 * itself: `const server = new PrometheusServer(registry, { port: 9464 }, logger); await server.start()`.
 */
export class PrometheusServer {
  private server?: Server;

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly listen: { port: number; host?: string },
    private readonly logger: Logger,
  ) {}

  /** Where it listens; undefined before it listens and after it closed. */
  get address(): AddressInfo | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  /** Serves the metrics registry at `GET /metrics` (Prometheus text format 0.0.4). */
  async start(): Promise<void> {
    const { port, host } = this.listen;
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found: metrics are at /metrics\n');
      } else if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      } else {
        const body = this.registry.toPrometheus();
        response.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
        response.end(request.method === 'HEAD' ? undefined : body);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new Error(`Worker cannot serve metrics on ${host ?? '*'}:${port}: ${error.message}`, { cause: error })),
      );
      server.listen(port, host, () => resolve());
    });
    server.on('error', (error) => this.logger.warn('Metrics endpoint error', { error: error.message }));
    this.server = server;
    this.logger.info('Serving metrics', { url: `http://${host ?? 'localhost'}:${this.address?.port}/metrics` });
  }

  /** Stops listening and closes open connections. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
