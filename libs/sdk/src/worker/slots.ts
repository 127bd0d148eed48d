/**
 * Execution slots of one kind of task (workflow tasks, activity attempts). Tasks from the queues
 * wait for a slot in turn; eager tasks (handed over inside a transition) take a free one, or
 * wait briefly ahead of the queues' tasks.
 */
export class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly waitingFirst: Array<() => void> = [];
  /** Who waits for a slot to be free without taking it ({@link whenFree}). */
  private readonly watching: Array<() => void> = [];

  constructor(readonly size: number) {}

  get free(): number {
    return this.size - this.used;
  }

  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Takes a slot ahead of every task waiting in {@link acquire}, waiting at most `ms` for one.
   * Resolves false when none was released in time.
   */
  acquireFirst(ms: number): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const take = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waitingFirst.splice(this.waitingFirst.indexOf(take), 1);
        resolve(false);
      }, ms);
      this.waitingFirst.push(take);
    });
  }

  /** Resolves when a slot is free (at once if one is), without taking it. */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => this.watching.push(resolve));
  }

  release(): void {
    const next = this.waitingFirst.shift() ?? this.waiting.shift();
    if (next) return next();
    this.used--;
    for (const resolve of this.watching.splice(0)) resolve();
  }
}
