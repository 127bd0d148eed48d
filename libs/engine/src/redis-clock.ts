/** How long a lower bound of the clock offset is trusted before the newest sample replaces it (clocks drift). */
const OFFSET_WINDOW_MS = 10_000;

/**
 * The namespace's time (Redis time plus its test clock) as this process can tell it without
 * asking: every transition reply carries the time it ran at, which is at most the namespace's
 * time when the reply arrives. The largest such offset from the local clock seen lately is a
 * lower bound of the true offset, so {@link RedisClock.now} is at most the namespace's time.
 */
export class RedisClock {
  private offset?: number;
  private since = 0;

  /** A transition's time (`now` of its reply), seen just after it ran. */
  observe(now: number): void {
    const local = Date.now();
    const offset = now - local;
    if (this.offset === undefined || offset > this.offset || local - this.since > OFFSET_WINDOW_MS) {
      this.offset = offset;
      this.since = local;
    }
  }

  /**
   * The namespace's time now, rounded down by a millisecond (both clocks read whole
   * milliseconds); undefined until a reply was seen.
   */
  now(): number | undefined {
    return this.offset === undefined ? undefined : Date.now() + this.offset - 1;
  }
}
