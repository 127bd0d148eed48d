import type { HistoryEvent } from '@durabull/common';
import { parseClosedRunMessage } from '@durabull/engine';
import type { Engine, RedisConnection, RunRef } from '@durabull/engine';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';

/**
 * How often the watcher reads the status of the runs it has watched that long, so that a close
 * notification lost while the subscriber was away still ends the wait. On a single Redis the
 * watcher sees its subscriber reconnect and reads every watched run then; the poll only covers a
 * connection that died unnoticed. On a Redis Cluster ioredis moves the subscription to another
 * node by itself, unseen, so the poll is what finds a close published meanwhile.
 */
const POLL_INTERVAL_MS = { redis: 10_000, cluster: 2_000 } as const;

/**
 * A watch on one run: `closed` resolves when it closes, with its close event when the
 * notification carried it (else it is to be read from history); `stop()` ends the watch.
 */
export interface RunWatch {
  closed: Promise<HistoryEvent | undefined>;
  stop(): void;
}

/** The watches of one run: when the first began, and how each ends. */
interface RunWatches {
  ref: RunRef;
  since: number;
  settles: Set<(closeEvent?: HistoryEvent) => void>;
}

/**
 * Tells when runs close. Close scripts publish the run id on the namespace's `closed` channel;
 * one subscription serves every watch of a client. A message published while the subscriber was
 * away is lost, so after a reconnect the watcher subscribes again and reads every watched run
 * once; a slow poll, one timer for all watches, covers a connection that died unnoticed.
 */
export class ClosedRunWatcher {
  private subscriber?: Redis | Cluster;
  private subscribed?: Promise<unknown>;
  private readonly watches = new Map<string, RunWatches>();
  private poll?: NodeJS.Timeout;
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
        for (const settle of [...(this.watches.get(runId)?.settles ?? [])]) settle(closeEvent);
      });
      subscriber.on('error', () => undefined);
      let connectedBefore = false;
      subscriber.on('ready', () => {
        if (connectedBefore) void this.afterReconnect(subscriber);
        connectedBefore = true;
      });
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
    let forRun = this.watches.get(ref.runId);
    if (!forRun) this.watches.set(ref.runId, (forRun = { ref, since: Date.now(), settles: new Set() }));
    forRun.settles.add(settle);
    if (!this.poll) {
      const interval = this.subscriber instanceof Cluster ? POLL_INTERVAL_MS.cluster : POLL_INTERVAL_MS.redis;
      this.poll = setInterval(() => void this.readWatched((watched) => Date.now() - watched.since >= interval), interval);
    }
    const stop = () => {
      forRun.settles.delete(settle);
      if (forRun.settles.size === 0 && this.watches.get(ref.runId) === forRun) this.watches.delete(ref.runId);
      if (this.watches.size === 0) {
        clearInterval(this.poll);
        this.poll = undefined;
      }
    };
    return { closed, stop };
  }

  /**
   * Back after a reconnect (ioredis resubscribes by itself): subscribes once more, so that the
   * subscription is known to be in place, then reads every watched run, since a close published
   * meanwhile was not heard.
   */
  private async afterReconnect(subscriber: Redis | Cluster): Promise<void> {
    try {
      await subscriber.subscribe(this.engine.keys.closedChannel);
    } catch {
      return; // Gone again: the next reconnect comes here again.
    }
    await this.readWatched(() => true);
  }

  /** Reads the status of the watched runs `which` selects, and ends the watches of those not running. */
  private async readWatched(which: (watched: RunWatches) => boolean): Promise<void> {
    const watched = [...this.watches.values()].filter(which);
    await Promise.all(
      watched.map((run) =>
        this.engine.describeRun(run.ref).then(
          (description) => {
            if (description?.status !== 'RUNNING') for (const settle of [...run.settles]) settle();
          },
          // Redis unreachable for a moment: keep waiting, the next poll or notification decides.
          () => undefined,
        ),
      ),
    );
  }

  async close(): Promise<void> {
    for (const settle of [...this.watches.values()].flatMap((run) => [...run.settles])) settle(undefined);
    this.subscriber?.disconnect();
  }
}
