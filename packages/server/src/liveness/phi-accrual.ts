import { grown, nextCapacity } from "./grown.js";

/**
 * Samples over which the running mean and variance are plain averages (sample n weighs 1 / (n + 1), the first
 * estimate counting as one); after that each new sample weighs 1 / 16: an exponentially weighted window of ~16 beats.
 */
const WINDOW = 16;

/** Settings of a {@link PhiAccrual} detector. */
export interface PhiAccrualOptions {
  /** φ at which a node is suspected (Akka: 8). */
  threshold: number;
  /** Silence added to the mean before φ is computed, ms: a pause this long is tolerated. */
  acceptablePauseMs: number;
  /** Smallest standard deviation used, ms (a very regular node would otherwise be suspected on the first late beat). */
  minStdDevMs: number;
}

/**
 * The phi-accrual failure detector (Hayashibara et al.; as in Akka and
 * Cassandra) for every node, in typed arrays indexed by registry slot: the
 * running mean and variance of each node's heartbeat inter-arrival times
 * (averaged over the first 16 beats, then exponentially weighted; float32:
 * 8 bytes), the number of beats learnt so far (1 byte) and the time of its
 * last beat (float64: 8 bytes) — 17 bytes per slot, allocated only when the
 * server runs this detector.
 *
 * φ(silence) = −log10(P(a beat arrives later than silence)), with the
 * inter-arrival times taken as normal (mean + acceptable pause, standard
 * deviation at least the minimum), using the logistic approximation of the
 * normal CDF that Akka uses. The detector answers the silence at which φ
 * reaches the threshold ({@link PhiAccrual.suspectAfter}): solved once for
 * the threshold (a constant number of standard deviations), so a verdict
 * costs a multiply-add, not a logarithm.
 */
export class PhiAccrual {
  readonly #o: PhiAccrualOptions;
  /** Standard deviations above the mean at which φ = threshold. */
  readonly #sigmas: number;
  #mean: Float32Array;
  #variance: Float32Array;
  #count: Uint8Array;
  #lastBeat: Float64Array;

  constructor(options: PhiAccrualOptions, initialCapacity = 1024) {
    this.#o = options;
    this.#sigmas = sigmasFor(options.threshold);
    const c = Math.max(16, initialCapacity);
    this.#mean = new Float32Array(c);
    this.#variance = new Float32Array(c);
    this.#count = new Uint8Array(c);
    this.#lastBeat = new Float64Array(c);
  }

  /** Bytes held by the per-slot arrays. */
  get byteLength(): number {
    return this.#mean.byteLength + this.#variance.byteLength + this.#count.byteLength + this.#lastBeat.byteLength;
  }

  /**
   * Starts a node's history (registered or resumed at `now`): one assumed
   * beat at `now`, mean = its interval, standard deviation = interval / 4
   * (Akka's first estimate).
   */
  reset(slot: number, now: number, intervalMs: number): void {
    if (slot >= this.#mean.length) this.#grow(slot + 1);
    this.#mean[slot] = intervalMs;
    this.#variance[slot] = (intervalMs / 4) ** 2;
    this.#count[slot] = 0;
    this.#lastBeat[slot] = now;
  }

  /**
   * A heartbeat of the node in `slot` arrived at `now`; `stalledMs` is the
   * server's stalled time since its previous beat (not part of the
   * inter-arrival). Gaps longer than `maxGapMs` (a suspect node coming
   * back) are not learnt.
   */
  beat(slot: number, now: number, stalledMs: number, maxGapMs: number): void {
    const gap = now - (this.#lastBeat[slot] as number) - stalledMs;
    this.#lastBeat[slot] = now;
    if (!(gap >= 0) || gap > maxGapMs) return;
    const n = Math.min(WINDOW, (this.#count[slot] as number) + 1);
    this.#count[slot] = n;
    const alpha = 1 / (n === WINDOW ? WINDOW : n + 1);
    const mean = this.#mean[slot] as number;
    const diff = gap - mean;
    const incr = alpha * diff;
    this.#mean[slot] = mean + incr;
    this.#variance[slot] = (1 - alpha) * ((this.#variance[slot] as number) + diff * incr);
  }

  /** Time of the last beat of `slot` (monotonic ms). */
  lastBeat(slot: number): number {
    return this.#lastBeat[slot] as number;
  }

  /** Mean inter-arrival time of `slot`, ms. */
  mean(slot: number): number {
    return this.#mean[slot] as number;
  }

  /** Standard deviation used for `slot` (at least the minimum), ms. */
  stdDev(slot: number): number {
    return Math.max(Math.sqrt(this.#variance[slot] as number), this.#o.minStdDevMs);
  }

  /** φ of `slot` after `silenceMs` without a beat. */
  phi(slot: number, silenceMs: number): number {
    return phiOf(silenceMs, this.mean(slot) + this.#o.acceptablePauseMs, this.stdDev(slot));
  }

  /** The silence at which φ of `slot` reaches the threshold, ms (the detector's suspect delay; the caller applies the floor of one interval). */
  suspectAfter(slot: number): number {
    return this.mean(slot) + this.#o.acceptablePauseMs + this.#sigmas * this.stdDev(slot);
  }

  #grow(min: number): void {
    const c = nextCapacity(this.#mean.length, min);
    this.#mean = grown(this.#mean, c);
    this.#variance = grown(this.#variance, c);
    this.#count = grown(this.#count, c);
    this.#lastBeat = grown(this.#lastBeat, c);
  }

}

/** φ of a silence `t` for inter-arrival times of mean `mean` and standard deviation `sd` (Akka's logistic approximation). */
export function phiOf(t: number, mean: number, sd: number): number {
  const y = (t - mean) / sd;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  return t > mean ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}

/** The y (standard deviations above the mean) at which φ = `threshold`: Newton's method on the approximation's cubic. */
function sigmasFor(threshold: number): number {
  // φ = −log10(e / (1 + e)) with e = exp(−g(y)), g(y) = 1.5976 y + 0.070566 y³  ⇒  g(y) = ln(10^φ − 1).
  const target = Math.log(10 ** threshold - 1);
  let y = 3;
  for (let i = 0; i < 50; i++) {
    const g = 1.5976 * y + 0.070566 * y ** 3 - target;
    const dg = 1.5976 + 3 * 0.070566 * y * y;
    const next = y - g / dg;
    if (Math.abs(next - y) < 1e-9) return next;
    y = next;
  }
  return y;
}
