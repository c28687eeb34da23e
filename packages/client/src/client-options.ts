import type { ConnectionOptions } from "node:tls";
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE, MAX_FRAME_SIZE_LIMIT, MIN_MAX_FRAME_SIZE } from "@hb/codec";
import { labelsProblem, nodeIdProblem } from "./node-limits.js";

/**
 * A last-will message: the server publishes it on the node's behalf when
 * the node is lost without `Goodbye`/`Detach` (heartbeat timeout, connection
 * closed).
 */
export interface WillOptions {
  /** Concrete subject to publish to (no wildcards). */
  subject: string;
  /** Payload; a string is sent as UTF-8. Default: empty. */
  payload?: Uint8Array | string;
}

/**
 * Where a credential comes from when it can change: called for the `token`
 * of every Hello (each connection attempt) and, when the server announces
 * an expiry and supports renewal, for every renewal before it expires
 * (PROTOCOL.md §5.8). A rejection or throw fails that attempt or renewal,
 * which is retried.
 */
export type TokenProvider = () => string | Promise<string>;

/**
 * What the connection registers (PROTOCOL.md §5.7): `"node"` (a node, in
 * presence) or `"observer"` (a tool or dashboard: never in the registry or
 * in presence, no will).
 */
export type ClientRole = "node" | "observer";

/**
 * Options of {@link HeartbeatClient}. Durations are in milliseconds. Only
 * `host` and `port` are required; see {@link CLIENT_DEFAULTS} for the rest.
 */
export interface HeartbeatClientOptions {
  /** Server host name or IP address. */
  host: string;
  /** Server TCP port, 1..65535. */
  port: number;
  /**
   * Node id to register (1..128 bytes of UTF-8, no control characters).
   * Unset or empty: the server assigns one, returned in the Welcome info and
   * kept for reconnects.
   */
  nodeId?: string;
  /** Labels of the node (≤ 32 entries, key 1..64 bytes, value ≤ 256 bytes). */
  metadata?: Readonly<Record<string, string>>;
  /**
   * Heartbeat interval to ask for, 0..3 600 000 ms. 0 (default): the
   * server's default. The server clamps it to its own range; the negotiated
   * value is in the Welcome info.
   */
  heartbeatInterval?: number;
  /**
   * Reconnect by itself after an established connection is lost (default
   * `true`). The first {@link HeartbeatClient.connect} never retries: it
   * rejects, and the caller decides.
   */
  autoReconnect?: boolean;
  /** Base of the exponential backoff, 1..3 600 000 ms (default 1000). */
  reconnectInterval?: number;
  /** Cap of the backoff, reconnectInterval..3 600 000 ms (default 30 000). */
  maxReconnectDelay?: number;
  /**
   * Reconnect attempts in a row before giving up (a non-negative integer or
   * `Infinity`, the default). A successful reconnect starts the count over.
   */
  maxReconnectAttempts?: number;
  /**
   * Credential for the server's authentication (`Hello.token`): a fixed
   * string, or a {@link TokenProvider} called for every connection attempt
   * and for renewals. With a provider the client renews the credential by
   * itself before it expires (when the server announces an expiry and
   * supports feature `token-renewal`), and reconnects with a fresh one after
   * `TOKEN_EXPIRED`; with a fixed string `TOKEN_EXPIRED` ends the client
   * like `UNAUTHORIZED`.
   */
  token?: string | TokenProvider;
  /**
   * `"node"` (default) or `"observer"`: a connection that is not a node
   * (`Hello.role`, PROTOCOL.md §5.7). An observer may not have a `will`. A
   * server that does not know roles registers a node anyway:
   * `WelcomeInfo.role` says what it did.
   */
  role?: ClientRole;
  /**
   * When set, connect with `tls.connect({ host, port, servername: host, ...tls })`
   * instead of plain TCP.
   */
  tls?: ConnectionOptions;
  /** Last will of the node, see {@link WillOptions}. */
  will?: WillOptions;
  /**
   * Time allowed for one connection attempt, from opening the socket to the
   * Welcome, 1..3 600 000 ms (default 10 000).
   */
  connectTimeout?: number;
  /**
   * How long {@link HeartbeatClient.close} waits for the server to close
   * the connection after Goodbye before destroying it, 0..60 000 ms
   * (default 2000).
   */
  closeTimeout?: number;
  /** Name and version of the client software, for the server's diagnostics. */
  clientName?: string;
  /**
   * Largest frame accepted from the server, in bytes, 1 KiB..64 MiB
   * (default 1 MiB). Announced in `Hello.max_frame_size`, whose range
   * (docs/PROTOCOL.md §3.3) this is.
   */
  maxFrameSize?: number;
  /**
   * How long {@link HeartbeatClient.request} waits for a reply unless the
   * call says otherwise, 1..3 600 000 ms (default 5000).
   */
  requestTimeout?: number;
  /**
   * Most payload bytes of publishes, sends, broadcasts and replies the
   * client holds while they wait for a connection or for flow-control
   * credit, 1..2^53 − 1 (default 64 MiB). A send that would exceed it
   * rejects at once with `HbError(FLOW_CONTROL)`; a message larger than it
   * can never be sent.
   */
  maxPendingBytes?: number;
}

/** Defaults of every optional {@link HeartbeatClientOptions} field. */
export const CLIENT_DEFAULTS = {
  /** 0: the server's default interval. */
  heartbeatInterval: 0,
  /** Reconnect after a lost connection. */
  autoReconnect: true,
  /** Backoff base, ms. */
  reconnectInterval: 1000,
  /** Backoff cap, ms. */
  maxReconnectDelay: 30_000,
  /** Never give up. */
  maxReconnectAttempts: Number.POSITIVE_INFINITY,
  /** ms from socket open to Welcome. */
  connectTimeout: 10_000,
  /** ms to wait for the server to close after Goodbye. */
  closeTimeout: 2000,
  /** Sent in `Hello.client_name`. */
  clientName: "@hb/client",
  /** Bytes, the protocol default. */
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  /** ms a request waits for its reply. */
  requestTimeout: 5000,
  /** Bytes held for sending: 64 MiB, the largest message a v1 server reassembles. */
  maxPendingBytes: DEFAULT_MAX_MESSAGE_SIZE,
} as const;

/** A will in wire form: payload as bytes. */
export interface ResolvedWill {
  /** Subject to publish to. */
  readonly subject: string;
  /** Payload bytes. */
  readonly payload: Uint8Array;
}

/** {@link HeartbeatClientOptions} after validation, with every default applied. */
export interface ResolvedClientOptions {
  /** Server host. */
  readonly host: string;
  /** Server port. */
  readonly port: number;
  /** Requested node id; `""` lets the server assign one. */
  readonly nodeId: string;
  /** Node labels (a frozen copy). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Requested heartbeat interval, ms (0: server default). */
  readonly heartbeatInterval: number;
  /** Whether lost connections are re-established. */
  readonly autoReconnect: boolean;
  /** Backoff base, ms. */
  readonly reconnectInterval: number;
  /** Backoff cap, ms. */
  readonly maxReconnectDelay: number;
  /** Reconnect attempts in a row before giving up. */
  readonly maxReconnectAttempts: number;
  /** Credential: a string (`""` when none) or a provider. */
  readonly token: string | TokenProvider;
  /** Role of the connection. */
  readonly role: ClientRole;
  /** TLS options, or `undefined` for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  /** Last will with its payload as bytes, or `undefined`. */
  readonly will: ResolvedWill | undefined;
  /** ms from socket open to Welcome. */
  readonly connectTimeout: number;
  /** ms to wait for the server to close after Goodbye. */
  readonly closeTimeout: number;
  /** Client software name. */
  readonly clientName: string;
  /** Largest frame accepted from the server, bytes. */
  readonly maxFrameSize: number;
  /** Default request timeout, ms. */
  readonly requestTimeout: number;
  /** Most payload bytes waiting to be sent. */
  readonly maxPendingBytes: number;
}

const MAX_DURATION_MS = 3_600_000;

function integerIn(name: string, value: unknown, min: number, max: number, unit = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}${unit}, got ${String(value)}`);
  }
  return value;
}

function stringOption(name: string, value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`${name} must be a string, got ${typeof value}`);
  return value;
}

/**
 * Converts a will to its wire form (payload as bytes).
 *
 * @throws TypeError when the subject is not a non-empty string or the payload
 *   is neither a string nor a Uint8Array
 */
export function resolveWill(name: string, will: WillOptions): ResolvedWill {
  if (will === null || typeof will !== "object") throw new TypeError(`${name} must be an object { subject, payload? }`);
  if (typeof will.subject !== "string" || will.subject.length === 0) {
    throw new TypeError(`${name}.subject must be a non-empty string`);
  }
  const p = will.payload;
  let payload: Uint8Array;
  if (p === undefined) payload = new Uint8Array(0);
  else if (typeof p === "string") payload = new TextEncoder().encode(p);
  else if (p instanceof Uint8Array) payload = p;
  else throw new TypeError(`${name}.payload must be a string or a Uint8Array`);
  return { subject: will.subject, payload };
}

/**
 * Validates options and applies {@link CLIENT_DEFAULTS}.
 *
 * @throws RangeError naming the option and its allowed range when a number
 *   is out of range; TypeError when an option has the wrong type
 */
export function resolveClientOptions(options: HeartbeatClientOptions): ResolvedClientOptions {
  if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
  const host = stringOption("host", options.host);
  if (host.length === 0) throw new RangeError("host must be a non-empty string");
  const port = integerIn("port", options.port, 1, 65_535);

  const nodeId = options.nodeId === undefined ? "" : stringOption("nodeId", options.nodeId);
  if (nodeId !== "") {
    const problem = nodeIdProblem(nodeId, "nodeId");
    if (problem !== undefined) throw new RangeError(problem);
  }
  const metadata = options.metadata ?? {};
  const labelProblem = labelsProblem(metadata, "metadata");
  if (labelProblem !== undefined) throw new RangeError(labelProblem);

  const d = CLIENT_DEFAULTS;
  const heartbeatInterval = integerIn(
    "heartbeatInterval",
    options.heartbeatInterval ?? d.heartbeatInterval,
    0,
    MAX_DURATION_MS,
    " ms",
  );
  const autoReconnect = options.autoReconnect ?? d.autoReconnect;
  if (typeof autoReconnect !== "boolean") throw new TypeError("autoReconnect must be a boolean");
  const reconnectInterval = integerIn(
    "reconnectInterval",
    options.reconnectInterval ?? d.reconnectInterval,
    1,
    MAX_DURATION_MS,
    " ms",
  );
  const maxReconnectDelay = integerIn(
    "maxReconnectDelay",
    options.maxReconnectDelay ?? Math.max(d.maxReconnectDelay, reconnectInterval),
    reconnectInterval,
    MAX_DURATION_MS,
    " ms (at least reconnectInterval)",
  );
  const maxReconnectAttempts = options.maxReconnectAttempts ?? d.maxReconnectAttempts;
  if (
    typeof maxReconnectAttempts !== "number" ||
    maxReconnectAttempts < 0 ||
    !(Number.isInteger(maxReconnectAttempts) || maxReconnectAttempts === Number.POSITIVE_INFINITY)
  ) {
    throw new RangeError(
      `maxReconnectAttempts must be an integer in 0..Infinity, got ${String(maxReconnectAttempts)}`,
    );
  }
  const token = typeof options.token === "function" ? options.token : options.token === undefined ? "" : stringOption("token", options.token);
  const role = options.role ?? "node";
  if (role !== "node" && role !== "observer") throw new RangeError(`role must be "node" or "observer", got ${String(role)}`);
  const tls = options.tls;
  if (tls !== undefined && (tls === null || typeof tls !== "object")) throw new TypeError("tls must be an object");
  const will = options.will === undefined ? undefined : resolveWill("will", options.will);
  if (will !== undefined && role === "observer") throw new TypeError("an observer has no will (PROTOCOL.md §5.7)");
  const connectTimeout = integerIn(
    "connectTimeout",
    options.connectTimeout ?? d.connectTimeout,
    1,
    MAX_DURATION_MS,
    " ms",
  );
  const closeTimeout = integerIn("closeTimeout", options.closeTimeout ?? d.closeTimeout, 0, 60_000, " ms");
  const clientName = stringOption("clientName", options.clientName ?? d.clientName);
  const maxFrameSize = integerIn(
    "maxFrameSize",
    options.maxFrameSize ?? d.maxFrameSize,
    MIN_MAX_FRAME_SIZE,
    MAX_FRAME_SIZE_LIMIT,
    " bytes",
  );

  const requestTimeout = integerIn(
    "requestTimeout",
    options.requestTimeout ?? d.requestTimeout,
    1,
    MAX_DURATION_MS,
    " ms",
  );
  const maxPendingBytes = integerIn(
    "maxPendingBytes",
    options.maxPendingBytes ?? d.maxPendingBytes,
    1,
    Number.MAX_SAFE_INTEGER,
    " bytes",
  );

  return {
    host,
    port,
    nodeId,
    metadata: Object.freeze({ ...metadata }),
    heartbeatInterval,
    autoReconnect,
    reconnectInterval,
    maxReconnectDelay,
    maxReconnectAttempts,
    token,
    role,
    tls,
    will,
    connectTimeout,
    closeTimeout,
    clientName,
    maxFrameSize,
    requestTimeout,
    maxPendingBytes,
  };
}
