// A worker's periodic maintenance: its liveness in every shard, the sweeps that recover what
// crashed processes left behind, and emptying the sticky queues of workers found dead.

import { recordPoller } from '@durabull/engine';
import type { Engine } from '@durabull/engine';
import type { Logger } from '../logger';

/**
 * How often a worker refreshes its liveness in every shard, and how long an entry lives: a worker
 * that stops refreshing is known dead after at most {@link LIVENESS_TTL_MS}; from then on nothing
 * is routed to its sticky queue, and the next sweep moves what waits there to the task queue.
 */
const LIVENESS_INTERVAL_MS = 1_000;
const LIVENESS_TTL_MS = 3_000;

/** How late a committed task or a deadline may be before a sweep looks at it. */
const SWEEP_GRACE_MS = 1_000;

/** A random factor in [0.8, 1.2): spreads the periodic work of workers started together. */
function jitter(): number {
  return 0.8 + Math.random() * 0.4;
}

/** What maintenance needs of its worker. */
export interface MaintenanceSettings {
  workerId: string;
  /**
   * The worker's task queue, identity and activity types, recorded each round for `durabull
   * task-queue describe` and for workers that get an activity they do not have (is it run anywhere?).
   */
  poller?: { taskQueue: string; identity: string; activityTypes: readonly string[] };
  /** The `sweepInterval` option (ms); 0 refreshes liveness only. */
  sweepInterval: number;
  logger: Logger;
  /** Whether the worker runs: rounds are rescheduled, and their failures logged, only meanwhile. */
  running: () => boolean;
}

/** A worker's maintenance rounds: see {@link maintain}. */
export class Maintenance {
  private timer?: NodeJS.Timeout;
  private maintaining?: Promise<void>;
  private lastSweep = 0;
  /** Dead workers whose sticky queues this worker is emptying. */
  private readonly recovering = new Set<string>();

  constructor(
    private readonly engine: Engine,
    private readonly settings: MaintenanceSettings,
  ) {}

  /** The round under way, if any (shutdown waits for it). */
  get current(): Promise<void> | undefined {
    return this.maintaining;
  }

  /**
   * One maintenance round: refreshes this worker's liveness in every shard and, every
   * `sweepInterval`, sweeps (see `Engine.sweep`); empties the sticky queues of workers found dead.
   */
  maintain(): Promise<void> {
    if (this.maintaining) return this.maintaining;
    const { engine } = this;
    const { sweepInterval, workerId } = this.settings;
    const sweepNow = sweepInterval > 0 && Date.now() - this.lastSweep >= sweepInterval * jitter();
    if (sweepNow) this.lastSweep = Date.now();
    this.maintaining = engine
      .sweep({ graceMs: SWEEP_GRACE_MS, worker: { id: workerId, liveMs: LIVENESS_TTL_MS }, recover: sweepNow })
      .then(async (dead) => {
        for (const workerId of dead) this.recoverDeadWorker(workerId);
        await this.recordPoller(false);
      })
      .catch((error: Error) => {
        if (this.settings.running()) this.settings.logger.warn('Sweep failed', { error: error.message });
      })
      .finally(() => (this.maintaining = undefined));
    return this.maintaining;
  }

  /** Schedules the next round, and each round the next while the worker runs. */
  schedule(): void {
    this.timer = setTimeout(() => {
      void this.maintain().finally(() => {
        if (this.settings.running()) this.schedule();
      });
    }, Math.min(LIVENESS_INTERVAL_MS, this.settings.sweepInterval || LIVENESS_INTERVAL_MS) * jitter());
  }

  /** Schedules no more rounds (one under way goes on: see {@link current}). */
  stop(): void {
    clearTimeout(this.timer);
  }

  /** Records this worker as a poller of its task queue (`stopped` once it shut down). */
  recordPoller(stopped: boolean): Promise<void> {
    const { poller, workerId } = this.settings;
    if (!poller) return Promise.resolve();
    return recordPoller(this.engine.redis, this.engine.keys, { ...poller, workerId, stopped });
  }

  /** Hands a dead worker's cached runs to the task queue and removes its sticky queue. */
  private recoverDeadWorker(workerId: string): void {
    if (workerId === this.settings.workerId || this.recovering.has(workerId)) return;
    this.recovering.add(workerId);
    this.settings.logger.info('Worker found dead: moving its sticky tasks to the task queue', { deadWorkerId: workerId });
    this.engine
      .recoverDeadWorker(workerId)
      .catch((error: Error) => this.settings.logger.warn('Could not recover a dead worker\'s sticky queue', { deadWorkerId: workerId, error: error.message }))
      .finally(() => this.recovering.delete(workerId));
  }
}
