/**
 * @hb/metrics: Prometheus metrics for hb on prom-client, under the seed
 * project's metric names.
 *
 * @packageDocumentation
 */
export { HbMetrics, type HbMetricsOptions, type HbMetricsSnapshot, type MessageKind } from "./hb-metrics.js";
export { METRIC_NAMES, type MetricName } from "./metric-names.js";
