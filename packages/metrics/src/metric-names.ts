/**
 * The Prometheus metric names hb exports. They keep the names of the seed
 * project's monitoring so existing dashboards and alerts carry over.
 */
export const METRIC_NAMES = {
  /** Gauge: nodes known to the server (online and suspect). */
  nodesTotal: "heartbeat_nodes_total",
  /** Gauge: nodes currently online (not suspect). */
  nodesOnline: "heartbeat_nodes_online",
  /** Gauge: channels (subjects) with at least one subscriber. */
  channelsTotal: "heartbeat_channels_total",
  /** Counter: messages routed, labelled by `kind`. */
  messagesTotal: "heartbeat_messages_total",
  /** Histogram: heartbeat round-trip latency in seconds. */
  latencySeconds: "heartbeat_latency_seconds",
} as const;

/** One of the {@link METRIC_NAMES} values. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
