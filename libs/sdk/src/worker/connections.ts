// A worker's Redis connections, and what keeps BullMQ from holding a worker or its recovery back:
// the BullMQ options recovery relies on, bounded waits on Redis, and letting go of a BullMQ worker
// whose close waits on an unreachable Redis.

import { Worker as BullWorker } from 'bullmq';
import { connectSettled } from '@durabull/engine';
import type { RedisConnection } from '@durabull/engine';
import type { Cluster, Redis } from 'ioredis';

/**
 * BullMQ worker options, chosen so that recovery never waits on BullMQ's stalled-job check.
 *
 * - `lockDuration` / `lockRenewTime`: a fetched job's lock lives 2.5 s and a live worker renews it
 *   every 0.8 s (so an event loop blocked for up to ~1.7 s keeps it). A job that is still active
 *   with no lock was fetched by a dead worker: the engine's sweep finds it within seconds (while
 *   its task waits in the outbox, fetched but not started) and dispatches it again. Started tasks
 *   are covered by their own deadlines (workflow task timeout, activity start-to-close and
 *   heartbeat timeouts), which retry them under new job ids.
 * - `stalledInterval`: BullMQ's stalled-job check then only collects dead workers' leftover jobs
 *   (their tasks were recovered already; run again, they are refused by the start scripts), so it
 *   runs at BullMQ's default pace.
 * - `maxStalledCount`: unlimited, so that BullMQ never fails (and, with `removeOnFail`, deletes) a
 *   job because workers holding it died.
 * - `drainDelay`: an idle worker's blocking wait for a job lasts at most 1 s (BullMQ's default is
 *   5 s), so a shutdown while Redis is unreachable is not held by BullMQ's 6 s wait watchdog.
 */
export const BULLMQ_RECOVERY_OPTIONS = {
  drainDelay: 1,
  lockDuration: 2_500,
  lockRenewTime: 800,
  stalledInterval: 30_000,
  maxStalledCount: Number.MAX_SAFE_INTEGER,
} as const;

/** The longest blocking wait of a {@link WakeUpWorker}, in seconds. */
export const WAKE_UP_MAX_BLOCK_S = 0.25;

/**
 * The BullMQ worker of the deadline wake-up queue, whose blocking wait lasts at most
 * {@link WAKE_UP_MAX_BLOCK_S}. BullMQ tells one blocked worker that a delayed job was added (the
 * worker that pops its marker), and a worker that knows of a later delayed job blocks until that
 * one is due, for up to 10 s, regardless of `drainDelay`. If the worker that popped a wake-up's
 * marker is killed, the others would run that wake-up only when their own wait ended: seconds
 * late, and a heartbeat or start-to-close timeout would fire that late. With the cap, they look
 * for due wake-ups four times a second (a `BZPOPMIN` and a `moveToActive` each), and a deadline
 * whose wake-up was lost fires within about 250 ms of its time.
 */
export class WakeUpWorker<D = any, R = any, N extends string = string> extends BullWorker<D, R, N> {
  protected override getBlockTimeout(blockUntil: number): number {
    const timeout = super.getBlockTimeout(blockUntil);
    return timeout > 0 ? Math.min(timeout, WAKE_UP_MAX_BLOCK_S) : timeout;
  }
}

/**
 * The connections a worker opens for BullMQ and its cancellation channel, all duplicates of its
 * client's connection, and those BullMQ duplicates from them in turn: {@link disconnectAll} drops
 * them together.
 */
export class WorkerConnections {
  private connections: Array<Redis | Cluster> = [];

  constructor(
    private readonly source: RedisConnection,
    /** Whether the worker runs: once it stops, duplicates BullMQ made refuse to connect again. */
    private readonly running: () => boolean,
  ) {}

  /** A new connection (BullMQ workers block on theirs: no retry limit per request). */
  open(): Redis | Cluster {
    const duplicate = this.source.duplicate({ maxRetriesPerRequest: null });
    this.connections.push(duplicate);
    this.adoptDuplicates(duplicate);
    return duplicate;
  }

  /** Disconnects every connection, BullMQ's own (blocking) ones too, without waiting on Redis. */
  disconnectAll(): void {
    for (const connection of this.connections.splice(0)) connection.disconnect();
  }

  /**
   * Takes charge of the connections BullMQ duplicates from `connection` (each BullMQ worker's
   * blocking connection): once this worker stops they refuse to connect again, and the worker's `stop`
   * disconnects them with the worker's own connections, so a shutdown while Redis is unreachable
   * does not wait on them. On a Redis Cluster this also matters when Redis is up: closing a BullMQ
   * worker interrupts its BZPOPMIN by disconnecting the blocking cluster, which BullMQ's cluster
   * recovery then reconnects before the close quits it; node connections opened by that reconnect
   * outlive the quit and keep the process alive (BullMQ 6.7, ioredis 5.11). Their `connect()`
   * settles once they are up, whichever attempt brought them up ({@link connectSettled}): BullMQ's
   * fetch loop awaits it when it reconnects a blocking connection whose `BZPOPMIN` never answered,
   * and a cluster failing over would otherwise have stopped that worker fetching for good.
   */
  private adoptDuplicates(connection: Redis | Cluster): void {
    const duplicate = connection.duplicate.bind(connection) as (...args: unknown[]) => Redis | Cluster;
    connection.duplicate = ((...args: unknown[]) => {
      const copy = duplicate(...args);
      const connect = copy.connect.bind(copy);
      copy.connect = () => (this.running() ? connectSettled(copy, connect) : Promise.reject(new Error('Connection is closed.')));
      this.connections.push(copy);
      return copy;
    }) as typeof connection.duplicate;
  }
}

/**
 * Runs `work` until it settles or `deadline` (epoch ms) passes, whichever comes first: true when
 * it finished in time. Work still pending at the deadline goes on unobserved (its errors ignored).
 */
export async function settlesBefore(deadline: number, work: () => Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const running = work().then(() => true);
  running.catch(() => undefined);
  try {
    return await Promise.race([running, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops the timers of a BullMQ worker whose `close()` waits on an unreachable Redis: its lock
 * renewal and stalled-job check would otherwise keep the process alive (BullMQ 6.7 clears them only
 * once `close()` has finished, which needs Redis).
 */
export function abandonBullWorker(worker: BullWorker): void {
  const internals = worker as unknown as { lockManager?: { close(): Promise<void> }; stalledCheckStopper?: () => void };
  void internals.lockManager?.close();
  internals.stalledCheckStopper?.();
}
