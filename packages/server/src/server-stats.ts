import { type ErrorCode, errorCodeName } from "@hb/codec";

/** A snapshot of server counters, from {@link HeartbeatServer.stats}. Counters are cumulative since construction. */
export interface ServerStats {
  /** Open connections (handshaking ones included). */
  connections: number;
  /** Live sessions (connected, or lost and waiting for a resume). */
  sessions: number;
  /** Registered nodes (connections' own nodes and attached nodes). */
  nodes: number;
  /** Nodes online. */
  online: number;
  /** Nodes suspect. */
  suspect: number;
  /** Distinct label sets in the registry. */
  labelSets: number;
  /** Nodes that joined. */
  joined: number;
  /** Nodes that left (any {@link LeaveReason}). */
  left: number;
  /** Nodes that timed out. */
  timedOut: number;
  /** Times a node became suspect. */
  suspected: number;
  /** Times a suspect node recovered. */
  recovered: number;
  /** Sessions resumed on a new connection. */
  resumed: number;
  /** Wills published. */
  willsPublished: number;
  /** Heartbeats processed: Heartbeat frames plus nodes refreshed by BatchHeartbeat. */
  heartbeats: number;
  /** Frames received. */
  framesIn: number;
  /** Frames sent. */
  framesOut: number;
  /** Outgoing frames dropped because they exceeded the client's announced max frame size. */
  framesDropped: number;
  /** Bytes received. */
  bytesIn: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Protocol errors detected or sent, by error code name (e.g. `RATE_LIMITED`). */
  errors: Record<string, number>;
  /** Event listeners and hooks that threw. */
  listenerErrors: number;
  /** Socket-level errors (resets, TLS failures). */
  socketErrors: number;
}

type Counter = Exclude<
  keyof ServerStats,
  "connections" | "sessions" | "nodes" | "online" | "suspect" | "labelSets" | "errors"
>;

/** The server's mutable counters; {@link ServerCounters.snapshot} turns them into {@link ServerStats}. */
export class ServerCounters implements Record<Counter, number> {
  /** See {@link ServerStats.joined}. */
  joined = 0;
  /** See {@link ServerStats.left}. */
  left = 0;
  /** See {@link ServerStats.timedOut}. */
  timedOut = 0;
  /** See {@link ServerStats.suspected}. */
  suspected = 0;
  /** See {@link ServerStats.recovered}. */
  recovered = 0;
  /** See {@link ServerStats.resumed}. */
  resumed = 0;
  /** See {@link ServerStats.willsPublished}. */
  willsPublished = 0;
  /** See {@link ServerStats.heartbeats}. */
  heartbeats = 0;
  /** See {@link ServerStats.framesIn}. */
  framesIn = 0;
  /** See {@link ServerStats.framesOut}. */
  framesOut = 0;
  /** See {@link ServerStats.framesDropped}. */
  framesDropped = 0;
  /** See {@link ServerStats.bytesIn}. */
  bytesIn = 0;
  /** See {@link ServerStats.bytesOut}. */
  bytesOut = 0;
  /** See {@link ServerStats.listenerErrors}. */
  listenerErrors = 0;
  /** See {@link ServerStats.socketErrors}. */
  socketErrors = 0;
  readonly #errors = new Map<string, number>();

  /** Counts one protocol error. */
  error(code: ErrorCode): void {
    const name = errorCodeName(code);
    this.#errors.set(name, (this.#errors.get(name) ?? 0) + 1);
  }

  /** The counters plus the gauges passed in, as a plain object. */
  snapshot(gauges: Pick<ServerStats, "connections" | "sessions" | "nodes" | "online" | "suspect" | "labelSets">): ServerStats {
    return {
      ...gauges,
      joined: this.joined,
      left: this.left,
      timedOut: this.timedOut,
      suspected: this.suspected,
      recovered: this.recovered,
      resumed: this.resumed,
      willsPublished: this.willsPublished,
      heartbeats: this.heartbeats,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      framesDropped: this.framesDropped,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      errors: Object.fromEntries(this.#errors),
      listenerErrors: this.listenerErrors,
      socketErrors: this.socketErrors,
    };
  }
}
