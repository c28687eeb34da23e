/**
 * @hb/client: the hb heartbeat bus client for Node.
 *
 * - {@link HeartbeatClient}: connect, heartbeat on the negotiated interval
 *   with RTT measurement, detect a dead server, reconnect with full-jitter
 *   backoff and session resume, leave gracefully.
 * - Gateway mode: {@link HeartbeatClient.attach} many nodes on one
 *   connection, refreshed with batch heartbeats.
 * - Channels: {@link HeartbeatClient.subscribe} (a {@link Subscription} is
 *   an `AsyncIterable` of {@link Message}s), `publish`, `send`,
 *   `broadcast`, `request` / `onRequest`, {@link HeartbeatClient.watchPresence};
 *   flow control and fragments handled by the client.
 * - Options, defaults and validation in one place:
 *   {@link HeartbeatClientOptions}, {@link CLIENT_DEFAULTS}.
 *
 * The protocol is specified in docs/PROTOCOL.md.
 *
 * @packageDocumentation
 */
export { ErrorCode, HbError, type OverflowMode, errorCodeName } from "@hb/codec";
export { Backoff, backoffDelay } from "./backoff.js";
export type { MessagesOptions, RequestHandler, RequestOptions, RequestTarget } from "./channel-router.js";
export type {
  AttachFailedInfo,
  AttachedTimeoutInfo,
  CloseInfo,
  DisconnectInfo,
  DisconnectReason,
  HeartbeatClientEvents,
  HeartbeatInfo,
  ReconnectingInfo,
  SendErrorInfo,
  TokenRenewedInfo,
  WelcomeInfo,
} from "./client-events.js";
export {
  CLIENT_DEFAULTS,
  type ClientRole,
  type HeartbeatClientOptions,
  type ResolvedClientOptions,
  type ResolvedWill,
  type TokenProvider,
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
export { Message, type MessageKind, type Payload, type ReplyMessage } from "./message.js";
export type { AccessLevel, PermissionsInfo } from "./permissions.js";
export type { PresenceChange, PresenceNotice } from "./presence.js";
export { PERMANENT_ERROR_CODES, isPermanentErrorCode } from "./retry-policy.js";
export {
  MAX_SUBJECT_BYTES,
  MAX_SUBJECT_TOKENS,
  PRESENCE_SUBJECT,
  RESERVED_SUBJECT_PREFIX,
  subjectProblem,
} from "./subject.js";
export {
  DEFAULT_SUBSCRIPTION_BUFFER,
  type SubscribeOptions,
  Subscription,
  type SubscriptionCloseInfo,
  type SubscriptionEvents,
  type SubscriptionState,
  type WatchPresenceOptions,
} from "./subscription.js";
