import { Client } from '@durabull/sdk';
import { connectRedis } from './connection';
import type { CliRedis, ConnectOptions } from './connection';
import { InterruptedError } from './errors';
import { toJson } from './output';
import type { CliIO, OutputFormat } from './output';

/** The options every command takes. */
export interface GlobalOptions {
  namespace: string;
  /** `--redis`, else REDIS_URL, else redis://127.0.0.1:6379. */
  redisUrl: string;
  /** Whether the URL came from `--redis` or REDIS_URL rather than the default. */
  redisGiven: boolean;
  output: OutputFormat;
  /** `--tls-ca`, else DURABULL_TLS_CA: a PEM file of CAs to trust for rediss://. */
  tlsCa?: string;
}

/** What a command runs with: its output, the global options, and a client made on first use. */
export class CommandContext {
  private redis?: CliRedis;
  private connected?: Promise<Client>;

  constructor(
    readonly io: CliIO,
    readonly env: NodeJS.ProcessEnv,
    readonly globals: GlobalOptions,
  ) {}

  /** Whether the output is JSON (`-o json` or `-o jsonl`). */
  get json(): boolean {
    return this.globals.output === 'json' || this.globals.output === 'jsonl';
  }

  /** Whether the output is JSON lines (`-o jsonl`): one compact document per line. */
  get jsonl(): boolean {
    return this.globals.output === 'jsonl';
  }

  /** How to connect besides the URL (the TLS CA), for commands that make their own connection. */
  get connectOptions(): ConnectOptions {
    return { tlsCa: this.globals.tlsCa };
  }

  /** Writes a line to stdout. */
  out(text: string): void {
    this.io.stdout(`${text}\n`);
  }

  /** Writes a value as JSON to stdout: pretty, or on one line with `-o jsonl`. */
  outJson(value: unknown): void {
    this.out(this.jsonl ? JSON.stringify(value) ?? 'null' : toJson(value));
  }

  /** Writes a note for people to stderr. */
  note(text: string): void {
    this.io.stderr(`durabull: ${text}\n`);
  }

  /**
   * The client on `--redis` and `--namespace`, connected on first call and closed by {@link close}.
   * It never creates the namespace (a namespace nobody opened is a NamespaceNotFoundError) unless
   * `create` is set: only commands that start workflows create one.
   */
  client(options: { create?: boolean } = {}): Promise<Client> {
    this.connected ??= (async () => {
      this.redis = await connectRedis(this.globals.redisUrl, this.connectOptions);
      return Client.connect({ redis: this.redis.redis, namespace: this.globals.namespace, createNamespace: options.create === true });
    })();
    return this.connected;
  }

  /** The last socket error of the connection, for the "Redis is unreachable" message. */
  unreachable(cause: unknown) {
    return this.redis ? this.redis.unreachable(cause) : undefined;
  }

  /** Waits for `promise`, or rejects with InterruptedError when the user presses Ctrl-C. */
  untilInterrupted<T>(promise: Promise<T>): Promise<T> {
    const signal = this.io.signal;
    if (!signal) return promise;
    if (signal.aborted) {
      promise.catch(() => undefined);
      return Promise.reject(new InterruptedError());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        promise.catch(() => undefined);
        reject(new InterruptedError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** Closes the client and its connection (a command never leaves one open). */
  async close(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected) {
      const client = await connected.catch(() => undefined);
      await client?.close().catch(() => undefined);
    }
    await this.redis?.close();
    this.redis = undefined;
  }
}
