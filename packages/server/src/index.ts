/**
 * @hb/server: the hb heartbeat bus server.
 *
 * - {@link HeartbeatServer}: TCP/TLS listener, node registry, liveness,
 *   presence events, gateway mode, resume, and channels (subscriptions,
 *   publish / send / broadcast / request-reply, presence as
 *   `$hb.presence`, fragments, flow control); its options are
 *   {@link HeartbeatServerOptions}.
 * - Several servers form one bus with the `bus` option: a `BusLink`
 *   such as `RedisBus` from `@hb/server/redis` (servers on different hosts,
 *   through Redis; `ioredis` is an optional peer dependency) or
 *   a `MemoryBus` link from `@hb/server/memory` (several servers in one process, for tests);
 *   the link's types, for writing one, are in `@hb/server/bus`.
 * - Authentication, permissions and message limits (the `auth`,
 *   `permissions`, `messageRate`, `authenticate` and `authorize*` options):
 *   their types are in `@hb/server/auth`.
 * - Every core by default: `workerCount` worker processes share the port;
 *   hooks reach them through a `workerModule` ({@link WorkerModuleExport}).
 *
 * What tools, tests and benchmarks need beyond this (the session, the
 * transports, the parts of the core) is in `@hb/server/internal`: not part
 * of the stable API.
 *
 * Behaviour is specified in docs/PROTOCOL.md (decisions in docs/DECISIONS.md).
 *
 * @packageDocumentation
 */
export { HeartbeatServer } from "./heartbeat-server.js";
export type { Logger } from "./core/ports/logger.js";
export type {
  HeartbeatServerEvents,
  HoldReason,
  JoinReason,
  LeaveReason,
  LoopLagEvent,
  NodeEvent,
  RecoverReason,
  UpdateReason,
  SuspectReason,
  TimeoutReason,
  WillPublishedEvent,
} from "./core/ports/node-events.js";
export type {
  BusStats,
  DropStats,
  FlappingStats,
  ForbiddenStats,
  LivenessStats,
  RenewalStats,
  RoutedStats,
  ServerStats,
  WorkerStats,
} from "./core/ports/server-stats.js";
export type { LiveServerOptions } from "./options/live-options.js";
export type {
  HeartbeatServerOptions,
  RateLimitOptions,
  ResolvedServerOptions,
} from "./options/server-options.js";
export type { NodeFilter, NodeInfo, NodeState } from "./registry/node-info.js";
export type { SubscriptionInfo } from "./routing/subscription-info.js";
export type { LoopLagWindow } from "./telemetry/loop-lag.js";
export type { ProcessSample } from "./telemetry/process-sampler.js";
export type { RttSnapshot } from "./telemetry/rtt-histogram.js";
export type { WorkerContext, WorkerModuleExport, WorkerSetup } from "./workers/worker-module.js";
