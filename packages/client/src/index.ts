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
 * Tools and tests find the rest (backoff, retry policy, limits, the
 * heartbeat unit, option resolution) in `@hb/client/internal`: not part of
 * the stable API. Protocol limits and rules are `@hb/codec`'s.
 *
 * The protocol is specified in docs/PROTOCOL.md.
 *
 * @packageDocumentation
 */
export { ErrorCode, HbError, type OverflowMode } from "@hb/codec";
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
export { Message, type MessageKind, type Payload, type ReplyMessage } from "./message.js";
export type { AccessLevel, PermissionsInfo } from "./permissions.js";
export type { PresenceChange, PresenceNotice } from "./presence.js";
export {
  type SubscribeOptions,
  Subscription,
  type SubscriptionCloseInfo,
  type SubscriptionEvents,
  type SubscriptionState,
  type WatchPresenceOptions,
} from "./subscription.js";
