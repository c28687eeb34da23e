/**
 * Upper bounds of the buckets of `stats().rtt`, in seconds (0.5 ms to
 * 5 s; a last, unbounded bucket takes the rest). The same as
 * `heartbeat_latency_seconds`'s default buckets in @hb/metrics.
 */
export const RTT_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]);

/**
 * A snapshot of the heartbeat round trips a server counted (its
 * `stats().rtt`): plain numbers, so that it crosses process boundaries
 * (worker → primary) and adds up.
 */
export interface RttSnapshot {
  /** Upper bounds of the buckets, seconds: 0.5 ms to 5 s, the same as `heartbeat_latency_seconds`'s. */
  bounds: readonly number[];
  /** Observations per bucket (not cumulative); one more entry than `bounds`: the last counts those above every bound. */
  counts: number[];
  /** Sum of the observed round trips, seconds. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/**
 * Heartbeat round trips as nodes report them, in fixed buckets: the source
 * of `heartbeat_latency_seconds`. Each process of a server keeps one (in its
 * `stats()`); the primary of a multi-process server adds up the workers'.
 *
 * {@link RttHistogram.observe} is the port a session calls once per
 * Heartbeat that carries the node's last measured RTT. It runs once per
 * heartbeat, so it is a bounded scan of 13 numbers and two additions, with
 * no allocation; prom-client's Histogram is not used here because its
 * observations cannot be added up across processes.
 */
export class RttHistogram {
  readonly #counts = new Array<number>(RTT_BUCKETS.length + 1).fill(0);
  #sum = 0;
  #count = 0;

  /**
   * Records one round trip of `seconds`. Values that are not finite and
   * non-negative are ignored (a node's report is not trusted to be sane).
   */
  observe(seconds: number): void {
    if (!(seconds >= 0 && seconds < Number.POSITIVE_INFINITY)) return;
    const bounds = RTT_BUCKETS;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    (this.#counts[i] as number)++;
    this.#sum += seconds;
    this.#count++;
  }

  /** A copy of the counts so far (cumulative since the server started). */
  snapshot(): RttSnapshot {
    return { bounds: RTT_BUCKETS, counts: [...this.#counts], sum: this.#sum, count: this.#count };
  }
}

/** An empty {@link RttSnapshot}. */
export function emptyRtt(): RttSnapshot {
  return { bounds: RTT_BUCKETS, counts: new Array<number>(RTT_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
}

/**
 * The sum of two snapshots with the same bounds (a new object).
 *
 * @throws RangeError when the bounds differ
 */
export function addRtt(a: RttSnapshot, b: RttSnapshot): RttSnapshot {
  if (a.bounds.length !== b.bounds.length || a.bounds.some((x, i) => x !== b.bounds[i])) {
    throw new RangeError("cannot add RTT histograms with different buckets");
  }
  return { bounds: a.bounds, counts: a.counts.map((n, i) => n + (b.counts[i] ?? 0)), sum: a.sum + b.sum, count: a.count + b.count };
}
