/**
 * A heartbeat round-trip histogram as plain numbers: per-bucket counts
 * (not cumulative), the last entry counting values above every bound.
 * `@hb/server`'s `stats().rtt` has this shape.
 */
export interface HbLatencySnapshot {
  /** Upper bounds of the buckets, seconds, ascending. */
  bounds: readonly number[];
  /** Observations per bucket; `bounds.length + 1` entries. */
  counts: readonly number[];
  /** Sum of the observations, seconds. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/** One process of a server (the main one or a worker) in a {@link HbServerSnapshot}. */
export interface HbProcessSnapshot {
  /** `main`, or a worker's member id (`w1`, …). */
  name: string;
  /** 99th percentile of the event-loop lag over the last second, seconds. */
  loopLagP99: number;
  /** Largest event-loop lag over the last second, seconds. */
  loopLagMax: number;
  /** Resident memory, bytes. */
  rss: number;
  /** CPU over the last second, fraction of one core. */
  cpu: number;
}

/** One worker process in a {@link HbServerSnapshot}. */
export interface HbWorkerSnapshot {
  /** Its member id (`w1`, …). */
  name: string;
  /** Its connections. */
  connections: number;
  /** Its nodes. */
  nodes: number;
  /** Seconds since its last report. */
  reportAge: number;
}

/**
 * What {@link HbMetrics} reads at each scrape when it has a `source`: the
 * server's counters and gauges (most of them the fields of `@hb/server`'s
 * `stats()` of the same names) plus processes, workers and bus.
 */
export interface HbServerSnapshot {
  /** Server id, for `heartbeat_server_info`. */
  serverId: string;
  /** Version of the server software, for `heartbeat_server_info`. */
  version: string;
  /** Nodes of this server (online and suspect). */
  nodes: number;
  /** Of which online. */
  online: number;
  /** Of which suspect. */
  suspect: number;
  /** Open connections. */
  connections: number;
  /** Live sessions. */
  sessions: number;
  /** Live subscriptions. */
  subscriptions: number;
  /** Channels with a subscriber. */
  channels: number;
  /** Bytes in outgoing queues. */
  queuedBytes: number;
  /** Heartbeats processed. */
  heartbeats: number;
  /** Frames received. */
  framesIn: number;
  /** Frames sent. */
  framesOut: number;
  /** Bytes received. */
  bytesIn: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Socket errors. */
  socketErrors: number;
  /** Listeners and hooks that threw. */
  listenerErrors: number;
  /** Connections that have not sent their Hello yet. */
  awaitingHello: number;
  /** Connections waiting for Hello closed to make room. */
  helloEvictions: number;
  /** Hellos whose resume token resumed nothing. */
  resumeMisses: number;
  /** Messages routed, by kind (`publish`, `send`, `broadcast`, `reply`, `presence`). */
  routed: Readonly<Record<string, number>>;
  /** Protocol errors by code name. */
  errors: Readonly<Record<string, number>>;
  /** `FORBIDDEN` refusals by permission kind (see `heartbeat_forbidden_total`). Absent: none reported. */
  forbidden?: Readonly<Record<string, number>>;
  /** Credential renewals by result (see `heartbeat_renewals_total`). Absent: none reported. */
  renewals?: Readonly<Record<string, number>>;
  /** Undelivered messages by cause (snake_case, see `heartbeat_messages_dropped_total`). */
  dropped: Readonly<Record<string, number>>;
  /** Presence transitions: kind → reason → count. */
  transitions: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Heartbeat round trips reported by nodes. */
  rtt: HbLatencySnapshot;
  /** The server's processes. */
  processes: readonly HbProcessSnapshot[];
  /** Worker processes configured (1 without workers). */
  workersConfigured: number;
  /** The workers (empty without workers). */
  workers: readonly HbWorkerSnapshot[];
  /** The bus link, if any. */
  bus?: {
    /** Its kind (`redis`, `ipc+redis`, …). */
    kind: string;
    /** Whether it is healthy. */
    up: boolean;
    /** Nodes of other servers known here. */
    remoteNodes: number;
    /** Other servers known here. */
    members: number;
    /** Its event counters (snake_case names). */
    events: Readonly<Record<string, number>>;
  };
}
