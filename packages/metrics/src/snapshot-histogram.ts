import type { Registry } from "prom-client";
import type { HbLatencySnapshot } from "./server-snapshot.js";

/** One sample line of a {@link SnapshotHistogram}: prom-client's JSON form of a metric value. */
export interface HistogramSample {
  /** `<name>_bucket`, `<name>_sum` or `<name>_count`. */
  metricName: string;
  /** `le` on buckets. */
  labels: Record<string, string | number>;
  /** The value. */
  value: number;
}

/** {@link SnapshotHistogram.get}'s result: prom-client's JSON form of a histogram metric. */
export interface HistogramMetric {
  /** Metric name. */
  name: string;
  /** Help text. */
  help: string;
  /** `"histogram"`. */
  type: "histogram";
  /** `"sum"`. */
  aggregator: "sum";
  /** The `_bucket`, `_sum` and `_count` samples. */
  values: HistogramSample[];
}

/**
 * A Prometheus histogram whose buckets come from a {@link HbLatencySnapshot}
 * read at each scrape, registered in a prom-client `Registry` like any
 * metric (prom-client's own `AggregatorRegistry` registers objects of this
 * shape). prom-client's `Histogram` only takes single observations; an hb
 * server's round trips are counted in its worker processes and arrive here
 * as bucket counts, so they are exposed as they are.
 */
export class SnapshotHistogram {
  /** Metric name. */
  readonly name: string;
  /** Help text. */
  readonly help: string;
  /** Always `"histogram"`. */
  readonly type = "histogram";
  /** How prom-client's cluster aggregation would combine it. */
  readonly aggregator = "sum";
  readonly #read: () => HbLatencySnapshot;

  /**
   * @param options - its `name` and `help`, the `registry` it registers in,
   *   and `read`, which returns the histogram to expose (called at each scrape)
   */
  constructor(options: { name: string; help: string; registry: Registry; read: () => HbLatencySnapshot }) {
    this.name = options.name;
    this.help = options.help;
    this.#read = options.read;
    options.registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** The metric in prom-client's JSON form: cumulative `_bucket` lines (`le`), `_sum` and `_count`. */
  async get(): Promise<HistogramMetric> {
    const h = this.#read();
    const values: HistogramSample[] = [];
    let cumulative = 0;
    h.bounds.forEach((le, i) => {
      cumulative += h.counts[i] ?? 0;
      values.push({ metricName: `${this.name}_bucket`, labels: { le }, value: cumulative });
    });
    values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf" }, value: h.count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: h.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: h.count });
    return { name: this.name, help: this.help, type: "histogram", aggregator: "sum", values };
  }

  /** Nothing to reset: the values are the source's. */
  reset(): void {}
}
