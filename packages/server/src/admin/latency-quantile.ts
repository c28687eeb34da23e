import type { RttSnapshot } from "../telemetry/rtt-histogram.js";

/**
 * The `q`-quantile (0..1) of the round trips observed between two
 * snapshots, interpolated linearly inside its bucket as Prometheus's
 * `histogram_quantile` does (the last, unbounded bucket answers with the
 * highest bound). `undefined` when nothing was observed in between.
 */
export function latencyQuantile(before: RttSnapshot | undefined, after: RttSnapshot, q: number): number | undefined {
  const counts = after.counts.map((n, i) => n - (before?.counts[i] ?? 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] as number;
    if (seen + n >= rank && n > 0) {
      if (i >= after.bounds.length) return after.bounds[after.bounds.length - 1];
      const lo = i === 0 ? 0 : (after.bounds[i - 1] as number);
      const hi = after.bounds[i] as number;
      return lo + (hi - lo) * ((rank - seen) / n);
    }
    seen += n;
  }
  return after.bounds[after.bounds.length - 1];
}
