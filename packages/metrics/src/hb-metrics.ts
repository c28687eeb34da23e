import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { METRIC_NAMES } from "./metric-names.js";
import type { HbServerSnapshot } from "./server-snapshot.js";
import { SnapshotHistogram } from "./snapshot-histogram.js";

/** Options of {@link HbMetrics}. */
export interface HbMetricsOptions {
  /** Registry to register the metrics in. Default: a new private registry. */
  registry?: Registry;
  /** Labels added to every metric, e.g. `{ server: "hb-1" }`. */
  defaultLabels?: Record<string, string>;
  /**
   * Histogram buckets for {@link METRIC_NAMES.latencySeconds}, in seconds,
   * when the histogram is fed by {@link HbMetrics.observeLatency}. Default:
   * 0.5 ms to 5 s. With a `source` the buckets are the source's.
   */
  latencyBuckets?: number[];
  /**
   * Reads the server at each scrape: every metric of {@link METRIC_NAMES}
   * is then fed from it (`@hb/server/admin` passes one built from
   * `server.stats()`), and the manual methods ({@link HbMetrics.update},
   * {@link HbMetrics.countMessages}, {@link HbMetrics.observeLatency}) throw.
   * Called once per {@link HbMetrics.text}. Default: none (the seed's five
   * metrics, fed by hand).
   */
  source?: () => HbServerSnapshot;
  /** Also export prom-client's default process metrics (`process_*`, `nodejs_*`). Default `false`. */
  processMetrics?: boolean;
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

/**
 * Kinds of routed messages counted in {@link METRIC_NAMES.messagesTotal}:
 * the keys of `@hb/server`'s `stats().routed` (`send` is a message to one
 * node, delivered as `Delivery { kind: DIRECT }`).
 */
export type MessageKind = "publish" | "send" | "broadcast" | "reply" | "presence";

const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const MESSAGE_KINDS: readonly MessageKind[] = ["publish", "send", "broadcast", "reply", "presence"];

/**
 * hb's Prometheus metrics on prom-client ({@link METRIC_NAMES}).
 *
 * Fed by a server at each scrape (what `@hb/server/admin` does):
 *
 * ```ts
 * const metrics = new HbMetrics({ source: () => snapshotOf(server), processMetrics: true });
 * res.end(await metrics.text());
 * ```
 *
 * or, without a source, the seed's five metrics fed by hand:
 *
 * ```ts
 * const metrics = new HbMetrics({ defaultLabels: { server: "hb-1" } });
 * metrics.update({ nodes: server.count(), online: server.count({ state: "online" }) });
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
  readonly #latency: Histogram | undefined;
  readonly #source: (() => HbServerSnapshot) | undefined;
  #scrape: HbServerSnapshot | undefined;

  constructor(options: HbMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.#source = options.source;
    const fed = options.source !== undefined;
    const now = (): HbServerSnapshot => this.#snapshot();
    const gauge = (name: string, help: string, read: (s: HbServerSnapshot) => number): Gauge =>
      new Gauge({
        name,
        help,
        registers,
        collect: fed
          ? function (this: Gauge) {
              this.set(read(now()));
            }
          : undefined,
      });
    this.nodesTotal = gauge(METRIC_NAMES.nodesTotal, "Nodes registered on this server (online and suspect).", (s) => s.nodes);
    this.nodesOnline = gauge(METRIC_NAMES.nodesOnline, "Nodes of this server online (heard from within 1.5 x their interval).", (s) => s.online);
    this.channelsTotal = gauge(METRIC_NAMES.channelsTotal, "Channels (subjects and patterns) with at least one subscriber.", (s) => s.channels);
    this.messagesTotal = new Counter({
      name: METRIC_NAMES.messagesTotal,
      help: "Messages accepted for routing, by kind (publish, send, broadcast, reply, presence).",
      labelNames: ["kind"],
      registers,
      collect: fed
        ? function (this: Counter<"kind">) {
            const routed = now().routed;
            this.reset();
            for (const kind of MESSAGE_KINDS) this.inc({ kind }, routed[kind] ?? 0);
          }
        : undefined,
    });
    const latencyHelp = "Heartbeat round trips as measured and reported by the nodes, in seconds.";
    if (fed) {
      new SnapshotHistogram({ name: METRIC_NAMES.latencySeconds, help: latencyHelp, registry: this.registry, read: () => now().rtt });
      this.#registerFed(now);
    } else {
      this.#latency = new Histogram({
        name: METRIC_NAMES.latencySeconds,
        help: latencyHelp,
        buckets: options.latencyBuckets ?? DEFAULT_BUCKETS,
        registers,
      });
    }
  }

  /**
   * Copies a snapshot of the server's counts into the gauges.
   *
   * @throws TypeError when the metrics have a `source`
   */
  update(snapshot: HbMetricsSnapshot): void {
    this.#manual("update");
    this.nodesTotal.set(snapshot.nodes);
    this.nodesOnline.set(snapshot.online);
    if (snapshot.channels !== undefined) this.channelsTotal.set(snapshot.channels);
  }

  /**
   * Counts `n` routed messages of a kind.
   *
   * @throws TypeError when the metrics have a `source`
   */
  countMessages(kind: MessageKind, n = 1): void {
    this.#manual("countMessages");
    this.messagesTotal.inc({ kind }, n);
  }

  /**
   * Records one heartbeat round trip, in seconds.
   *
   * @throws TypeError when the metrics have a `source`
   */
  observeLatency(seconds: number): void {
    this.#manual("observeLatency");
    this.#latency?.observe(seconds);
  }

  /** The metrics in Prometheus text exposition format (the source, if any, is read once). */
  async text(): Promise<string> {
    if (this.#source === undefined) return this.registry.metrics();
    this.#scrape = this.#source();
    try {
      return await this.registry.metrics();
    } finally {
      this.#scrape = undefined;
    }
  }

  /** The Content-Type to serve {@link HbMetrics.text} with. */
  get contentType(): string {
    return this.registry.contentType;
  }

  #manual(method: string): void {
    if (this.#source !== undefined) throw new TypeError(`HbMetrics.${method}(): these metrics are fed by their source`);
  }

  // During text() the snapshot read once; outside (registry.metrics() called directly) a fresh read.
  #snapshot(): HbServerSnapshot {
    return this.#scrape ?? (this.#source as () => HbServerSnapshot)();
  }

  // Every metric beyond the seed's five, fed from the source at each scrape.
  #registerFed(now: () => HbServerSnapshot): void {
    const registers = [this.registry];
    const N = METRIC_NAMES;
    const gauge = (name: string, help: string, read: (s: HbServerSnapshot) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          this.set(read(now()));
        },
      });
    };
    const counter = (name: string, help: string, read: (s: HbServerSnapshot) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect(this: Counter) {
          this.reset();
          this.inc(read(now()));
        },
      });
    };
    // Labelled series, rebuilt at each scrape (vanished label values disappear).
    const labelled = <L extends string>(
      kind: "gauge" | "counter",
      name: string,
      help: string,
      labelNames: L[],
      read: (s: HbServerSnapshot) => [Record<L, string>, number][],
    ): void => {
      const collect = function (this: Gauge<L> | Counter<L>) {
        this.reset();
        for (const [labels, value] of read(now())) {
          if (this instanceof Gauge) this.set(labels, value);
          else this.inc(labels, value);
        }
      };
      if (kind === "gauge") new Gauge({ name, help, labelNames, registers, collect });
      else new Counter({ name, help, labelNames, registers, collect });
    };
    gauge(N.nodesSuspect, "Nodes of this server suspect (silent past 1.5 x their interval, or waiting for a resume).", (s) => s.suspect);
    gauge(N.connections, "Open node connections (handshaking ones included).", (s) => s.connections);
    gauge(N.sessions, "Live sessions (connected, or lost and waiting for a resume).", (s) => s.sessions);
    gauge(N.subscriptions, "Live subscriptions (presence ones included).", (s) => s.subscriptions);
    gauge(N.queuedBytes, "Bytes waiting in the connections' outgoing queues.", (s) => s.queuedBytes);
    counter(N.heartbeatsTotal, "Heartbeats processed (Heartbeat frames and nodes refreshed by BatchHeartbeat).", (s) => s.heartbeats);
    labelled("counter", N.presenceTransitionsTotal, "Presence transitions of this server's nodes, by transition and reason.", ["transition", "reason"], (s) =>
      Object.entries(s.transitions).flatMap(([transition, byReason]) =>
        Object.entries(byReason).map(([reason, n]): [Record<"transition" | "reason", string>, number] => [{ transition, reason }, n]),
      ),
    );
    labelled("counter", N.errorsTotal, "Protocol errors detected or sent, by error code.", ["code"], (s) =>
      Object.entries(s.errors).map(([code, n]) => [{ code }, n]),
    );
    labelled("counter", N.forbiddenTotal, "Operations refused with FORBIDDEN by the permissions, by kind.", ["kind"], (s) =>
      Object.entries(s.forbidden ?? {}).map(([kind, n]) => [{ kind }, n]),
    );
    labelled("counter", N.renewalsTotal, "Credential renewals, by result (accepted, refused, expired).", ["result"], (s) =>
      Object.entries(s.renewals ?? {}).map(([result, n]) => [{ result }, n]),
    );
    labelled("counter", N.droppedTotal, "Messages not delivered, by cause.", ["cause"], (s) =>
      Object.entries(s.dropped).map(([cause, n]) => [{ cause }, n]),
    );
    counter(N.framesReceivedTotal, "Frames received from nodes.", (s) => s.framesIn);
    counter(N.framesSentTotal, "Frames sent to nodes.", (s) => s.framesOut);
    counter(N.bytesReceivedTotal, "Bytes received from nodes.", (s) => s.bytesIn);
    counter(N.bytesSentTotal, "Bytes sent to nodes.", (s) => s.bytesOut);
    counter(N.socketErrorsTotal, "Socket-level errors (resets, TLS failures, bad PROXY headers).", (s) => s.socketErrors);
    counter(N.listenerErrorsTotal, "Event listeners and hooks that threw.", (s) => s.listenerErrors);
    gauge(N.awaitingHello, "Connections that have not sent their Hello yet.", (s) => s.awaitingHello);
    counter(N.helloEvictionsTotal, "Connections waiting for Hello closed with SERVER_FULL to make room (handshake floods).", (s) => s.helloEvictions);
    counter(N.resumeMissesTotal, "Hellos whose resume token resumed nothing (unknown, expired or guessed).", (s) => s.resumeMisses);
    const perProcess = (name: string, help: string, read: (p: HbServerSnapshot["processes"][number]) => number): void =>
      labelled("gauge", name, help, ["process"], (s) => s.processes.map((p) => [{ process: p.name }, read(p)]));
    perProcess(N.eventLoopLagP99, "99th percentile of the event-loop lag over the last second, seconds.", (p) => p.loopLagP99);
    perProcess(N.eventLoopLagMax, "Largest event-loop lag over the last second, seconds.", (p) => p.loopLagMax);
    perProcess(N.processMemory, "Resident memory of each server process, bytes.", (p) => p.rss);
    perProcess(N.processCpu, "CPU used by each server process over the last second, fraction of one core.", (p) => p.cpu);
    gauge(N.workersConfigured, "Worker processes the server is configured to run (1: a single process).", (s) => s.workersConfigured);
    gauge(N.workersUp, "Server processes alive and reporting.", (s) => (s.workers.length > 0 ? s.workers.length : s.workersConfigured));
    const perWorker = (name: string, help: string, read: (w: HbServerSnapshot["workers"][number]) => number): void =>
      labelled("gauge", name, help, ["worker"], (s) => s.workers.map((w) => [{ worker: w.name }, read(w)]));
    perWorker(N.workerConnections, "Connections of each worker process.", (w) => w.connections);
    perWorker(N.workerNodes, "Nodes of each worker process.", (w) => w.nodes);
    perWorker(N.workerReportAge, "Seconds since each worker's last report (they report every second).", (w) => w.reportAge);
    labelled("gauge", N.busUp, "1 while the bus link is healthy, 0 while degraded (lease lost, Redis unreachable).", ["kind"], (s) =>
      s.bus === undefined ? [] : [[{ kind: s.bus.kind }, s.bus.up ? 1 : 0]],
    );
    gauge(N.busRemoteNodes, "Nodes held by the other servers of the bus, as this server knows them.", (s) => s.bus?.remoteNodes ?? 0);
    gauge(N.busMembers, "Other servers of the bus known to this server.", (s) => s.bus?.members ?? 0);
    labelled("counter", N.busEventsTotal, "Bus link events (relayed messages, outages, members lost, resyncs, ...).", ["event"], (s) =>
      Object.entries(s.bus?.events ?? {}).map(([event, n]) => [{ event }, n]),
    );
    labelled("gauge", N.serverInfo, "Always 1: the server's id and version.", ["version", "server_id"], (s) => [
      [{ version: s.version, server_id: s.serverId }, 1],
    ]);
  }
}
