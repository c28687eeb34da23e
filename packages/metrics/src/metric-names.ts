/**
 * The Prometheus metric names hb exports. The first five keep the names of
 * the seed project's monitoring, so existing dashboards and alerts carry
 * over; the rest extend them under the same `heartbeat_` prefix.
 *
 * "This server" means the nodes and connections this server (all its worker
 * processes) holds, never those of other servers of the bus: summing a
 * metric over every server of a bus counts each node once.
 */
export const METRIC_NAMES = {
  /** Gauge: nodes registered on this server (online and suspect; attached nodes included). */
  nodesTotal: "heartbeat_nodes_total",
  /** Gauge: nodes of this server currently online (heard from within 1.5 × their interval). */
  nodesOnline: "heartbeat_nodes_online",
  /** Gauge: channels (subjects and patterns) with at least one subscriber (summed over worker processes). */
  channelsTotal: "heartbeat_channels_total",
  /** Counter: messages accepted for routing, labelled by `kind`: `publish`, `send`, `broadcast`, `reply`, `presence`. */
  messagesTotal: "heartbeat_messages_total",
  /** Histogram: heartbeat round trips as the nodes measure and report them, in seconds. */
  latencySeconds: "heartbeat_latency_seconds",
  /** Gauge: nodes of this server currently suspect (silent past 1.5 × their interval, or waiting for a resume). */
  nodesSuspect: "heartbeat_nodes_suspect",
  /** Gauge: open node connections (handshaking ones included). */
  connections: "heartbeat_connections",
  /** Gauge: live sessions (connected, or lost and waiting for a resume). */
  sessions: "heartbeat_sessions",
  /** Gauge: live subscriptions (presence ones included). */
  subscriptions: "heartbeat_subscriptions",
  /** Gauge: bytes waiting in the connections' outgoing queues. */
  queuedBytes: "heartbeat_queued_bytes",
  /** Counter: heartbeats processed (Heartbeat frames and nodes refreshed by BatchHeartbeat); `rate()` gives heartbeats/s. */
  heartbeatsTotal: "heartbeat_heartbeats_total",
  /**
   * Counter: presence transitions of this server's nodes, labelled by
   * `transition` (`joined`, `left`, `suspect`, `timeout`, `recovered`) and
   * `reason` (as in the node events: `hello`, `goodbye`, `heartbeat_timeout`, …).
   */
  presenceTransitionsTotal: "heartbeat_presence_transitions_total",
  /** Counter: protocol errors detected or sent, labelled by `code` (the ErrorCode name, e.g. `RATE_LIMITED`). */
  errorsTotal: "heartbeat_errors_total",
  /**
   * Counter: operations refused with `FORBIDDEN` by the permissions, labelled
   * by `kind` (`publish`, `subscribe`, `send`, `broadcast`, `attach`, `presence`).
   */
  forbiddenTotal: "heartbeat_forbidden_total",
  /** Counter: credential renewals, labelled by `result` (`accepted`, `refused`, `expired`: closed unrenewed after the grace). */
  renewalsTotal: "heartbeat_renewals_total",
  /**
   * Counter: messages not delivered, labelled by `cause`: `drop_oldest`,
   * `drop_newest`, `slow_consumer`, `too_large`, `no_subscribers`,
   * `unknown_node`, `reply_unroutable`, `frame_too_large`.
   */
  droppedTotal: "heartbeat_messages_dropped_total",
  /** Counter: frames received from nodes. */
  framesReceivedTotal: "heartbeat_frames_received_total",
  /** Counter: frames sent to nodes. */
  framesSentTotal: "heartbeat_frames_sent_total",
  /** Counter: bytes received from nodes. */
  bytesReceivedTotal: "heartbeat_bytes_received_total",
  /** Counter: bytes sent to nodes. */
  bytesSentTotal: "heartbeat_bytes_sent_total",
  /** Counter: socket-level errors (resets, TLS failures, bad PROXY headers). */
  socketErrorsTotal: "heartbeat_socket_errors_total",
  /** Counter: event listeners and hooks that threw. */
  listenerErrorsTotal: "heartbeat_listener_errors_total",
  /** Gauge: connections that have not sent their Hello yet (bounded by `maxPendingHellos`). */
  awaitingHello: "heartbeat_connections_awaiting_hello",
  /** Counter: connections waiting for Hello closed with `SERVER_FULL` to make room (a handshake flood). */
  helloEvictionsTotal: "heartbeat_hello_evictions_total",
  /** Counter: Hellos whose resume token resumed nothing (unknown, expired or guessed). */
  resumeMissesTotal: "heartbeat_resume_misses_total",
  /** Gauge: 99th percentile of the event-loop lag over the last second, labelled by `process` (`main`, or a worker's `w<id>`), seconds. */
  eventLoopLagP99: "heartbeat_event_loop_lag_p99_seconds",
  /** Gauge: largest event-loop lag over the last second, labelled by `process`, seconds. */
  eventLoopLagMax: "heartbeat_event_loop_lag_max_seconds",
  /** Gauge: resident memory, labelled by `process`, bytes. */
  processMemory: "heartbeat_process_resident_memory_bytes",
  /** Gauge: CPU used over the last second, labelled by `process`, as a fraction of one core. */
  processCpu: "heartbeat_process_cpu_ratio",
  /** Gauge: worker processes the server is configured to run (1: one process, no workers). */
  workersConfigured: "heartbeat_workers_configured",
  /** Gauge: worker processes alive and reporting (equals the configured count when healthy). */
  workersUp: "heartbeat_workers_up",
  /** Gauge: connections of one worker, labelled by `worker`. */
  workerConnections: "heartbeat_worker_connections",
  /** Gauge: nodes of one worker, labelled by `worker`. */
  workerNodes: "heartbeat_worker_nodes",
  /** Gauge: seconds since a worker's last report, labelled by `worker` (reports come every second). */
  workerReportAge: "heartbeat_worker_report_age_seconds",
  /** Gauge: 1 while the bus link (e.g. Redis) is healthy, 0 while degraded (lease lost, Redis unreachable), labelled by `kind`. */
  busUp: "heartbeat_bus_up",
  /** Gauge: nodes held by the other servers of the bus, as this server knows them. */
  busRemoteNodes: "heartbeat_bus_remote_nodes",
  /** Gauge: other servers of the bus this server knows. */
  busMembers: "heartbeat_bus_members",
  /** Counter: bus link events by `event` (snake_case of the link's counters: `relayed_out`, `outages`, `members_lost`, `resyncs`, …). */
  busEventsTotal: "heartbeat_bus_events_total",
  /** Gauge: always 1, labelled by `version` and `server_id`. */
  serverInfo: "heartbeat_server_info",
} as const;

/** One of the {@link METRIC_NAMES} values. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
