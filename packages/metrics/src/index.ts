/**
 * @hb/metrics: Prometheus metrics for hb on prom-client, under the seed
 * project's metric names and more ({@link METRIC_NAMES}). `@hb/server/admin`
 * serves them at `/metrics`, fed from the server at each scrape.
 *
 * @packageDocumentation
 */
export { HbMetrics, type HbMetricsOptions, type HbMetricsSnapshot, type MessageKind } from "./hb-metrics.js";
export { METRIC_NAMES, type MetricName } from "./metric-names.js";
export type { HbLatencySnapshot, HbProcessSnapshot, HbServerSnapshot, HbWorkerSnapshot } from "./server-snapshot.js";
export { type HistogramMetric, type HistogramSample, SnapshotHistogram } from "./snapshot-histogram.js";
