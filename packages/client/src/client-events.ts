import type { HbError } from "@hb/codec";
import type { ClientRole } from "./client-options.js";
import type { Message } from "./message.js";
import type { PermissionsInfo } from "./permissions.js";

/** The session a Welcome established, in plain numbers. Durations in ms. */
export interface WelcomeInfo {
  /** Node id the connection is registered under (assigned by the server if none was asked). */
  readonly nodeId: string;
  /** Server session id; unchanged across a successful resume. */
  readonly sessionId: string;
  /** Negotiated heartbeat interval: the client sends a Heartbeat this often. */
  readonly heartbeatInterval: number;
  /**
   * Negotiated timeout: the server declares the node offline after this long
   * without a frame, and the client drops a server it has not heard from for
   * this long.
   */
  readonly heartbeatTimeout: number;
  /** True when this Welcome resumed the earlier session (resume token accepted). */
  readonly resumed: boolean;
  /** Largest frame the server accepts, bytes (0: the protocol default, 1 MiB). */
  readonly maxFrameSize: number;
  /**
   * Largest frame reassembled from fragments, in either direction, bytes
   * (0: no fragments on this connection).
   */
  readonly maxMessageSize: number;
  /**
   * Flow-control window: payload bytes the client may send before it needs
   * credit from the server (0: no flow control).
   */
  readonly initialWindow: number;
  /** Server wall-clock time at Welcome, ms since the Unix epoch. */
  readonly serverTime: number;
  /** How long the server keeps a lost session resumable, ms. */
  readonly resumeGrace: number;
  /** Identifier of the server instance. */
  readonly serverId: string;
  /** Protocol version the server speaks on this connection. */
  readonly protocolVersion: number;
  /**
   * Optional features in use on this connection (`Welcome.features`): those
   * this client asked for that the server supports, e.g. `"heartbeat-rtt"`.
   */
  readonly features: readonly string[];
  /**
   * What the server registered: `"observer"` only when it knows roles and
   * accepted the observer role; `"node"` otherwise (a server that does not
   * know roles registers a node, whatever was asked).
   */
  readonly role: ClientRole;
  /**
   * Period of the server's liveness check, ms: a presence verdict comes at
   * most this late after its deadline (plus any server stall). 0: not said.
   */
  readonly checkInterval: number;
  /** The server's handshake timeout, ms. 0: not said. */
  readonly handshakeTimeout: number;
  /** What the connection may do; `undefined` when the server does not say. */
  readonly permissions: PermissionsInfo | undefined;
  /** How long the credential stays valid from the Welcome, ms. 0: it does not expire (or not said). */
  readonly tokenExpiresIn: number;
  /** How long the server keeps a session whose credential expired unrenewed, ms. */
  readonly tokenGrace: number;
}

/** Payload of the `tokenRenewed` event: the server accepted a fresh credential. */
export interface TokenRenewedInfo {
  /** How long the new credential stays valid, ms. 0: it does not expire. */
  readonly tokenExpiresIn: number;
  /** The permissions under the new credential, when the server sent them. */
  readonly permissions: PermissionsInfo | undefined;
}

/** Payload of the `heartbeat` event: one acknowledged Heartbeat. */
export interface HeartbeatInfo {
  /** Heartbeat sequence number (per connection, from 1). */
  readonly seq: number;
  /** Round-trip time, ms (fractional, from `performance.now()`). */
  readonly rtt: number;
}

/**
 * Why a connection that had reached Welcome ended:
 * - `client_close`: {@link HeartbeatClient.close};
 * - `connection_closed`: the server closed it without an error frame;
 * - `socket_error`: the socket failed (reset, …);
 * - `heartbeat_timeout`: nothing was heard from the server for the negotiated timeout;
 * - `go_away`: the server is draining (GoAway);
 * - `protocol_error`: the server sent a fatal ProtocolError;
 * - `decode_error`: the server sent bytes that are not valid frames.
 */
export type DisconnectReason =
  | "client_close"
  | "connection_closed"
  | "socket_error"
  | "heartbeat_timeout"
  | "go_away"
  | "protocol_error"
  | "decode_error";

/** Payload of the `disconnect` event. */
export interface DisconnectInfo {
  /** What ended the connection. */
  readonly reason: DisconnectReason;
  /** The error behind it, if any ({@link HbError} for protocol-level causes). */
  readonly error?: Error;
}

/** Payload of the `reconnecting` event: a reconnect attempt is scheduled. */
export interface ReconnectingInfo {
  /** Attempt number since the connection was lost, from 1. */
  readonly attempt: number;
  /** Delay before the attempt, ms (full-jitter backoff). */
  readonly delay: number;
  /** Why the previous attempt (or the connection) failed, if known. */
  readonly error?: Error;
}

/** Payload of the `close` event: the client stopped for good. */
export interface CloseInfo {
  /**
   * Why, when it was not {@link HeartbeatClient.close}: a permanent refusal
   * (e.g. `UNAUTHORIZED`), reconnect attempts exhausted, or a lost connection
   * with `autoReconnect` off.
   */
  readonly error?: Error;
}

/** Payload of the `attachedTimeout` event. */
export interface AttachedTimeoutInfo {
  /** The attached node the server timed out (it is no longer attached). */
  readonly nodeId: string;
  /** The handle it had (now free). */
  readonly handle: number;
}

/** Payload of the `attachFailed` event. */
export interface AttachFailedInfo {
  /** The node whose re-attach after a reconnect was refused (it is no longer attached). */
  readonly nodeId: string;
  /** The server's refusal. */
  readonly error: HbError;
}

/**
 * Payload of the `sendError` event: the server refused something this
 * client sent, in a non-fatal `ProtocolError` that names no pending
 * operation (those reject their own promise): a Publish to a forbidden
 * subject (`FORBIDDEN`), a Send to a node that is offline (`UNKNOWN_NODE`),
 * a Broadcast the server does not allow (`FORBIDDEN`), an Unsubscribe or
 * Publish on a channel it does not know (`UNKNOWN_CHANNEL`), …
 */
export interface SendErrorInfo {
  /** The server's error (`code`, `message`). */
  readonly error: HbError;
  /** `ProtocolError.ref`: the request id of the refused frame, or 0. */
  readonly ref: bigint;
  /** `Frame.channel` of the error: the channel it concerns, or 0. */
  readonly channel: number;
  /**
   * The node the error names (`ProtocolError.node_id`): the target of a
   * Send that could not be delivered or was refused. Absent when the server
   * named none (servers before this field name it only in the message).
   */
  readonly nodeId?: string;
}

/**
 * Events of {@link HeartbeatClient}, as `name: [argument]`.
 *
 * Order on a successful (re)connect: `connect`, `welcome`. On a loss:
 * `error` (if the server sent one), `disconnect`, then `reconnecting` or
 * `close`.
 */
export interface HeartbeatClientEvents {
  /**
   * The socket is open (TCP connected / TLS handshake done) and Hello is on
   * its way; emitted for every attempt, before `welcome`.
   */
  connect: [];
  /** The handshake succeeded: a session is up (first connect and every reconnect). */
  welcome: [info: WelcomeInfo];
  /** A HeartbeatAck arrived. */
  heartbeat: [info: HeartbeatInfo];
  /** A connection that had reached Welcome ended. */
  disconnect: [info: DisconnectInfo];
  /** A reconnect attempt is scheduled. */
  reconnecting: [info: ReconnectingInfo];
  /**
   * A protocol-level error: a fatal ProtocolError from the server, a refused
   * reconnect, a decode error, or a non-fatal ProtocolError that concerns no
   * pending operation when `sendError` has no listener. Emitted only when a
   * listener exists, so an unhandled `error` never crashes the process.
   */
  error: [error: HbError];
  /**
   * A direct message or broadcast arrived (not one on a subscription, and
   * not a direct request taken by the {@link HeartbeatClient.onRequest}
   * handler).
   */
  message: [message: Message];
  /**
   * The server refused something this client sent (non-fatal; the
   * connection carries on). When this event has no listener, the error goes
   * to `error` instead.
   */
  sendError: [info: SendErrorInfo];
  /** The server timed out an attached node (gateway mode); the handle is forgotten. */
  attachedTimeout: [info: AttachedTimeoutInfo];
  /** Re-attaching a node after a reconnect was refused; the node is forgotten. */
  attachFailed: [info: AttachFailedInfo];
  /**
   * The server accepted a fresh credential from the token provider, on the
   * live connection (feature `token-renewal`). A failed renewal is reported
   * as `error` and retried.
   */
  tokenRenewed: [info: TokenRenewedInfo];
  /** The client stopped for good; emitted once. */
  close: [info: CloseInfo];
}
