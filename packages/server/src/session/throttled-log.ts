import type { Clock } from "../core/ports/clock.js";
import type { Logger } from "../core/ports/logger.js";

/** How often a {@link ThrottledLog} writes at most, ms. */
export const THROTTLED_LOG_INTERVAL_MS = 1_000;

/**
 * A warning that a flood could repeat thousands of times a second (refused
 * connections, evicted or timed-out handshakes): written at most once per
 * {@link THROTTLED_LOG_INTERVAL_MS}; the ones left out meanwhile are
 * counted and the next record carries their number as `suppressed`. The
 * counters in `stats()` count every one.
 */
export class ThrottledLog {
  readonly #clock: Clock;
  #last = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Writes `obj`/`msg` at warn level, unless one was written less than an interval ago. */
  warn(logger: Logger, obj: Record<string, unknown>, msg: string): void {
    const now = this.#clock.now();
    if (now - this.#last < THROTTLED_LOG_INTERVAL_MS) {
      this.#suppressed++;
      return;
    }
    this.#last = now;
    if (this.#suppressed > 0) obj.suppressed = this.#suppressed;
    this.#suppressed = 0;
    logger.warn(obj, msg);
  }
}
