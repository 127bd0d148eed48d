import type { HistoryEvent } from '@durabull/common';
import { parseClosedRunMessage } from '@durabull/engine';
import type { Engine, RedisConnection, RunRef } from '@durabull/engine';
import type { Cluster, Redis } from 'ioredis';

/** How often a watch re-reads the run's status, in case a close notification was missed. */
const POLL_INTERVAL_MS = 2_000;

/**
 * A watch on one run: `closed` resolves when it closes, with its close event when the
 * notification carried it (else it is to be read from history); `stop()` ends the watch.
 */
export interface RunWatch {
  closed: Promise<HistoryEvent | undefined>;
  stop(): void;
}

/**
 * Tells when runs close. Close scripts publish the run id on the namespace's `closed` channel;
 * one subscription serves every watch of a client, and a slow poll covers a lost message (a
 * reconnect between the close and the subscription).
 */
export class ClosedRunWatcher {
  private subscriber?: Redis | Cluster;
  private subscribed?: Promise<unknown>;
  private readonly watches = new Map<string, Set<(closeEvent?: HistoryEvent) => void>>();
  /** Other channels the subscriber listens to (a client's query replies), and what handles their messages. */
  private readonly listeners = new Map<string, { handle: (message: string) => void; subscribed: Promise<unknown> }>();

  constructor(
    private readonly engine: Engine,
    private readonly connection: RedisConnection,
  ) {}

  /** Resolves once the subscription is in place: a watch started afterwards misses no close. */
  ready(): Promise<unknown> {
    if (!this.subscribed) {
      // Subscribing fails fast like any client call when Redis is down; once subscribed, ioredis
      // reconnects and resubscribes by itself, and the poll covers what was published meanwhile.
      const subscriber = this.connection.duplicate();
      this.subscriber = subscriber;
      subscriber.on('message', (channel: string, message: string) => {
        const listener = this.listeners.get(channel);
        if (listener) {
          listener.handle(message);
          return;
        }
        const { runId, closeEvent } = parseClosedRunMessage(message);
        for (const settle of [...(this.watches.get(runId) ?? [])]) settle(closeEvent);
      });
      subscriber.on('error', () => undefined);
      this.subscribed = subscriber.subscribe(this.engine.keys.closedChannel).catch((error: unknown) => {
        this.subscribed = undefined;
        subscriber.disconnect();
        throw error;
      });
    }
    return this.subscribed;
  }

  /**
   * Subscribes the same connection to `channel` too, its messages going to `handle`; resolves once
   * the subscription is in place.
   */
  async listen(channel: string, handle: (message: string) => void): Promise<void> {
    await this.ready();
    let listener = this.listeners.get(channel);
    if (!listener) {
      const subscribed = this.subscriber!.subscribe(channel).catch((error: unknown) => {
        this.listeners.delete(channel);
        throw error;
      });
      listener = { handle, subscribed };
      this.listeners.set(channel, listener);
    }
    await listener.subscribed;
  }

  /** Starts watching a run (call after {@link ready}). */
  watch(ref: RunRef): RunWatch {
    let settle!: (closeEvent?: HistoryEvent) => void;
    const closed = new Promise<HistoryEvent | undefined>((resolve) => {
      settle = (closeEvent) => {
        stop();
        resolve(closeEvent);
      };
    });
    const poll = setInterval(() => {
      this.engine.describeRun(ref).then(
        (run) => {
          if (run?.status !== 'RUNNING') settle();
        },
        // Redis unreachable for a moment: keep waiting, the next poll or notification decides.
        () => undefined,
      );
    }, POLL_INTERVAL_MS);
    const forRun = this.watches.get(ref.runId) ?? new Set();
    this.watches.set(ref.runId, forRun.add(settle));
    const stop = () => {
      clearInterval(poll);
      forRun.delete(settle);
      if (forRun.size === 0 && this.watches.get(ref.runId) === forRun) this.watches.delete(ref.runId);
    };
    return { closed, stop };
  }

  async close(): Promise<void> {
    for (const settle of [...this.watches.values()].flatMap((set) => [...set])) settle(undefined);
    this.subscriber?.disconnect();
  }
}
