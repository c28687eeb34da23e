
/**
 * Liveness state of a registered node. `"online"`: heard from within
 * 1.5 × its heartbeat interval. `"suspect"`: silent longer than that, or its
 * connection is lost and the session is waiting for a resume. A node that
 * times out or leaves is removed from the registry (it is *offline*: the
 * `nodeTimeout` / `nodeLeft` events report it) and {@link HeartbeatServer.get}
 * returns `undefined` for it.
 */
export type NodeState = "online" | "suspect";

/** A snapshot of one registered node, as returned by {@link HeartbeatServer.get} and {@link HeartbeatServer.list}. */
export interface NodeInfo {
  /** The node id. */
  nodeId: string;
  /** The node's labels (a frozen object shared by every node with equal labels). */
  labels: Readonly<Record<string, string>>;
  /** Current liveness state. */
  state: NodeState;
  /** When the node was last heard from, ms since the Unix epoch. */
  lastHeardAt: number;
  /** When the node registered, ms since the Unix epoch. */
  joinedAt: number;
  /** Heartbeats counted for this node (Heartbeat frames and batch refreshes, wrapping at 2^32). */
  heartbeats: number;
  /** Session id of the connection (or resumable session) the node belongs to. */
  sessionId: string;
  /** Gateway handle of an attached node; 0 for a connection's own node. */
  handle: number;
  /** For an attached node, the node id of the gateway connection it is attached through; else `undefined`. */
  gatewayNodeId: string | undefined;
  /** Whether the node's connection is open (false while a lost session waits for a resume). */
  connected: boolean;
  /** Remote address of the node's (last) connection. */
  remoteAddress: string;
  /** Negotiated heartbeat interval, in ms. */
  heartbeatInterval: number;
  /**
   * For a node held by another server of the bus (the `bus` option): that
   * server's id. Then `connected` is `true`, `sessionId` and
   * `remoteAddress` are `""`, `handle` and the counters 0, and the times
   * are when this server learnt of it. Absent for nodes of this server.
   */
  serverId?: string;
}

/** Filter of {@link HeartbeatServer.count} and {@link HeartbeatServer.list}. Absent fields match everything. */
export interface NodeFilter {
  /** Only nodes whose labels contain every one of these entries. */
  labels?: Readonly<Record<string, string>>;
  /** Only nodes in this state. */
  state?: NodeState;
}
