/**
 * A token bucket: `ratePerSecond` tokens are added continuously up to
 * `burst`; each accepted event takes one. Time is passed in by the caller
 * (milliseconds on any monotonic base), so the bucket is pure and testable.
 *
 * Two numbers of state; {@link TokenBucket.take} is O(1) and allocation-free.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  /**
   * @param ratePerSecond - refill rate, tokens per second (> 0)
   * @param burst - bucket size (≥ 1); the bucket starts full
   * @param now - current time in milliseconds
   */
  constructor(ratePerSecond: number, burst: number, now: number) {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${ratePerSecond}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be ≥ 1, got ${burst}`);
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Tokens available now (fractional), without taking any. */
  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /**
   * Takes `count` tokens if that many are available.
   *
   * @returns `true` when taken, `false` when the bucket holds fewer (nothing is taken then)
   */
  take(now: number, count = 1): boolean {
    this.#refill(now);
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  #refill(now: number): void {
    const elapsed = now - this.#last;
    if (elapsed <= 0) return;
    this.#last = now;
    const tokens = this.#tokens + elapsed * this.#ratePerMs;
    this.#tokens = tokens > this.#burst ? this.#burst : tokens;
  }
}
