import type { Engine, RedisConnection, RunRef } from '@durabull/engine';
import type { Cluster, Redis } from 'ioredis';

/** How often a waiter re-reads the run's status, in case a close notification was missed. */
const POLL_INTERVAL_MS = 2_000;

interface Waiter {
  runId: string;
  check(): void;
  settle(error?: Error): void;
}

/**
 * Waits for runs to close. Close scripts publish the run id on the namespace's `closed` channel;
 * one subscription serves every waiter of a client, and a slow poll covers a lost message
 * (a reconnect between the close and the subscription).
 */
export class ClosedRunWatcher {
  private subscriber?: Redis | Cluster;
  private subscribed?: Promise<unknown>;
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly engine: Engine,
    private readonly connection: RedisConnection,
  ) {}

  async wait(ref: RunRef): Promise<void> {
    await this.subscribe();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        runId: ref.runId,
        check: () => {
          this.engine.describeRun(ref).then(
            (run) => {
              if (!run) waiter.settle(new Error(`Run ${ref.runId} of workflow ${ref.workflowId} does not exist`));
              else if (run.status !== 'RUNNING') waiter.settle();
            },
            // Redis unreachable for a moment: keep waiting, the next poll or notification decides.
            () => undefined,
          );
        },
        settle: (error) => {
          if (!this.waiters.delete(waiter)) return;
          clearInterval(poll);
          if (error) reject(error);
          else resolve();
        },
      };
      const poll = setInterval(waiter.check, POLL_INTERVAL_MS);
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  private subscribe(): Promise<unknown> {
    if (!this.subscribed) {
      const subscriber = this.connection.duplicate({ maxRetriesPerRequest: null });
      this.subscriber = subscriber;
      subscriber.on('message', (_channel: string, runId: string) => {
        for (const waiter of [...this.waiters]) if (waiter.runId === runId) waiter.settle();
      });
      // Reconnection is automatic; the poll covers what was published meanwhile.
      subscriber.on('error', () => undefined);
      this.subscribed = subscriber.subscribe(this.engine.keys.closedChannel);
    }
    return this.subscribed;
  }

  async close(): Promise<void> {
    for (const waiter of [...this.waiters]) waiter.settle(new Error('The client was closed while waiting for a result'));
    this.subscriber?.disconnect();
  }
}
