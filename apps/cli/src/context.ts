import { Client } from '@durabull/sdk';
import { connectRedis } from './connection';
import type { CliRedis } from './connection';
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

  get json(): boolean {
    return this.globals.output === 'json';
  }

  /** Writes a line to stdout. */
  out(text: string): void {
    this.io.stdout(`${text}\n`);
  }

  /** Writes a value as pretty JSON to stdout. */
  outJson(value: unknown): void {
    this.out(toJson(value));
  }

  /** Writes a note for people to stderr. */
  note(text: string): void {
    this.io.stderr(`durabull: ${text}\n`);
  }

  /** The client on `--redis` and `--namespace`, connected on first call and closed by {@link close}. */
  client(): Promise<Client> {
    this.connected ??= (async () => {
      this.redis = await connectRedis(this.globals.redisUrl);
      return Client.connect({ redis: this.redis.redis, namespace: this.globals.namespace });
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
