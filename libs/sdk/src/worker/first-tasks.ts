import type { Redis } from 'ioredis';
import type { Engine, WorkflowTaskJobData } from '@durabull/engine';
import type { Logger } from '../logger';
import type { Slots } from './slots';

/** How long one wait for a first task blocks (s) when the list is empty. */
const BLOCK_SECONDS = 1;
/** How long the loop pauses after Redis failed it before it tries again (ms). */
const RETRY_DELAY_MS = 1_000;

/**
 * Takes the first workflow tasks of new runs off a task queue's first-task list (on a single
 * Redis `startWorkflow` queues them there instead of adding BullMQ jobs: `Engine.takeFirstTasks`),
 * as many at a time as the worker has free workflow task slots, and runs them. Every other
 * workflow task comes through the task queue's BullMQ workers, beside it.
 */
export class FirstTaskFetcher {
  private loop?: Promise<void>;
  /** This fetcher's connection id in Redis, to end its wait at shutdown (CLIENT UNBLOCK). */
  private clientId?: number;

  constructor(
    private readonly engine: Engine,
    /** Blocked while the list is empty: the fetcher's own. */
    private readonly connection: Redis,
    private readonly taskQueue: string,
    private readonly slots: Slots,
    /** Runs a task taken (waiting for a slot when none is free). */
    private readonly run: (task: WorkflowTaskJobData) => void,
    private readonly running: () => boolean,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const identify = () => {
      this.connection.client('ID').then(
        (id) => (this.clientId = Number(id)),
        () => undefined,
      );
    };
    this.connection.on('ready', identify);
    if (this.connection.status === 'ready') identify();
    this.loop = this.fetch();
  }

  private async fetch(): Promise<void> {
    while (this.running()) {
      try {
        await this.slots.whenFree();
        if (!this.running()) return;
        const tasks = await this.engine.takeFirstTasks(this.connection, this.taskQueue, Math.max(1, this.slots.free), BLOCK_SECONDS);
        for (const task of tasks) this.run(task);
      } catch (error) {
        if (!this.running()) return;
        this.logger.warn('Could not take first workflow tasks', { taskQueue: this.taskQueue, error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }

  /**
   * Resolves when the loop has ended (the worker no longer runs). Its wait in Redis ends at once
   * through `unblocker` (CLIENT UNBLOCK: a task popped meanwhile still comes back), or, where
   * that is not allowed (an ACL without it), when the wait times out.
   */
  async stop(unblocker: Redis): Promise<void> {
    if (this.clientId !== undefined) await unblocker.client('UNBLOCK', this.clientId, 'TIMEOUT').catch(() => 0);
    await this.loop;
  }
}
