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
 * as many at a time as the worker has room for, and runs them. Every other workflow task comes
 * through the task queue's BullMQ workers, beside it.
 *
 * Room is a free workflow task slot and, where the worker runs the activities its workflows
 * schedule (eager execution, `activitySlots`), a free activity slot that no first task taken and
 * still running may claim: a new run's first task usually schedules an activity, which then
 * starts here at once. A worker whose activity slots are spoken for leaves new runs on the list,
 * for a worker with room or for itself once it has room, rather than start runs whose activities
 * would go through their task queue's jobs (an add, a fetch, a start and a finish more each).
 */
export class FirstTaskFetcher {
  private loop?: Promise<void>;
  /** This fetcher's connection id in Redis, to end its wait at shutdown (CLIENT UNBLOCK). */
  private clientId?: number;
  /** First tasks taken whose run has not finished (their activities are not started yet). */
  private running = 0;
  /** Wakes the loop waiting for room when a task's run finishes. */
  private onFinished?: () => void;

  constructor(
    private readonly engine: Engine,
    /** Blocked while the list is empty: the fetcher's own. */
    private readonly connection: Redis,
    private readonly taskQueue: string,
    private readonly workflowSlots: Slots,
    /** The activity slots where the activities of this worker's workflows may start at once. */
    private readonly activitySlots: Slots | undefined,
    /** Runs a task taken (waiting for a slot when none is free); resolves when it is done. */
    private readonly run: (task: WorkflowTaskJobData) => Promise<void>,
    private readonly accepting: () => boolean,
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
    while (this.accepting()) {
      try {
        const room = await this.room();
        if (!this.accepting()) return;
        const tasks = await this.engine.takeFirstTasks(this.connection, this.taskQueue, room, BLOCK_SECONDS);
        for (const task of tasks) {
          this.running++;
          const finished = () => {
            this.running--;
            this.onFinished?.();
          };
          this.run(task).then(finished, finished);
        }
      } catch (error) {
        if (!this.accepting()) return;
        this.logger.warn('Could not take first workflow tasks', { taskQueue: this.taskQueue, error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }

  /** Resolves, once the worker has room for new runs, to how many (see the class). */
  private async room(): Promise<number> {
    for (;;) {
      const workflowRoom = this.workflowSlots.free;
      const activityRoom = this.activitySlots ? this.activitySlots.free - this.running : Infinity;
      const room = Math.min(workflowRoom, activityRoom);
      if (room > 0) return room;
      // Waits on what is short only, so that no wait leaves a watcher behind for long.
      await new Promise<void>((resolve) => {
        if (workflowRoom <= 0) {
          void this.workflowSlots.whenReleased().then(resolve);
        } else {
          this.onFinished = resolve;
          void this.activitySlots?.whenReleased().then(resolve);
        }
      });
      this.onFinished = undefined;
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
