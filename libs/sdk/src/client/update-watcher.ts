import { parseUpdateMessage } from '@durabull/engine';
import type { Engine, RedisConnection, RunRef, UpdateState } from '@durabull/engine';
import type { Cluster, Redis } from 'ioredis';

/** How often a wait re-reads the update, in case a notification was missed. */
const POLL_INTERVAL_MS = 1_000;

/** Where an update stands, as a wait reads it: the run's status (undefined: no run) and the update (undefined: unknown id). */
export interface UpdateReading {
  runStatus?: string;
  update?: UpdateState;
}

/**
 * Waits for update stages. The scripts publish `<runId>|<updateId>` on the namespace's `updates`
 * channel at every stage change (lua/includes/updates.lua); one subscription serves every wait of
 * a client, each notification makes its waits read the update again (the state in Redis is the
 * truth, the message only a wake-up), and a slow poll covers a lost message.
 */
export class UpdateWatcher {
  private subscriber?: Redis | Cluster;
  private subscribed?: Promise<unknown>;
  private readonly waits = new Map<string, Set<() => void>>();

  constructor(
    private readonly engine: Engine,
    private readonly connection: RedisConnection,
  ) {}

  /** Resolves once the subscription is in place: a wait started afterwards misses no change. */
  ready(): Promise<unknown> {
    if (!this.subscribed) {
      const subscriber = this.connection.duplicate();
      this.subscriber = subscriber;
      subscriber.on('message', (_channel: string, message: string) => {
        const { runId, updateId } = parseUpdateMessage(message);
        for (const wake of [...(this.waits.get(`${runId}|${updateId}`) ?? [])]) wake();
      });
      subscriber.on('error', () => undefined);
      this.subscribed = subscriber.subscribe(this.engine.keys.updatesChannel).catch((error: unknown) => {
        this.subscribed = undefined;
        subscriber.disconnect();
        throw error;
      });
    }
    return this.subscribed;
  }

  /**
   * Reads the update until `done` says so: first at once, then at each notification for it (or
   * poll). `first`, if given, is the reading to start from (a request's reply).
   */
  async waitFor(ref: RunRef, updateId: string, done: (reading: UpdateReading) => boolean, first?: UpdateReading): Promise<UpdateReading> {
    await this.ready();
    const key = `${ref.runId}|${updateId}`;
    let woken = false;
    let wake: () => void = () => undefined;
    const listener = () => {
      woken = true;
      wake();
    };
    const forKey = this.waits.get(key) ?? new Set();
    this.waits.set(key, forKey.add(listener));
    try {
      let reading = first;
      for (;;) {
        if (reading && done(reading)) return reading;
        if (reading && !woken) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, POLL_INTERVAL_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        woken = false;
        reading = await this.engine.readUpdate(ref, updateId);
      }
    } finally {
      forKey.delete(listener);
      if (forKey.size === 0 && this.waits.get(key) === forKey) this.waits.delete(key);
    }
  }

  async close(): Promise<void> {
    for (const wake of [...this.waits.values()].flatMap((set) => [...set])) wake();
    this.subscriber?.disconnect();
  }
}
