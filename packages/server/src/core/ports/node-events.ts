
/** Why a node joined: a Hello, an Attach, or either of them taking over an id registered elsewhere. */
export type JoinReason = "hello" | "attach" | "replaced" | "resync";
/**
 * Why a node left: `goodbye` (Goodbye frame), `detach` (Detach frame),
 * `connection_closed` (closed without Goodbye and no resume grace),
 * `replaced` (a newer connection registered the id, or the node's gateway
 * connection lost its own node that way), `server_shutdown` (its connection
 * closed while the server was draining).
 */
export type LeaveReason =
  | "goodbye"
  | "detach"
  | "connection_closed"
  | "replaced"
  | "server_shutdown"
  | "resync";
/**
 * Why a node's timeout verdict is held (docs/PROTOCOL.md §6.3): the
 * server's own event loop lags (`server_lagging`), or too many nodes went
 * silent at once (`mass_silence`, the mass-departure brake).
 */
export type HoldReason = "server_lagging" | "mass_silence";
/**
 * Why a node became suspect: nothing heard for 1.5 × its interval (or the
 * phi detector's verdict), its connection was lost (resume grace running),
 * or it reached its timeout while verdicts are held ({@link HoldReason}).
 */
export type SuspectReason = "heartbeat_missed" | "connection_closed" | HoldReason | "resync";
/**
 * Why a node timed out: nothing heard for heartbeatTimeout, or its resume
 * grace ran out; for a node on another server of the bus also
 * `server_lost` (that server is gone: crashed, or its bus lease expired) or
 * `resync` (it disappeared while the bus link was down).
 */
export type TimeoutReason = "heartbeat_timeout" | "connection_closed" | "server_lost" | "resync";
/** Why a suspect node recovered: it was heard from again, or its session was resumed on a new connection. */
export type RecoverReason = "heartbeat" | "resumed" | "resync";
/** Why a node was updated: its labels changed while it stayed online (a resume of a live session with other labels). */
export type UpdateReason = "labels_changed";

/** Reason of the `nodeTimeout` events for the nodes of a server of the bus that is gone. */
export const SERVER_LOST_REASON = "server_lost";

/** Payload of every node presence event. */
export interface NodeEvent<R extends string = string> {
  /** The node. */
  nodeId: string;
  /** Its labels (frozen, shared between nodes with equal labels). */
  labels: Readonly<Record<string, string>>;
  /** Machine-readable reason; also what `PresenceEvent.reason` carries. */
  reason: R;
  /** When the server observed the change, ms since the Unix epoch. */
  time: number;
  /** When the node was last heard from, ms since the Unix epoch. */
  lastHeardAt: number;
  /** Session id of the node's connection. */
  sessionId: string;
  /** Gateway handle of an attached node; 0 for a connection's own node. */
  handle: number;
  /** The server that observed it (for a remote node: the server of the bus holding it). */
  serverId: string;
  /**
   * `true` when the node is held by another server of the bus (the
   * `bus` option): then `sessionId` is `""`, `handle` 0 and `lastHeardAt`
   * the event's time. Absent for nodes of this server.
   */
  remote?: true;
  /**
   * Its labels before this event, when the event changed them (`nodeUpdated`,
   * or `nodeRecovered` on a resume with other labels, PROTOCOL.md §7.5).
   */
  previousLabels?: Readonly<Record<string, string>>;
}

/** Payload of `willPublished`: a node was lost unexpectedly and its will was published. */
export interface WillPublishedEvent {
  /** The lost node. */
  nodeId: string;
  /** Subject of the will. */
  subject: string;
  /** Payload of the will. */
  payload: Uint8Array;
  /** How the node was lost: `heartbeat_timeout` or `connection_closed`. */
  reason: TimeoutReason;
  /** When it was published, ms since the Unix epoch. */
  time: number;
}

/** Payload of `loopLag`: the event-loop lag over one window, ms. */
export interface LoopLagEvent {
  /** Median, ms. */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Maximum, ms. */
  max: number;
  /** The threshold reached (`loopLagThreshold`), ms. */
  threshold: number;
  /** When, ms since the Unix epoch. */
  time: number;
}

/**
 * Events of {@link HeartbeatServer}, for its typed `on` / `once` / `emit`.
 *
 * Listeners run synchronously inside the server's frame handling and timer
 * callbacks: keep them short. A listener that throws is logged and counted
 * (`stats().listenerErrors`); it never breaks a connection or the server.
 * The server skips building a payload when an event has no listener.
 */
export interface HeartbeatServerEvents {
  /** A node registered (Hello or Attach). */
  nodeJoined: [event: NodeEvent<JoinReason>];
  /** A node left gracefully, was replaced, or its connection closed without resume grace. */
  nodeLeft: [event: NodeEvent<LeaveReason>];
  /** A node went quiet, or its connection was lost while resume grace runs. */
  nodeSuspect: [event: NodeEvent<SuspectReason>];
  /** A node timed out (heartbeat timeout or resume grace over): it is offline. */
  nodeTimeout: [event: NodeEvent<TimeoutReason>];
  /** A suspect node was heard from again, or resumed. */
  nodeRecovered: [event: NodeEvent<RecoverReason>];
  /** A node's labels changed while it stayed online (`previousLabels` has the old ones). */
  nodeUpdated: [event: NodeEvent<UpdateReason>];
  /** A lost node's will was published. */
  willPublished: [event: WillPublishedEvent];
  /**
   * The event-loop lag of the last one-second window reached
   * `loopLagThreshold` (at most once a second; also logged as a warning).
   */
  loopLag: [event: LoopLagEvent];
}
