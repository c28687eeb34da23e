/**
 * @hb/server: the hb heartbeat bus server.
 *
 * - {@link HeartbeatServer}: TCP/TLS listener, node registry, liveness
 *   (timing wheel), presence events, gateway mode, resume, and channels
 *   (subscriptions, publish / send / broadcast / request-reply, presence
 *   as `$hb.presence`, fragments, flow control).
 * - {@link Session} / {@link SessionTransport}: the per-connection protocol
 *   logic, independent of sockets; {@link TcpTransport} is the thin socket
 *   adapter.
 * - {@link resolveServerOptions}: the one place options, defaults and ranges
 *   are declared.
 * - Several servers form one bus with the `bus` option: a {@link BusLink}
 *   such as {@link RedisBus} (servers on different hosts, through Redis) or
 *   a {@link MemoryBus} link (several servers in one process, for tests).
 * - Every core by default: `workerCount` worker processes share the port;
 *   hooks reach them through a `workerModule` ({@link WorkerModuleExport}).
 *
 * Behaviour is specified in docs/PROTOCOL.md (decisions in docs/DECISIONS.md).
 *
 * @packageDocumentation
 */
export { HeartbeatServer, LISTEN_BACKLOG } from "./heartbeat-server.js";
export {
  type BusEnvelope,
  type BusHandlers,
  type BusHealth,
  type BusLink,
  type BusNode,
  type BusPresence,
  RESYNC_REASON,
} from "./core/ports/bus-link.js";
export { MemoryBus, type MemoryBusOptions, type MemoryLink } from "./bus/memory-bus.js";
export { RedisBus } from "./bus/redis-bus.js";
export { type RedisBusOptions, type ResolvedRedisBusOptions, resolveRedisBusOptions } from "./bus/redis-bus-options.js";
export type { Logger } from "./core/ports/logger.js";
export { type IntervalBounds, negotiateInterval, suspectAfter } from "./liveness/negotiate-interval.js";
export { MAX_NODE_ID_BYTES, checkNodeId, generateNodeId } from "./registry/node-id.js";
export type { NodeFilter, NodeInfo, NodeState } from "./registry/node-info.js";
export {
  MAX_LABELS,
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  type NodeLabels,
  checkLabels,
} from "./registry/node-labels.js";
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
} from "./core/ports/node-events.js";
export type { HandoffSender } from "./workers/worker-handoff.js";
export {
  WORKER_SETUP_KEYS,
  type WorkerContext,
  type WorkerModuleExport,
  type WorkerSetup,
} from "./workers/worker-module.js";
export { SERVER_LOST_REASON } from "./core/ports/node-events.js";
export type { SubscriptionInfo } from "./routing/subscription-info.js";
export { MAX_SUBJECT_BYTES, MAX_SUBJECT_TOKENS, PRESENCE_SUBJECT, isReservedSubject } from "@hb/codec";
export {
  type AuthenticateContext,
  type AuthenticateHook,
  type AuthorizeBroadcastHook,
  type AuthorizePublishHook,
  type AuthorizeSubscribeHook,
  type HeartbeatServerOptions,
  PROCESS_LOCAL_OPTIONS,
  type RateLimitOptions,
  type ResolvedServerOptions,
  SERVER_OPTION_DEFAULTS,
  type ServerOptionDefaults,
  resolveServerOptions,
} from "./options/server-options.js";
export type { BusStats, DropStats, RoutedStats, ServerStats } from "./core/ports/server-stats.js";
export { MAX_FRAMES_BEFORE_WELCOME, Session, type SessionTransport } from "./session/session.js";
export { MAX_WRITE_BACKLOG, WRITE_HIGH_WATER } from "./session/session-writer.js";
export { FRAGMENT_SIZE } from "@hb/codec";
export { END_LINGER_MS, TcpTransport } from "./transport/tcp-transport.js";
