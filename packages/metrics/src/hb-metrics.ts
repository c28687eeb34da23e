import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { METRIC_NAMES } from "./metric-names.js";

/** Options of {@link HbMetrics}. */
export interface HbMetricsOptions {
  /** Registry to register the metrics in. Default: a new private registry. */
  registry?: Registry;
  /** Labels added to every metric, e.g. `{ server: "hb-1" }`. */
  defaultLabels?: Record<string, string>;
  /**
   * Histogram buckets for {@link METRIC_NAMES.latencySeconds}, in seconds.
   * Default: 0.5 ms to 5 s.
   */
  latencyBuckets?: number[];
}

/** A point-in-time view of the numbers {@link HbMetrics.update} copies into gauges. */
export interface HbMetricsSnapshot {
  /** Nodes known (online and suspect). */
  nodes: number;
  /** Nodes online (not suspect). */
  online: number;
  /** Channels with at least one subscriber. */
  channels?: number;
}

/** Kinds of routed messages counted in {@link METRIC_NAMES.messagesTotal}. */
export type MessageKind = "publish" | "direct" | "broadcast" | "reply" | "presence";

const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * hb's Prometheus metrics on prom-client, under the seed project's names
 * ({@link METRIC_NAMES}).
 *
 * ```ts
 * const metrics = new HbMetrics({ defaultLabels: { server: "hb-1" } });
 * metrics.update({ nodes: server.count(), online: server.count({ state: "online" }) });
 * res.end(await metrics.text());
 * ```
 */
export class HbMetrics {
  /** The registry holding hb's metrics. */
  readonly registry: Registry;
  /** {@link METRIC_NAMES.nodesTotal}. */
  readonly nodesTotal: Gauge;
  /** {@link METRIC_NAMES.nodesOnline}. */
  readonly nodesOnline: Gauge;
  /** {@link METRIC_NAMES.channelsTotal}. */
  readonly channelsTotal: Gauge;
  /** {@link METRIC_NAMES.messagesTotal}, labelled by `kind`. */
  readonly messagesTotal: Counter<"kind">;
  /** {@link METRIC_NAMES.latencySeconds}. */
  readonly latencySeconds: Histogram;

  constructor(options: HbMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    const registers = [this.registry];
    this.nodesTotal = new Gauge({ name: METRIC_NAMES.nodesTotal, help: "Nodes known to the server (online and suspect).", registers });
    this.nodesOnline = new Gauge({ name: METRIC_NAMES.nodesOnline, help: "Nodes online (not suspect).", registers });
    this.channelsTotal = new Gauge({ name: METRIC_NAMES.channelsTotal, help: "Channels with at least one subscriber.", registers });
    this.messagesTotal = new Counter({ name: METRIC_NAMES.messagesTotal, help: "Messages routed, by kind.", labelNames: ["kind"], registers });
    this.latencySeconds = new Histogram({
      name: METRIC_NAMES.latencySeconds,
      help: "Heartbeat round-trip latency in seconds.",
      buckets: options.latencyBuckets ?? DEFAULT_BUCKETS,
      registers,
    });
  }

  /** Copies a snapshot of the server's counts into the gauges. */
  update(snapshot: HbMetricsSnapshot): void {
    this.nodesTotal.set(snapshot.nodes);
    this.nodesOnline.set(snapshot.online);
    if (snapshot.channels !== undefined) this.channelsTotal.set(snapshot.channels);
  }

  /** Counts `n` routed messages of a kind. */
  countMessages(kind: MessageKind, n = 1): void {
    this.messagesTotal.inc({ kind }, n);
  }

  /** Records one heartbeat round trip, in seconds. */
  observeLatency(seconds: number): void {
    this.latencySeconds.observe(seconds);
  }

  /** The metrics in Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type to serve {@link HbMetrics.text} with. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
