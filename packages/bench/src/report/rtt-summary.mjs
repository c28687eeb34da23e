/** p50 / p99 / p99.9 / max (ms) and sample count of an HDR histogram recorded in µs. */
export function rttSummary(h) {
  if (h.totalCount === 0) return { count: 0 };
  const ms = (p) => h.getValueAtPercentile(p) / 1000;
  return { count: h.totalCount, p50: ms(50), p99: ms(99), p999: ms(99.9), max: h.maxValue / 1000 };
}
