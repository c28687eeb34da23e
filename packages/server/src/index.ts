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
 *   such as `RedisBus` from `@hb/server/redis` (servers on different hosts,
 *   through Redis; `ioredis` is an optional peer dependency) or
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
} from "./cluster/bus-link.js";
export { MemoryBus, type MemoryBusOptions, type MemoryLink } from "./cluster/memory-bus.js";
export { LIVE_OPTIONS, type LiveServerOptions } from "./live-options.js";
export type { Logger } from "./logger.js";
export { SILENT_LOGGER } from "./silent-logger.js";
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
export type { HandoffSender } from "./cluster/worker-handoff.js";
export {
  WORKER_SETUP_KEYS,
  type WorkerContext,
  type WorkerModuleExport,
  type WorkerSetup,
} from "./cluster/worker-module.js";
export { SERVER_LOST_REASON } from "./server-events.js";
export type { SubscriptionInfo } from "./routing/subscription-info.js";
export {
  MAX_SUBJECT_BYTES,
  MAX_SUBJECT_TOKENS,
  PRESENCE_SUBJECT,
  RESERVED_PREFIX,
  isReservedSubject,
  parseSubject,
} from "./routing/subject.js";
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
} from "./server-options.js";
export type { BusStats, DropStats, PresenceTransitions, RoutedStats, ServerStats } from "./server-stats.js";
export { RTT_BUCKETS, type RttSnapshot } from "./telemetry/rtt-histogram.js";
export type { ProcessSample } from "./telemetry/process-sampler.js";
export type { WorkerStats } from "./telemetry/worker-stats.js";
export { MAX_FRAMES_BEFORE_WELCOME, Session, type SessionTransport } from "./session.js";
export { FRAGMENT_SIZE, MAX_WRITE_BACKLOG, WRITE_HIGH_WATER } from "./session-writer.js";
export { END_LINGER_MS, TcpTransport } from "./tcp-transport.js";
