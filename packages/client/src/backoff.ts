/**
 * Delay before reconnect attempt number `attempt` (0-based), with "full
 * jitter": a uniformly random integer in `[0, min(cap, base * 2^attempt))`.
 *
 * Full jitter spreads a crowd of clients that lost the same server over the
 * whole window instead of bunching them at fixed delays, so a restarted
 * server is not hit by a million Hellos at once.
 *
 * @param attempt - attempts already made since the last success, ≥ 0
 * @param base - delay window of the first attempt, ms
 * @param cap - largest window, ms
 * @param random - source of uniform numbers in [0, 1) (injectable for tests)
 * @returns the delay in whole milliseconds
 */
export function backoffDelay(
  attempt: number,
  base: number,
  cap: number,
  random: () => number = Math.random,
): number {
  // 2^60 is far beyond any cap; clamping the exponent keeps the product finite.
  const window = Math.min(cap, base * 2 ** Math.min(Math.max(attempt, 0), 60));
  const r = random();
  return Math.floor((r >= 0 && r < 1 ? r : 0) * window);
}

/**
 * Counts reconnect attempts and hands out their delays with
 * {@link backoffDelay}; {@link Backoff.reset} after a success.
 */
export class Backoff {
  readonly #base: number;
  readonly #cap: number;
  readonly #random: () => number;
  #attempt = 0;

  /**
   * @param base - delay window of the first attempt, ms
   * @param cap - largest window, ms
   * @param random - source of uniform numbers in [0, 1)
   */
  constructor(base: number, cap: number, random: () => number = Math.random) {
    this.#base = base;
    this.#cap = cap;
    this.#random = random;
  }

  /** Attempts handed out since the last {@link Backoff.reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Delay of the next attempt, in ms; counts the attempt. */
  next(): number {
    return backoffDelay(this.#attempt++, this.#base, this.#cap, this.#random);
  }

  /** Starts over from the first attempt (call after a successful connect). */
  reset(): void {
    this.#attempt = 0;
  }
}
