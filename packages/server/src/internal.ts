/**
 * @hb/server/internal: what tools, tests, benchmarks and the conformance
 * runner need beyond the public API (the nats.js `internal_mod.ts` idea):
 * the session and its transports, the parts of the core, the bus and
 * worker internals, tuning constants. Internal and unstable: names and
 * signatures change without a major version. Applications use `@hb/server`.
 *
 * @packageDocumentation
 */
export * from "./index.js";
export * from "./memory.js";
export { LISTEN_BACKLOG } from "./transport/tcp-listener.js";
export { END_LINGER_MS, TcpTransport } from "./transport/tcp-transport.js";
export type { SessionTransport } from "./core/ports/session-transport.js";
export { type Clock, systemClock } from "./core/ports/clock.js";
export type { EventSink, NodeEventName } from "./core/ports/event-sink.js";
export type { FrameHandler, FrameHandlers, Refusal } from "./core/ports/frame-handlers.js";
export type { NodeDirectory } from "./core/ports/node-directory.js";
export { RESYNC_REASON } from "./core/ports/bus-link.js";
export { SERVER_LOST_REASON } from "./core/ports/node-events.js";
export { ServerCounters } from "./core/ports/server-stats.js";
export { ServerCore } from "./core/server-core.js";
export { LocalDirectory } from "./core/local-directory.js";
export { LivenessMonitor, type LivenessActions, type LivenessOwner } from "./liveness/liveness-monitor.js";
export { type IntervalBounds, negotiateInterval, suspectAfter } from "./liveness/negotiate-interval.js";
export { TimingWheel } from "./liveness/timing-wheel.js";
export { LIVE_OPTIONS, LiveOptions, applyLiveOptions } from "./options/live-options.js";
export {
  PROCESS_LOCAL_OPTIONS,
  SERVER_OPTION_DEFAULTS,
  type ServerOptionDefaults,
  resolveServerOptions,
} from "./options/server-options.js";
export { SILENT_LOGGER } from "./options/silent-logger.js";
export { NodeRegistry } from "./registry/node-registry.js";
export { generateNodeId } from "./registry/node-id.js";
export type { NodeLabels } from "./registry/node-labels.js";
export { MAX_FRAMES_BEFORE_WELCOME, Session, type SessionContext } from "./session/session.js";
export { Registrations, type OpenResult, type SessionEnd } from "./session/registrations.js";
export { SessionRecord, type SessionConnection } from "./session/session-record.js";
export type { RoutePeer } from "./routing/route-peer.js";
export { MAX_WRITE_BACKLOG, SessionWriter, WRITE_HIGH_WATER } from "./session/session-writer.js";
export { BusDirectory } from "./bus/bus-directory.js";
export type { HandoffSender } from "./workers/worker-handoff.js";
export { WORKER_SETUP_KEYS } from "./workers/worker-module.js";
export { IpcBusHub } from "./workers/ipc-bus-hub.js";
export { IpcBusLink } from "./workers/ipc-bus-link.js";
export { PrimaryBusLink } from "./workers/primary-bus-link.js";
export { RTT_BUCKETS } from "./telemetry/rtt-histogram.js";
