import type { Logger } from "../core/ports/logger.js";
import type { HoldReason } from "../core/ports/node-events.js";

/** Buckets of the window in which recent timeouts are counted. */
const BUCKETS = 16;

/** Settings of a {@link VerdictHold}. */
export interface VerdictHoldOptions {
  /** Event-loop lag at or above which the server holds verdicts (`server_lagging`), ms; 0: never. */
  lagThresholdMs: number;
  /** Share of nodes, in percent, above which silence is a mass silence (`mass_silence`); 0: never. */
  massSilencePercent: number;
  /** Fewest silent nodes that make a mass silence. */
  massSilenceMinNodes: number;
  /** `heartbeatTimeout`, ms: the window in which timeouts count towards a mass silence. */
  timeoutMs: number;
  /** Where a hold starting and ending is logged. */
  logger: Logger;
}

/**
 * Whether the server holds `TIMED_OUT` verdicts now, and why
 * (docs/PROTOCOL.md §6.3 "Held verdicts"):
 *
 * - `server_lagging` (local health awareness): the event-loop lag is at or
 *   above `lagThresholdMs`;
 * - `mass_silence` (the mass-departure brake): the nodes that are silent
 *   (suspect) or timed out within the last `timeoutMs` are more than
 *   `massSilencePercent` of the nodes (those timed out counted in), and at
 *   least `massSilenceMinNodes`.
 *
 * O(1) per evaluation: the caller passes the counts (the registry keeps
 * them). Remembers when the last hold ended, counts holds and logs them.
 */
export class VerdictHold {
  readonly #o: VerdictHoldOptions;
  readonly #bucketMs: number;
  readonly #recent = new Int32Array(BUCKETS);
  #recentTotal = 0;
  #bucket = 0; // index of the bucket of #bucketStart
  #bucketStart = 0;
  #reason: HoldReason | undefined;
  #endedAt = Number.NEGATIVE_INFINITY;
  /** Holds started, by reason. */
  readonly holds: Record<HoldReason, number> = { server_lagging: 0, mass_silence: 0 };

  constructor(options: VerdictHoldOptions) {
    this.#o = options;
    this.#bucketMs = Math.max(1, options.timeoutMs / BUCKETS);
  }

  /** The hold in force at the last evaluation, or `undefined`. */
  get reason(): HoldReason | undefined {
    return this.#reason;
  }

  /** When the last hold ended (monotonic ms; −∞: none yet). */
  get endedAt(): number {
    return this.#endedAt;
  }

  /** Counts one timeout made at `now` (a verdict not held). */
  timedOut(now: number): void {
    this.#roll(now);
    this.#recent[this.#bucket] = (this.#recent[this.#bucket] as number) + 1;
    this.#recentTotal++;
  }

  /**
   * Decides whether verdicts are held at `now`.
   *
   * @param lagMs - the event-loop lag now, ms
   * @param silent - nodes silent now (suspect, held ones included)
   * @param total - nodes registered now
   */
  evaluate(now: number, lagMs: number, silent: number, total: number): HoldReason | undefined {
    const o = this.#o;
    this.#roll(now);
    const quiet = silent + this.#recentTotal;
    const all = total + this.#recentTotal;
    let reason: HoldReason | undefined;
    if (o.lagThresholdMs > 0 && lagMs >= o.lagThresholdMs) reason = "server_lagging";
    else if (o.massSilencePercent > 0 && quiet >= o.massSilenceMinNodes && quiet * 100 > o.massSilencePercent * all) reason = "mass_silence";
    const was = this.#reason;
    if (reason !== was) {
      this.#reason = reason;
      if (reason !== undefined) {
        this.holds[reason]++;
        o.logger.warn(
          { reason, lagMs: Math.round(lagMs), silent: quiet, nodes: all },
          reason === "server_lagging"
            ? "liveness: the server lags, timeout verdicts are held"
            : "liveness: mass silence, timeout verdicts are held",
        );
      }
      if (was !== undefined && reason === undefined) {
        this.#endedAt = now;
        o.logger.warn({ reason: was, silent: quiet, nodes: all }, "liveness: hold ended, held nodes are judged again");
      }
    }
    return reason;
  }

  // Moves the window of recent timeouts to `now`, emptying the buckets that fell out of it.
  #roll(now: number): void {
    const steps = Math.floor((now - this.#bucketStart) / this.#bucketMs);
    if (steps <= 0) return;
    for (let i = 1; i <= Math.min(steps, BUCKETS); i++) {
      const b = (this.#bucket + i) % BUCKETS;
      this.#recentTotal -= this.#recent[b] as number;
      this.#recent[b] = 0;
    }
    this.#bucket = (this.#bucket + steps) % BUCKETS;
    this.#bucketStart += steps * this.#bucketMs;
  }
}
