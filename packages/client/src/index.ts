/**
 * @hb/client: the hb heartbeat bus client for Node.
 *
 * - {@link HeartbeatClient}: connect, heartbeat on the negotiated interval
 *   with RTT measurement, detect a dead server, reconnect with full-jitter
 *   backoff and session resume, leave gracefully.
 * - Gateway mode: {@link HeartbeatClient.attach} many nodes on one
 *   connection, refreshed with batch heartbeats.
 * - Options, defaults and validation in one place:
 *   {@link HeartbeatClientOptions}, {@link CLIENT_DEFAULTS}.
 *
 * The protocol is specified in docs/PROTOCOL.md.
 *
 * @packageDocumentation
 */
export { ErrorCode, HbError, errorCodeName } from "@hb/codec";
export { Backoff, backoffDelay } from "./backoff.js";
export type {
  AttachFailedInfo,
  AttachedTimeoutInfo,
  CloseInfo,
  DisconnectInfo,
  DisconnectReason,
  HeartbeatClientEvents,
  HeartbeatInfo,
  ReconnectingInfo,
  WelcomeInfo,
} from "./client-events.js";
export {
  CLIENT_DEFAULTS,
  type HeartbeatClientOptions,
  type ResolvedClientOptions,
  type ResolvedWill,
  type WillOptions,
  resolveClientOptions,
} from "./client-options.js";
export type { AttachedInfo, GatewayNodeState } from "./gateway-nodes.js";
export {
  type AttachOptions,
  type AttachedNodeStatus,
  type ClientStats,
  type ClientStatus,
  type ConnectOptions,
  HeartbeatClient,
} from "./heartbeat-client.js";
export {
  MAX_LABELS,
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  MAX_NODE_ID_BYTES,
} from "./node-limits.js";
export { PERMANENT_ERROR_CODES, isPermanentErrorCode } from "./retry-policy.js";
