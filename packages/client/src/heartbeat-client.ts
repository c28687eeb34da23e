import { EventEmitter } from "node:events";
import {
  ErrorCode,
  Feature,
  type Frame,
  type GoAway,
  HbError,
  type HeartbeatAck,
  PROTOCOL_VERSION,
  type ProtocolError,
  Role,
  type Welcome,
  errorCodeName,
  makeFrame,
} from "@hb/codec";
import { Backoff } from "./backoff.js";
import {
  ChannelRouter,
  type MessagesOptions,
  type RequestHandler,
  type RequestOptions,
  type RequestTarget,
} from "./channel-router.js";
import type { DisconnectReason, HeartbeatClientEvents, SendErrorInfo, WelcomeInfo } from "./client-events.js";
import {
  type HeartbeatClientOptions,
  type ResolvedClientOptions,
  type WillOptions,
  resolveClientOptions,
  resolveWill,
} from "./client-options.js";
import { Connection, type TrafficCounters } from "./connection.js";
import { type AttachedInfo, type GatewayNode, type GatewayNodeState, GatewayNodes } from "./gateway-nodes.js";
import { Heartbeats, NODE_TIMERS } from "./heartbeats.js";
import type { Message, Payload, ReplyMessage } from "./message.js";
import { labelsProblem, nodeIdProblem, throwInvalidArgument } from "./node-limits.js";
import { openSocket } from "./open-socket.js";
import { permissionsInfo } from "./permissions.js";
import type { PresenceNotice } from "./presence.js";
import { isPermanentErrorCode } from "./retry-policy.js";
import { TokenRenewal } from "./token-renewal.js";
import type { SubscribeOptions, Subscription, WatchPresenceOptions } from "./subscription.js";

/**
 * Life cycle of a {@link HeartbeatClient}:
 * `idle` → `connecting` → `connected` ⇄ `reconnecting` → `closing` → `closed`.
 * A failed first connect goes back to `idle`.
 */
export type ClientStatus = "idle" | "connecting" | "connected" | "reconnecting" | "closing" | "closed";

/** Options of {@link HeartbeatClient.connect}. */
export interface ConnectOptions {
  /** Cancels the attempt: the socket is destroyed and `connect()` rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@link HeartbeatClient.attach}. */
export interface AttachOptions {
  /** Last will of the attached node, published if it is lost without Detach/Goodbye. */
  will?: WillOptions;
  /**
   * Cancels the wait: the node is detached (Detach is sent if its Attach
   * was) and `attach()` rejects with the signal's reason. No effect once
   * attached.
   */
  signal?: AbortSignal;
}

/** One entry of {@link HeartbeatClient.attachedNodes}. */
export interface AttachedNodeStatus {
  /** Node id. */
  readonly nodeId: string;
  /** Connection-local handle. */
  readonly handle: number;
  /** Whether batch heartbeats refresh it. */
  readonly alive: boolean;
  /** Progress of its Attach on the current connection. */
  readonly state: GatewayNodeState;
}

/** A snapshot of a client's state and counters; counters run across reconnects. */
export interface ClientStats {
  /** Life-cycle status. */
  readonly status: ClientStatus;
  /** Whether a session is up (`status === "connected"`). */
  readonly connected: boolean;
  /** Node id from the last Welcome, `undefined` before the first. */
  readonly nodeId: string | undefined;
  /** Session id from the last Welcome, `undefined` before the first. */
  readonly sessionId: string | undefined;
  /** Heartbeat round-trip times in ms; `undefined` until the first ack. */
  readonly rtt: {
    /** Most recent RTT. */
    readonly last: number | undefined;
    /** Mean over every ack received. */
    readonly mean: number | undefined;
  };
  /** Successful reconnects (Welcome after a lost connection). */
  readonly reconnects: number;
  /** Frames received. */
  readonly framesIn: number;
  /** Frames sent. */
  readonly framesOut: number;
  /** Bytes received. */
  readonly bytesIn: number;
  /** Bytes sent. */
  readonly bytesOut: number;
  /** Heartbeat frames sent. */
  readonly heartbeatsSent: number;
  /** HeartbeatAck frames received. */
  readonly heartbeatsAcked: number;
  /** Nodes attached through this client (gateway mode), confirmed or not. */
  readonly attachedNodes: number;
  /** Messages received: deliveries (subscriptions, direct, broadcast), presence events, replies. */
  readonly messagesIn: number;
  /** Messages handed to a connection: publishes, sends, broadcasts, replies (a fragmented one counts once). */
  readonly messagesOut: number;
  /** Messages dropped because a local buffer (a subscription's, a `messages()` iterator's) was full. */
  readonly dropped: number;
  /** Requests waiting for their reply. */
  readonly pendingRequests: number;
  /** Live subscriptions (presence watches included). */
  readonly subscriptions: number;
  /** Payload bytes waiting to be sent (no connection, or no flow-control credit). */
  readonly pendingBytes: number;
}

interface Handshake {
  readonly conn: Connection;
  readonly resolve: (info: WelcomeInfo) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}


const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException("This operation was aborted", "AbortError");

const goAwayError = (g: GoAway): HbError =>
  new HbError(g.code || ErrorCode.SHUTTING_DOWN, `server going away: ${g.reason || "no reason given"}`);

/** The features this client implements, listed in every Hello (PROTOCOL.md §15.1). */
const CLIENT_FEATURES = [Feature.heartbeatRtt, Feature.tokenRenewal];

/** Body number of `renew` in Frame: `ProtocolError.ref_body` of a refused renewal. */
const RENEW_BODY = 24;

/** A uint64 from the wire as a number (saturating at 2^53 − 1). */
const clampU64 = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));

const toHbError = (e: ProtocolError): HbError =>
  new HbError(e.code, e.message === "" ? `server error ${errorCodeName(e.code)}` : e.message, { retryAfterMs: e.retryAfterMs });

/**
 * A node's connection to an hb server: handshake, heartbeats on the
 * negotiated interval with RTT measurement, dead-server detection,
 * reconnects with full-jitter backoff and session resume, gateway mode
 * (many nodes on one connection), and channels: subscriptions, publish,
 * direct messages, broadcasts, request/reply and presence watches.
 *
 * ```ts
 * const client = new HeartbeatClient({ host: "hb.example", port: 4222, nodeId: "sensor-1" });
 * client.on("disconnect", ({ reason }) => log.warn(reason));
 * const welcome = await client.connect({ signal: AbortSignal.timeout(5000) });
 * // … heartbeats run by themselves …
 * await client.close();
 * ```
 *
 * **First connect vs reconnect.** `connect()` makes exactly one attempt and
 * rejects if it fails (server unreachable, refused, timed out): the caller
 * sees the problem at once instead of an endless silent retry. Once a
 * session has been established, a lost connection is re-established by
 * itself when `autoReconnect` is on, presenting the resume token and the
 * node id of the last Welcome. Permanent refusals (see
 * `isPermanentErrorCode` in `@hb/client/internal`) are never retried. A client told to wait
 * does: after a GoAway with `reconnect_delay_ms` it keeps the connection
 * (heartbeats and deliveries go on, new work waits) until then and then
 * reconnects at once; after a refusal with `retry_after_ms` its next attempt
 * waits at least that long (PROTOCOL.md §5.5, §6.6).
 *
 * **Credentials.** With a token provider as {@link HeartbeatClientOptions.token}, every attempt
 * takes a fresh credential, and when the server announces an expiry (and
 * supports feature `token-renewal`) the client renews it on the live
 * connection, with no reconnect and no presence change (`tokenRenewed`
 * event). Heartbeat round trips are reported to servers that ask for them
 * (feature `heartbeat-rtt`).
 *
 * **Events** are typed ({@link HeartbeatClientEvents}); `error` is emitted
 * only when it has a listener.
 *
 * **Sending** ({@link HeartbeatClient.publish}, `send`, `broadcast`,
 * `request`, replies) goes through an outbox that honours the server's
 * flow-control window, cuts frames over 64 KiB into fragments so
 * heartbeats are never held up by more than one, and keeps messages while
 * the connection is down (up to `maxPendingBytes`). On `close()` messages
 * already handed to the connection are written first (up to
 * `closeTimeout`), those still waiting are rejected.
 */
export class HeartbeatClient extends EventEmitter<HeartbeatClientEvents> {
  /** The validated options, with defaults applied. */
  readonly options: ResolvedClientOptions;

  #status: ClientStatus = "idle";
  #conn: Connection | undefined;
  #handshake: Handshake | undefined;
  #welcome: WelcomeInfo | undefined;
  #nodeId: string;
  #resumeToken: Uint8Array = new Uint8Array(0);
  readonly #backoff: Backoff;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeats: Heartbeats | undefined;
  #closing: Promise<void> | undefined;
  #seq = 0;
  readonly #counters: TrafficCounters = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
  #heartbeatsSent = 0;
  #heartbeatsAcked = 0;
  #reconnects = 0;
  #rttLast: number | undefined;
  #rttSum = 0;
  #rttCount = 0;
  #features: ReadonlySet<string> = new Set();
  // After a GoAway with reconnect_delay_ms: the connection being left, and when.
  #leaving: { readonly conn: Connection; readonly timer: NodeJS.Timeout } | undefined;
  // No reconnect attempt before this `performance.now()` (GoAway.reconnect_delay_ms): the next delay, exactly.
  #reconnectAt: number | undefined;
  // ProtocolError.retry_after_ms of the last refusal: the next delay is at least this.
  #retryAfter = 0;
  readonly #renewal: TokenRenewal | undefined;
  readonly #gateway = new GatewayNodes();
  readonly #router: ChannelRouter;

  /**
   * @param options - see {@link HeartbeatClientOptions}
   * @throws RangeError / TypeError naming the invalid option and its range
   */
  constructor(options: HeartbeatClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    this.#nodeId = this.options.nodeId;
    this.#backoff = new Backoff(this.options.reconnectInterval, this.options.maxReconnectDelay);
    const token = this.options.token;
    this.#renewal =
      typeof token === "function"
        ? new TokenRenewal(token, {
            sendRenew: (t) => {
              if (this.#status === "connected") this.#conn?.send(makeFrame("renew", { token: t }));
            },
            failed: (err) =>
              this.#emitError(err instanceof HbError ? err : new HbError(ErrorCode.UNAUTHORIZED, `credential renewal failed: ${err.message}`, { cause: err })),
          })
        : undefined;
    // biome-ignore lint/complexity/noUselessThisAlias: the host reads the client's live state
    const client = this;
    this.#router = new ChannelRouter(
      {
        get connection() {
          // Not while leaving after a GoAway: new work waits for the next connection (PROTOCOL.md §5.5).
          return client.#status === "connected" && client.#leaving === undefined ? client.#conn : undefined;
        },
        emitMessage: (m) => this.emit("message", m),
        emitSendError: (info) => this.#emitSendError(info),
        handleOf: (nodeId) => this.#gateway.get(nodeId)?.handle ?? 0,
      },
      { maxPendingBytes: this.options.maxPendingBytes, requestTimeout: this.options.requestTimeout },
    );
  }

  /** Life-cycle status. */
  get status(): ClientStatus {
    return this.#status;
  }

  /** Node id of the last Welcome, `undefined` before the first. */
  get nodeId(): string | undefined {
    return this.#welcome?.nodeId;
  }

  /** The last Welcome, `undefined` before the first. */
  get welcome(): WelcomeInfo | undefined {
    return this.#welcome;
  }

  /**
   * Connects and performs the handshake (one attempt, no retry).
   *
   * @returns the Welcome info
   * @throws {@link HbError} when the server refuses (`code` from its
   *   ProtocolError: `UNAUTHORIZED`, `SERVER_FULL`, `UNSUPPORTED_VERSION`,
   *   `INVALID_ARGUMENT`, …), or `HANDSHAKE_TIMEOUT` when no Welcome came
   *   within `connectTimeout`; the socket error (e.g. `ECONNREFUSED`) when the
   *   server is unreachable; the signal's reason when `signal` aborts; an
   *   `Error` when the client is not idle (already connected, or closed).
   */
  async connect(options: ConnectOptions = {}): Promise<WelcomeInfo> {
    if (this.#status === "closing" || this.#status === "closed") throw new Error("client is closed");
    if (this.#status !== "idle") throw new Error(`connect() called while ${this.#status}`);
    const signal = options.signal;
    if (signal?.aborted) throw abortReason(signal);
    this.#status = "connecting";
    const onAbort = (): void => this.#failHandshake(abortReason(signal as AbortSignal) as Error);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.#startHandshake(signal);
    } catch (err) {
      if (this.#status === "connecting") this.#status = "idle";
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Leaves gracefully: sends Goodbye (the server reports the node and its
   * attached nodes left, no will), half-closes, and waits up to
   * `closeTimeout` for the server to close the connection. Stops any
   * reconnect for good; a pending `connect()` or `attach()` rejects.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** A snapshot of state and counters. */
  stats(): ClientStats {
    return {
      status: this.#status,
      connected: this.#status === "connected",
      nodeId: this.#welcome?.nodeId,
      sessionId: this.#welcome?.sessionId,
      rtt: { last: this.#rttLast, mean: this.#rttCount === 0 ? undefined : this.#rttSum / this.#rttCount },
      reconnects: this.#reconnects,
      ...this.#counters,
      heartbeatsSent: this.#heartbeatsSent,
      heartbeatsAcked: this.#heartbeatsAcked,
      attachedNodes: this.#gateway.size,
      ...this.#router.stats(),
    };
  }

  // ── channels and routing ──────────────────────────────────────────────

  /**
   * Subscribes to a subject or a pattern (`*` matches one token, a last `>`
   * one or more: `config.*.fr`, `config.>`). Returns at once; the
   * subscription becomes active when the server confirms it (`await
   * sub.ready`). May be called before `connect()` or while reconnecting: the
   * Subscribe is sent with the next Welcome, and after every reconnect the
   * client subscribes again by itself.
   *
   * ```ts
   * const sub = client.subscribe("config.>");
   * await sub.ready;
   * for await (const m of sub) console.log(m.subject, m.from, m.text());
   * ```
   *
   * @param subject - subject or pattern: 1..256 bytes, ≤ 16 dot-separated
   *   non-empty tokens, no space or control characters; not `$hb.` (use
   *   {@link HeartbeatClient.watchPresence} for presence)
   * @param options - server queue size and overflow policy, local buffer, abort signal
   * @throws {@link HbError} `INVALID_ARGUMENT` for an invalid subject or a
   *   reserved one (checked locally, same rules as the server);
   *   `RangeError` for an invalid option; `Error` when the client is closed
   */
  subscribe(subject: string, options: SubscribeOptions = {}): Subscription<Message> {
    if (this.#status === "closing" || this.#status === "closed") throw new Error("client is closed");
    return this.#router.subscribe(subject, options);
  }

  /**
   * Watches presence: a subscription to `$hb.presence` whose items are
   * {@link PresenceNotice}s (joined, left, suspect, timed out, recovered),
   * about every node or only those whose labels contain every entry of
   * `options.labels`. There is no snapshot: only changes after the
   * subscription is confirmed are reported; after a reconnect the watch is
   * subscribed again and changes in between are missed.
   *
   * ```ts
   * for await (const e of client.watchPresence({ labels: { room: "lab" } })) console.log(e.kind, e.nodeId, e.reason);
   * ```
   *
   * @throws {@link HbError} `INVALID_ARGUMENT` for invalid labels;
   *   `RangeError` for an invalid option; `Error` when the client is closed
   */
  watchPresence(options: WatchPresenceOptions = {}): Subscription<PresenceNotice> {
    if (this.#status === "closing" || this.#status === "closed") throw new Error("client is closed");
    return this.#router.watchPresence(options);
  }

  /**
   * Publishes a payload to a concrete subject: every subscription matching
   * it receives it, this client's own included.
   *
   * **When it resolves.** Once the frame is handed to the connection (not
   * when the server has it): at once when connected and within the
   * flow-control window; otherwise after waiting for credit
   * (`WindowUpdate`) or for the connection to come back. Messages are sent
   * in call order. A frame larger than 64 KiB leaves as fragments, so
   * heartbeats keep flowing. Ignoring the promise is safe (no unhandled
   * rejection); server-side refusals arrive later as `sendError` events.
   *
   * @param subject - concrete subject (no wildcards, not `$hb.`)
   * @param payload - bytes, or a string sent as UTF-8
   * @throws (rejects) {@link HbError} `INVALID_ARGUMENT` (bad subject),
   *   `FORBIDDEN` (a `$hb.` subject), `FLOW_CONTROL` (more than
   *   `maxPendingBytes` waiting), `MESSAGE_TOO_LARGE` (larger than the
   *   server's `max_message_size`); `Error` when the client closes first
   */
  publish(subject: string, payload: Payload): Promise<void> {
    return this.#router.publish(subject, payload);
  }

  /**
   * Sends a payload to one node (`Delivery { kind: DIRECT }` on its side).
   * Resolves like {@link HeartbeatClient.publish}. A target that is offline
   * is reported by the server as `sendError` (`UNKNOWN_NODE`), or not at
   * all (PROTOCOL.md: a non-request Send to an offline node is dropped).
   *
   * @throws (rejects) {@link HbError} `INVALID_ARGUMENT` for an invalid node
   *   id; as {@link HeartbeatClient.publish} otherwise
   */
  send(nodeId: string, payload: Payload): Promise<void> {
    return this.#router.send(nodeId, payload);
  }

  /**
   * Sends a payload to every other connected node. Servers may refuse it
   * (`sendError` with `FORBIDDEN`; the TypeScript server does unless its
   * `authorizeBroadcast` hook allows). Resolves like
   * {@link HeartbeatClient.publish}.
   */
  broadcast(payload: Payload): Promise<void> {
    return this.#router.broadcast(payload);
  }

  /**
   * Request / reply: sends the payload as a request to one node (`{ node }`,
   * a Send) or to a subject (`{ subject }`, a Publish; the first reply wins)
   * and resolves with the reply.
   *
   * ```ts
   * const r = await client.request({ node: "sensor-7" }, "status?", { timeout: 2000 });
   * console.log(r.from, r.text());
   * ```
   *
   * @throws (rejects) {@link HbError} `REQUEST_TIMEOUT` when no reply came
   *   within `timeout` (from the call, waiting for a connection or credit
   *   included); the reply's `error_code` (e.g. `UNKNOWN_NODE` when the
   *   target is offline, or the replier's own code); the server's refusal of
   *   the request frame (`FORBIDDEN`, `INVALID_ARGUMENT`); errors of
   *   {@link HeartbeatClient.publish}; the signal's reason when aborted
   */
  request(target: RequestTarget, payload: Payload, options: RequestOptions = {}): Promise<ReplyMessage> {
    if (this.#status === "closing" || this.#status === "closed") return Promise.reject(new Error("client is closed"));
    return this.#router.request(target, payload, options);
  }

  /**
   * Sets (or with `undefined` removes) the handler of direct requests: a
   * Send with a request id to this node (or, in gateway mode, to one of its
   * attached nodes: see {@link Message.to}). Its return value is sent as the
   * Reply; a throw sends a Reply with `error_code` `INTERNAL`. While a
   * handler is set, direct requests go to it instead of the `message` event.
   * Requests on subscriptions are answered with {@link Message.respond}.
   */
  onRequest(handler: RequestHandler | undefined): void {
    this.#router.onRequest(handler);
  }

  /**
   * Iterates direct messages and broadcasts (the same ones the `message`
   * event reports), from the call on. Each call makes an independent
   * iterator with its own buffer; it ends when the client closes, `signal`
   * aborts, or the loop is left.
   */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<Message> {
    return this.#router.messages(options);
  }

  /**
   * Gateway mode: registers another node on this connection. The client
   * picks its handle, keeps it refreshed with a BatchHeartbeat every
   * heartbeat interval, and attaches it again after every reconnect. May be
   * called before `connect()` or while reconnecting: the Attach is sent with
   * the next Welcome.
   *
   * @param nodeId - node id (1..128 bytes UTF-8, no control characters)
   * @param labels - its labels (≤ 32, key 1..64 bytes, value ≤ 256 bytes)
   * @param options - will and abort signal
   * @returns resolves on Attached
   * @throws {@link HbError} `INVALID_ARGUMENT` for a bad id, labels or will
   *   (checked locally), an id already attached here or equal to this
   *   client's own; the server's refusal (`ProtocolError` with `ref` = the
   *   handle); an `Error` if the client closes or the node is detached
   *   first; the signal's reason if it aborts
   */
  attach(
    nodeId: string,
    labels: Readonly<Record<string, string>> = {},
    options: AttachOptions = {},
  ): Promise<AttachedInfo> {
    if (this.#status === "closing" || this.#status === "closed") {
      return Promise.reject(new Error("client is closed"));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    let will: GatewayNode["will"];
    try {
      throwInvalidArgument(nodeIdProblem(nodeId, "nodeId"));
      throwInvalidArgument(labelsProblem(labels, "labels"));
      if (options.will !== undefined) {
        try {
          will = resolveWill("will", options.will);
        } catch (err) {
          throwInvalidArgument((err as Error).message);
        }
      }
      if (this.#gateway.get(nodeId) !== undefined) {
        throwInvalidArgument(`node ${JSON.stringify(nodeId)} is already attached to this client`);
      }
      if (nodeId === this.#nodeId) {
        throwInvalidArgument(`node ${JSON.stringify(nodeId)} is this connection's own node`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<AttachedInfo>((resolve, reject) => {
      const onAbort = (): void => {
        this.#detachNode(nodeId, abortReason(signal as AbortSignal) as Error);
      };
      const done = (): void => signal?.removeEventListener("abort", onAbort);
      const node = this.#gateway.add(nodeId, { ...labels }, will, {
        resolve: (info) => {
          done();
          resolve(info);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      const conn = this.#conn;
      if (this.#status === "connected" && conn !== undefined && this.#leaving === undefined) this.#sendAttach(conn, node);
    });
  }

  /**
   * Gateway mode: removes an attached node gracefully (Detach: reported
   * left, no will). A pending `attach()` for it rejects.
   *
   * @returns `false` if the node was not attached through this client
   */
  detach(nodeId: string): boolean {
    return this.#detachNode(nodeId, new Error(`node ${JSON.stringify(nodeId)} was detached before it was attached`));
  }

  /**
   * Gateway mode: whether batch heartbeats keep refreshing an attached node.
   * `false` simulates a dead device: the node stays attached but the server
   * times it out (`attachedTimeout` event) after its heartbeat timeout.
   *
   * @returns `false` if the node is not attached through this client
   */
  setAttachedAlive(nodeId: string, alive: boolean): boolean {
    return this.#gateway.setAlive(nodeId, alive);
  }

  /** Gateway mode: the nodes attached through this client, in attach order. */
  attachedNodes(): AttachedNodeStatus[] {
    return [...this.#gateway.nodes()].map((n) => ({
      nodeId: n.nodeId,
      handle: n.handle,
      alive: n.alive,
      state: n.state,
    }));
  }

  // ── connection attempts ────────────────────────────────────────────────

  /** One connection attempt: the credential (from the provider, if any), then socket, Hello and Welcome. */
  async #startHandshake(signal?: AbortSignal): Promise<WelcomeInfo> {
    const token = await this.#credential(signal);
    if (this.#status !== "connecting" && this.#status !== "reconnecting") throw new Error("client is closed");
    return this.#openHandshake(token);
  }

  /** The credential for a Hello: the fixed token, or a fresh one from the provider. */
  async #credential(signal: AbortSignal | undefined): Promise<string> {
    const token = this.options.token;
    if (typeof token === "string") return token;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortReason(signal as AbortSignal));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const value = await Promise.race([Promise.resolve().then(token), aborted]);
      if (typeof value !== "string") throw new TypeError(`the token provider returned ${typeof value}, not a string`);
      return value;
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    }
  }

  #openHandshake(token: string): Promise<WelcomeInfo> {
    return new Promise<WelcomeInfo>((resolve, reject) => {
      let opened: ReturnType<typeof openSocket>;
      try {
        opened = openSocket(this.options);
      } catch (err) {
        reject(err as Error);
        return;
      }
      const conn: Connection = new Connection(
        opened.socket,
        opened.readyEvent,
        {
          onOpen: () => {
            if (this.#conn === conn) this.emit("connect");
          },
          onFrame: (frame) => this.#onFrame(conn, frame),
          onDecodeError: (err) => this.#onDecodeError(conn, err),
          onClose: (err) => this.#onClose(conn, err),
          onWritable: () => {
            if (this.#conn === conn && this.#status === "connected") this.#router.writable();
          },
        },
        { maxFrameSize: this.options.maxFrameSize, counters: this.#counters },
      );
      this.#conn = conn;
      const timeout = this.options.connectTimeout;
      const timer = setTimeout(() => {
        const err = new HbError(ErrorCode.HANDSHAKE_TIMEOUT, `no Welcome within connectTimeout (${timeout} ms)`);
        this.#failHandshake(err);
      }, timeout);
      this.#handshake = { conn, resolve, reject, timer };
      const o = this.options;
      conn.send(
        makeFrame("hello", {
          protocolVersion: PROTOCOL_VERSION,
          nodeId: this.#nodeId,
          labels: { ...o.metadata },
          token,
          heartbeatIntervalMs: o.heartbeatInterval,
          resumeToken: this.#resumeToken,
          will: o.will,
          clientName: o.clientName,
          maxFrameSize: o.maxFrameSize,
          features: CLIENT_FEATURES,
          role: o.role === "observer" ? Role.OBSERVER : Role.UNSPECIFIED,
        }),
      );
    });
  }

  /** Ends the pending handshake (if any) with `error`: socket destroyed, promise rejected. */
  #failHandshake(error: Error): void {
    const hs = this.#handshake;
    if (hs === undefined) return;
    this.#handshake = undefined;
    clearTimeout(hs.timer);
    hs.conn.destroy();
    if (this.#conn === hs.conn) this.#conn = undefined;
    hs.reject(error);
  }

  #onWelcome(conn: Connection, w: Welcome): void {
    const hs = this.#handshake as Handshake;
    if (w.protocolVersion !== 0 && w.protocolVersion !== PROTOCOL_VERSION) {
      this.#failHandshake(
        new HbError(ErrorCode.UNSUPPORTED_VERSION, `server speaks protocol version ${w.protocolVersion}`),
      );
      return;
    }
    this.#handshake = undefined;
    clearTimeout(hs.timer);
    // A conforming server always sets both; fall back rather than divide by zero.
    const interval = w.heartbeatIntervalMs > 0 ? w.heartbeatIntervalMs : this.options.heartbeatInterval || 10_000;
    const timeout = w.heartbeatTimeoutMs > 0 ? w.heartbeatTimeoutMs : 3 * interval;
    const info: WelcomeInfo = {
      nodeId: w.nodeId === "" ? this.#nodeId : w.nodeId,
      sessionId: w.sessionId,
      heartbeatInterval: interval,
      heartbeatTimeout: timeout,
      resumed: w.resumed,
      maxFrameSize: w.maxFrameSize,
      maxMessageSize: clampU64(w.maxMessageSize),
      initialWindow: clampU64(w.initialWindow),
      serverTime: Number(w.serverTimeMs),
      resumeGrace: w.resumeGraceMs,
      serverId: w.serverId,
      protocolVersion: w.protocolVersion,
      features: Object.freeze([...w.features]),
      role: w.role === Role.OBSERVER ? "observer" : "node",
      checkInterval: w.checkIntervalMs,
      handshakeTimeout: w.handshakeTimeoutMs,
      permissions: permissionsInfo(w.permissions),
      tokenExpiresIn: clampU64(w.tokenExpiresInMs),
      tokenGrace: w.tokenGraceMs,
    };
    this.#welcome = info;
    this.#features = new Set(w.features);
    this.#retryAfter = 0;
    this.#reconnectAt = undefined;
    this.#nodeId = info.nodeId;
    // Copy: decoded bytes are views into the socket's read buffer (a Buffer: slice() would not copy).
    this.#resumeToken = new Uint8Array(w.resumeToken);
    if (this.#status === "reconnecting") this.#reconnects++;
    this.#status = "connected";
    this.#backoff.reset();
    this.#seq = 0;
    this.#heartbeats = new Heartbeats(
      {
        beat: (sendTimeUs, lastRttUs) => this.#sendHeartbeat(conn, sendTimeUs, lastRttUs),
        lastReceivedAt: () => conn.lastReceivedAt,
        dead: (ms) =>
          this.#lose(conn, "heartbeat_timeout", new HbError(ErrorCode.HEARTBEAT_TIMEOUT, `nothing heard from the server for ${ms} ms`)),
      },
      interval,
      timeout,
      NODE_TIMERS,
      this.#features.has(Feature.heartbeatRtt),
    );
    this.#heartbeats.start();
    conn.configure({ maxFrameSize: info.maxFrameSize, maxMessageSize: info.maxMessageSize });
    this.#syncGateway(conn);
    if (this.#features.has(Feature.tokenRenewal)) this.#renewal?.start(info.tokenExpiresIn, info.tokenGrace);
    this.#router.welcome(conn, {
      resumed: w.resumed,
      maxFrameSize: info.maxFrameSize,
      maxMessageSize: info.maxMessageSize,
      window: info.initialWindow,
    });
    hs.resolve(info);
    this.emit("welcome", info);
  }

  #reconnect(): void {
    this.#reconnectTimer = undefined;
    if (this.#status !== "reconnecting") return;
    this.#startHandshake().then(undefined, (err: Error) => {
      if (this.#status !== "reconnecting") return;
      if (err instanceof HbError) this.#emitError(err);
      this.#afterFailure(err);
    });
  }

  /** After a lost connection or a failed reconnect: schedule the next attempt, or stop. */
  #afterFailure(error: Error | undefined): void {
    const terminal = this.#terminalError(error);
    if (terminal !== undefined) this.#terminate(terminal);
    else this.#scheduleReconnect(error);
  }

  /** The reason to stop for good after `error`, or `undefined` to try again. */
  #terminalError(error: Error | undefined): Error | undefined {
    if (!this.options.autoReconnect) return error ?? new Error("connection lost and autoReconnect is off");
    if (error instanceof HbError && isPermanentErrorCode(error.code)) return error;
    const max = this.options.maxReconnectAttempts;
    if (this.#backoff.attempt >= max) return new Error(`gave up after ${max} reconnect attempts`, { cause: error });
    // An expired credential is final only when no fresh one can be had (PROTOCOL.md §5.8, §6.6).
    if (error instanceof HbError && error.code === ErrorCode.TOKEN_EXPIRED && typeof this.options.token === "string") {
      return error;
    }
    return undefined;
  }

  #scheduleReconnect(error: Error | undefined): void {
    this.#status = "reconnecting";
    // Full jitter, unless the server said when (PROTOCOL.md §6.6): a GoAway's
    // reconnect_delay_ms exactly, a refusal's retry_after_ms at least.
    let delay = this.#backoff.next();
    if (this.#reconnectAt !== undefined) delay = Math.max(0, Math.ceil(this.#reconnectAt - performance.now()));
    else if (this.#retryAfter > delay) delay = this.#retryAfter;
    this.#reconnectAt = undefined;
    this.#retryAfter = 0;
    const attempt = this.#backoff.attempt;
    this.#reconnectTimer = setTimeout(() => this.#reconnect(), delay);
    this.emit("reconnecting", error === undefined ? { attempt, delay } : { attempt, delay, error });
  }

  // ── an established connection ─────────────────────────────────────────

  #onFrame(conn: Connection, frame: Frame): void {
    if (conn !== this.#conn) return;
    const body = frame.body;
    if (this.#handshake !== undefined) {
      // Before Welcome only Welcome, a refusal or GoAway matter.
      if (body.case === "welcome") this.#onWelcome(conn, body.value);
      else if (body.case === "error") {
        if (body.value.fatal) {
          this.#retryAfter = body.value.retryAfterMs;
          this.#failHandshake(toHbError(body.value));
        } else this.#emitError(toHbError(body.value));
      } else if (body.case === "goAway") {
        const delay = body.value.reconnectDelayMs;
        if (delay > 0) this.#reconnectAt = performance.now() + delay;
        this.#failHandshake(goAwayError(body.value));
      }
      return;
    }
    switch (body.case) {
      case "heartbeatAck":
        this.#onAck(body.value);
        return;
      case "error":
        this.#onProtocolError(conn, body.value, frame.channel);
        return;
      case "attached": {
        const node = this.#gateway.byHandle(body.value.handle);
        if (node !== undefined && node.state === "pending") this.#gateway.confirm(node);
        else this.#gateway.settleRemoved(body.value.handle);
        return;
      }
      case "goAway":
        this.#onGoAway(conn, body.value);
        return;
      case "renewed": {
        const r = body.value;
        if (this.#renewal === undefined || !this.#renewal.pending) return; // not ours to answer
        const expiresIn = clampU64(r.tokenExpiresInMs);
        this.#renewal.renewed(expiresIn);
        this.emit("tokenRenewed", { tokenExpiresIn: expiresIn, permissions: permissionsInfo(r.permissions) });
        return;
      }
      case "welcome": {
        const err = new HbError(ErrorCode.PROTOCOL_VIOLATION, "second Welcome on one connection");
        conn.send(makeFrame("error", { code: err.code, message: err.message, fatal: true }));
        conn.flush();
        this.#emitError(err);
        this.#lose(conn, "protocol_error", err);
        return;
      }
      default:
        // Subscribed, Delivery, PresenceEvent, Reply, WindowUpdate; anything else is ignored.
        this.#router.handleFrame(frame);
        return;
    }
  }

  #onAck(ack: HeartbeatAck): void {
    this.#heartbeatsAcked++;
    const rtt = this.#heartbeats?.acked(Number(ack.sendTimeUs));
    if (rtt === undefined) return; // not an echo of our clock
    this.#rttLast = rtt;
    this.#rttSum += rtt;
    this.#rttCount++;
    this.emit("heartbeat", { seq: Number(ack.seq), rtt });
  }

  /**
   * GoAway (PROTOCOL.md §5.5): without reconnect_delay_ms, leave now and
   * reconnect with backoff; with it, keep the connection (heartbeats,
   * deliveries; new work waits for the next connection) until the delay has
   * passed, then leave and reconnect at once.
   */
  #onGoAway(conn: Connection, g: GoAway): void {
    const delay = g.drainMs > 0 ? Math.min(g.reconnectDelayMs, g.drainMs) : g.reconnectDelayMs;
    if (delay === 0) {
      this.#lose(conn, "go_away", goAwayError(g));
      return;
    }
    if (this.#leaving !== undefined) return; // the first GoAway decides
    this.#reconnectAt = performance.now() + delay;
    const timer = setTimeout(() => this.#lose(conn, "go_away", goAwayError(g)), delay);
    this.#leaving = { conn, timer };
    this.#router.hold();
  }

  #onProtocolError(conn: Connection, e: ProtocolError, channel: number): void {
    const err = toHbError(e);
    if (e.fatal) {
      this.#retryAfter = e.retryAfterMs;
      this.#emitError(err);
      this.#lose(conn, "protocol_error", err);
      return;
    }
    if (e.refBody === RENEW_BODY && this.#renewal?.pending === true) {
      this.#renewal.refused(err);
      return;
    }
    if (this.#router.handleError(e, channel)) return;
    if (e.ref > 0n && e.ref <= 0xffff_ffffn) {
      const handle = Number(e.ref);
      const node = this.#gateway.byHandle(handle);
      if (node !== undefined) {
        if (e.code === ErrorCode.HEARTBEAT_TIMEOUT && node.state === "attached") {
          this.#gateway.remove(node.nodeId);
          this.emit("attachedTimeout", { nodeId: node.nodeId, handle });
          return;
        }
        if (node.state === "pending") {
          if (!this.#gateway.refuse(node, err)) this.emit("attachFailed", { nodeId: node.nodeId, error: err });
          return;
        }
      } else if (this.#gateway.settleRemoved(handle)) {
        return; // the refusal of an Attach whose node was detached meanwhile
      }
    }
    this.#emitSendError(e.nodeId === "" ? { error: err, ref: e.ref, channel } : { error: err, ref: e.ref, channel, nodeId: e.nodeId });
  }

  #onDecodeError(conn: Connection, err: HbError): void {
    if (conn !== this.#conn) return;
    // Tell the server why, best effort, then drop the connection.
    conn.send(makeFrame("error", { code: err.code, message: err.message, fatal: true }));
    conn.flush();
    if (this.#handshake?.conn === conn) {
      this.#failHandshake(err);
      return;
    }
    this.#emitError(err);
    this.#lose(conn, "decode_error", err);
  }

  #onClose(conn: Connection, err: Error | undefined): void {
    if (this.#handshake?.conn === conn) {
      this.#failHandshake(err ?? new Error("connection closed before Welcome"));
      return;
    }
    this.#lose(conn, err !== undefined && !(err instanceof HbError) ? "socket_error" : "connection_closed", err);
  }

  #sendHeartbeat(conn: Connection, sendTimeUs: number, lastRttUs: number): void {
    if (conn !== this.#conn || this.#status !== "connected") return;
    const seq = ++this.#seq;
    this.#heartbeatsSent++;
    conn.send(makeFrame("heartbeat", { seq: BigInt(seq), sendTimeUs: BigInt(sendTimeUs), lastRttUs }));
    const batch = this.#gateway.batchHeartbeat();
    if (batch !== undefined) conn.send(makeFrame("batchHeartbeat", batch));
  }

  /** A connection that had reached Welcome is gone (not by close()). */
  #lose(conn: Connection, reason: DisconnectReason, error: Error | undefined): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    this.#stopTimers();
    conn.destroy();
    this.#gateway.connectionLost();
    this.#router.connectionLost();
    // Decide first, so that `status` is already right in `disconnect` listeners.
    const terminal = this.#terminalError(error);
    this.#status = terminal === undefined ? "reconnecting" : "closed";
    this.emit("disconnect", error === undefined ? { reason } : { reason, error });
    if (terminal !== undefined) this.#terminate(terminal);
    else if (this.#closing === undefined) this.#scheduleReconnect(error); // unless a listener called close()
  }

  /** After a Welcome: brings the server's attached nodes in line with ours (see {@link GatewayNodes.planWelcome}). */
  #syncGateway(conn: Connection): void {
    if (this.#gateway.size === 0) return;
    for (const node of this.#gateway.planWelcome().attach) this.#sendAttach(conn, node);
  }

  #sendAttach(conn: Connection, node: GatewayNode): void {
    this.#gateway.markSent(node);
    conn.send(
      makeFrame("attach", {
        handle: node.handle,
        nodeId: node.nodeId,
        labels: { ...node.labels },
        will: node.will,
      }),
    );
  }

  #detachNode(nodeId: string, reason: Error): boolean {
    const node = this.#gateway.get(nodeId);
    if (node === undefined) return false;
    const conn = this.#conn;
    if (node.state !== "unsent" && conn !== undefined && this.#status === "connected") {
      conn.send(makeFrame("detach", { handles: [node.handle] }));
    }
    this.#gateway.remove(nodeId, reason);
    return true;
  }

  // ── shutting down ─────────────────────────────────────────────────────

  async #close(): Promise<void> {
    if (this.#status === "closed") return;
    const wasConnected = this.#status === "connected";
    this.#status = "closing";
    clearTimeout(this.#reconnectTimer);
    this.#stopTimers();
    const closed = new Error("client closed");
    this.#failHandshake(closed);
    this.#gateway.clear(closed);
    this.#router.close(closed, false);
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined && wasConnected) {
      // Messages already handed to the connection leave first (bounded), then Goodbye.
      await conn.drained(this.options.closeTimeout);
      conn.end(makeFrame("goodbye", { reason: "client closed" }));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        conn.closed,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.options.closeTimeout);
        }),
      ]);
      clearTimeout(timer);
      conn.destroy();
      this.emit("disconnect", { reason: "client_close" });
    } else {
      conn?.destroy();
    }
    this.#status = "closed";
    this.emit("close", {});
  }

  /** Stops for good after a permanent failure. */
  #terminate(error: Error): void {
    this.#status = "closed";
    this.#closing ??= Promise.resolve();
    clearTimeout(this.#reconnectTimer);
    this.#stopTimers();
    this.#failHandshake(error);
    this.#conn?.destroy();
    this.#conn = undefined;
    this.#gateway.clear(error);
    this.#router.close(error, true);
    this.emit("close", { error });
  }

  #stopTimers(): void {
    this.#heartbeats?.stop();
    this.#heartbeats = undefined;
    clearTimeout(this.#leaving?.timer);
    this.#leaving = undefined;
    this.#renewal?.stop();
  }

  #emitError(error: HbError): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  #emitSendError(info: SendErrorInfo): void {
    if (this.listenerCount("sendError") > 0) this.emit("sendError", info);
    else this.#emitError(info.error);
  }
}
