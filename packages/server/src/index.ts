/**
 * @hb/server: the hb heartbeat bus server.
 *
 * - {@link HeartbeatServer}: TCP/TLS listener, node registry, liveness
 *   (timing wheel), presence events, gateway mode, resume.
 * - {@link Session} / {@link SessionTransport}: the per-connection protocol
 *   logic, independent of sockets; {@link TcpTransport} is the thin socket
 *   adapter.
 * - {@link resolveServerOptions}: the one place options, defaults and ranges
 *   are declared.
 *
 * Behaviour is specified in docs/PROTOCOL.md (decisions in docs/DECISIONS.md).
 *
 * @packageDocumentation
 */
export { HeartbeatServer, LISTEN_BACKLOG } from "./heartbeat-server.js";
export type { Logger } from "./logger.js";
export { type IntervalBounds, negotiateInterval, suspectAfter } from "./liveness/negotiate-interval.js";
export { MAX_NODE_ID_BYTES, checkNodeId, generateNodeId } from "./node-id.js";
export type { NodeFilter, NodeInfo, NodeState } from "./node-info.js";
export {
  MAX_LABELS,
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  type NodeLabels,
  checkLabels,
} from "./node-labels.js";
export type {
  HeartbeatServerEvents,
  JoinReason,
  LeaveReason,
  NodeEvent,
  NodeJoinedEvent,
  NodeLeftEvent,
  NodeRecoveredEvent,
  NodeSuspectEvent,
  NodeTimeoutEvent,
  RecoverReason,
  SuspectReason,
  TimeoutReason,
  WillPublishedEvent,
} from "./server-events.js";
export {
  type AuthenticateContext,
  type AuthenticateHook,
  type HeartbeatServerOptions,
  type RateLimitOptions,
  type ResolvedServerOptions,
  SERVER_OPTION_DEFAULTS,
  type ServerOptionDefaults,
  resolveServerOptions,
} from "./server-options.js";
export type { ServerStats } from "./server-stats.js";
export { MAX_FRAMES_BEFORE_WELCOME, MAX_WRITE_BACKLOG, Session, type SessionTransport } from "./session.js";
export { END_LINGER_MS, TcpTransport } from "./tcp-transport.js";
