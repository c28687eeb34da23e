import {
  Feature,
  type Attach,
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  type Fragment,
  FragmentAssembler,
  type Frame,
  FrameDecoder,
  HbError,
  type Hello,
  MAX_FRAME_SIZE_LIMIT,
  type OverflowMode,
  PROTOCOL_VERSION,
  errorCodeName,
  makeFrame,
} from "@hb/codec";
import { ReceiveWindow } from "./flow/receive-window.js";
import type { Hub, SessionEnd } from "./hub.js";
import { checkNodeId } from "./node-id.js";
import { checkLabels } from "./node-labels.js";
import { checkWill } from "./node-will.js";
import { ChannelTable } from "./routing/channel-table.js";
import type { RoutePeer } from "./routing/route-peer.js";
import type { SessionRecord } from "./session-record.js";
import { type DropReason, FRAGMENT_SIZE, MAX_WRITE_BACKLOG, SessionWriter, WRITE_HIGH_WATER } from "./session-writer.js";
import { TokenBucket } from "./token-bucket.js";

/**
 * What a {@link Session} needs from a byte stream. The TCP/TLS listener
 * provides one per socket ({@link TcpTransport}); tests and other transports
 * (WebSocket, in-memory) provide their own. The transport must call
 * {@link Session.receive} with incoming bytes and
 * {@link Session.transportClosed} once the stream is gone.
 */
export interface SessionTransport {
  /** Remote IP address (used for per-IP limits and logs). */
  readonly remoteAddress: string;
  /**
   * Bytes written but not yet handed to the OS (`socket.writableLength`).
   * Above {@link WRITE_HIGH_WATER} the session stops writing until the
   * transport calls {@link Session.transportDrained}; a transport that
   * never buffers may always report 0.
   */
  readonly writableLength: number;
  /** Writes bytes; the session calls it at most once per event-loop turn (plus once for a last fatal error). */
  write(bytes: Uint8Array): void;
  /** Closes gracefully after pending writes are flushed. */
  end(): void;
  /** Closes at once, dropping pending writes. */
  destroy(): void;
  /**
   * Optional, for multi-process servers: passes the connection, with every
   * byte read from it so far, to the worker `target` (which holds the
   * session its Hello resumes). Returns `false` when it cannot (then the
   * session goes on here); after `true` the transport is no longer this
   * session's.
   */
  handoff?(target: number): boolean;
}

/** Frames a client may pipeline after Hello while the authentication hook runs. */
export const MAX_FRAMES_BEFORE_WELCOME = 64;

const HELLO = 0;
const AUTH = 1;
const OPEN = 2;
const CLOSED = 3;

/**
 * One connection's protocol logic, independent of sockets: bytes in through
 * {@link Session.receive}, bytes out through its {@link SessionTransport}.
 *
 * - Decodes frames (`FrameDecoder` of @hb/codec, max frame size enforced on the
 *   length prefix), applies the per-connection rate limit (token bucket),
 *   the handshake rules and timeout, and dispatches each frame.
 * - Every bad input is answered with a coded `ProtocolError` (fatal ones
 *   close only this connection), logged with its code and counted in the
 *   server's stats; an exception in a handler closes the connection with
 *   `INTERNAL`, never the process.
 * - Outgoing frames go through a `SessionWriter`: control frames
 *   first, one bounded queue per subscription (and one for channel-0 data)
 *   with its overflow policy, fair sharing, fragments for frames too large
 *   for the client, one write per event-loop turn, and backpressure (no
 *   writing while the transport holds more than {@link WRITE_HIGH_WATER}).
 *   Control frames piling up beyond {@link MAX_WRITE_BACKLOG} disconnect
 *   the peer with `SLOW_CONSUMER`.
 * - Channel frames go to the hub's router; incoming fragments are
 *   reassembled first (when `maxMessageSize` > 0); payload bytes are
 *   counted against the flow-control window and credited back with
 *   WindowUpdate after routing.
 *
 * Rate limits: every frame takes a token from the frame bucket
 * (`rateLimit`), except Fragment frames, which draw from a bucket of their
 * own of the same size where one token buys 64 KiB of fragment data: a
 * fragmented transfer does not eat the budget of heartbeats and small
 * messages (its bytes are bounded by flow control), while tiny fragments are
 * limited like any frame.
 *
 * Created by {@link HeartbeatServer.accept}.
 */
export class Session {
  /** Connection number, unique within the server. */
  readonly id: number;
  /** Remote address of the transport. */
  readonly remoteAddress: string;
  readonly #hub: Hub;
  readonly #transport: SessionTransport;
  readonly #decoder: FrameDecoder;
  readonly #writer: SessionWriter;
  readonly #bucket: TokenBucket;
  readonly #onTransportClosed: (session: Session) => void;
  #phase = HELLO;
  #record: SessionRecord | undefined;
  #pending: Frame[] = [];
  #handshakeTimer: NodeJS.Timeout | undefined;
  #transportGone = false;
  #now = 0;
  // Largest frame the client accepts (Hello.max_frame_size; 1 MiB until then).
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  // Created on first use: most connections never subscribe or fragment.
  #channels: ChannelTable | undefined;
  #assembler: FragmentAssembler | undefined;
  #fragmentBucket: TokenBucket | undefined;
  // Flow control (PROTOCOL.md §12), created with the first payload: idle connections never need one.
  #window: ReceiveWindow | undefined;
  #routed = false;
  // Whether the client reports heartbeat round trips (feature `heartbeat-rtt` negotiated).
  #rttReports = false;

  /** @internal */
  constructor(hub: Hub, transport: SessionTransport, id: number, onTransportClosed: (session: Session) => void) {
    this.#hub = hub;
    this.#transport = transport;
    this.id = id;
    this.remoteAddress = transport.remoteAddress;
    this.#onTransportClosed = onTransportClosed;
    const o = hub.options;
    this.#decoder = new FrameDecoder({ maxFrameSize: o.maxFrameSize });
    this.#writer = new SessionWriter(transport, hub.stats, this);
    this.#bucket = new TokenBucket(o.rateLimit.framesPerSecond, o.rateLimit.burst, hub.clock());
    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = undefined;
      this.#fail(ErrorCode.HANDSHAKE_TIMEOUT, `handshake not completed within ${o.handshakeTimeout} ms`);
    }, o.handshakeTimeout);
    this.#handshakeTimer.unref();
  }

  /** The node id registered by this connection, once welcomed. */
  get nodeId(): string | undefined {
    return this.#record?.nodeId;
  }

  /** @internal The connection's subscriptions (see {@link RoutePeer.channels}). */
  get channels(): ChannelTable {
    this.#channels ??= new ChannelTable();
    return this.#channels;
  }

  /** Bytes queued for this connection and not yet handed to its transport. */
  get queuedBytes(): number {
    return this.#writer.queuedBytes;
  }

  /** Whether the session has ended (it ignores further input). */
  get closed(): boolean {
    return this.#phase === CLOSED;
  }

  /** @internal Whether no Hello has been read yet (a transport able to hand off keeps the bytes until then). */
  get awaitingHello(): boolean {
    return this.#phase === HELLO;
  }

  /** Feeds bytes received from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.#phase === CLOSED) return;
    this.#hub.stats.bytesIn += chunk.length;
    this.#now = this.#hub.clock();
    try {
      const err = this.#decoder.push(chunk, this.#onFrame);
      if (err !== undefined && this.#phase !== CLOSED) this.#fail(err.code, err.message);
      // End of a read batch: return the credit of everything routed in it (PROTOCOL.md §12).
      if (this.#window !== undefined && this.#phase === OPEN) this.#credit(this.#window.flush());
    } catch (err) {
      this.#internal(err);
    }
  }

  /** Tells the session its transport can take more bytes (a socket's `'drain'`). */
  transportDrained(): void {
    this.#writer.drained();
  }

  /** Tells the session its transport is closed (by the peer, an error, or after {@link SessionTransport.end}). */
  transportClosed(): void {
    if (this.#transportGone) return;
    this.#transportGone = true;
    this.#writer.close();
    if (this.#phase !== CLOSED) {
      const err = this.#decoder.end();
      if (err !== undefined) {
        this.#hub.stats.error(err.code);
        this.#log("debug", err.code, err.message);
      }
      this.#close("lost");
    }
    this.#onTransportClosed(this);
  }

  // ---------------------------------------------------------- called by the hub

  /** @internal The session was resumed on another connection: close this one, no presence events. */
  supersede(): void {
    this.#record = undefined;
    this.#sendError(ErrorCode.DUPLICATE_NODE, "session resumed on another connection", 0, true, "info");
    this.#close("lost");
  }

  /** @internal A newer connection registered this connection's node id. */
  replaced(): void {
    this.#sendError(ErrorCode.DUPLICATE_NODE, "node id registered by a newer connection", 0, true, "info");
    this.#close("replaced");
  }

  /** @internal Nothing was heard for heartbeatTimeout. */
  timedOut(): void {
    this.#sendError(
      ErrorCode.HEARTBEAT_TIMEOUT,
      `nothing heard for ${this.#hub.options.heartbeatTimeout} ms`,
      0,
      true,
      "info",
    );
    this.#close("timeout");
  }

  /** @internal Sends a non-fatal ProtocolError about one operation (`ref`). */
  refuse(code: ErrorCode, message: string, ref: number | bigint): void {
    this.#sendError(code, message, ref, false, code === ErrorCode.HEARTBEAT_TIMEOUT ? "debug" : "warn");
  }

  /** @internal The server is draining: tell the client to go away. */
  goAway(drainMs: number): void {
    if (this.#phase === CLOSED) return;
    this.#send(
      makeFrame("goAway", { code: ErrorCode.SHUTTING_DOWN, reason: "server shutting down", drainMs }),
    );
  }

  // ------------------------------------------------------ called by the router

  /** @internal See {@link RoutePeer.relay}. */
  relay(channel: number, head: Uint8Array, body: Uint8Array, frameLength: number): boolean {
    if (this.#phase !== OPEN) return false;
    return this.#writer.relay(channel, head, body, frameLength);
  }

  /** @internal See {@link RoutePeer.control}. */
  control(frame: Frame): void {
    this.#send(frame);
  }

  /** @internal See {@link RoutePeer.configureChannel}. */
  configureChannel(channel: number, queueLimit: number, overflow: OverflowMode): void {
    this.#writer.configureChannel(channel, queueLimit, overflow);
  }

  /** @internal See {@link RoutePeer.removeChannel}. */
  removeChannel(channel: number): void {
    this.#writer.removeChannel(channel);
  }

  /** @internal The writer dropped a message (overflow policy), or it was too large for the client. */
  onDrop(channel: number, reason: DropReason): void {
    const sub = channel === 0 ? undefined : this.#channels?.get(channel);
    if (sub !== undefined) sub.dropped++;
    const dropped = this.#hub.stats.dropped;
    if (reason === "tooLarge") dropped.tooLarge++;
    else if (sub?.overflow === "drop-newest") dropped.dropNewest++;
    else dropped.dropOldest++;
  }

  /** @internal The client does not read: a disconnect-policy queue overflowed, or control frames piled up. */
  onOverflow(channel: number): void {
    const sub = channel === 0 ? undefined : this.#channels?.get(channel);
    let message = `more than ${MAX_WRITE_BACKLOG} bytes of control frames unread`;
    if (sub !== undefined) {
      sub.dropped++;
      this.#hub.stats.dropped.slowConsumer++;
      message = `the queue of channel ${channel} (${sub.subject}) overflowed its ${sub.queueSize} messages (policy disconnect)`;
    }
    // Not now: the router may be in the middle of a fan-out (or the registry of a walk).
    queueMicrotask(() => this.#fail(ErrorCode.SLOW_CONSUMER, message));
  }

  /**
   * @internal The server starts draining: an active connection gets
   * `GoAway { SHUTTING_DOWN, drain_ms }`, one still in its handshake a fatal
   * `SHUTTING_DOWN`.
   */
  drain(drainMs: number): void {
    if (this.#phase === OPEN) this.goAway(drainMs);
    else this.#fail(ErrorCode.SHUTTING_DOWN, "server is shutting down", "info");
  }

  /** @internal The drain deadline passed: fatal `SHUTTING_DOWN`, then close. */
  expire(): void {
    this.#sendError(ErrorCode.SHUTTING_DOWN, "server shut down", 0, true, "debug");
    this.#close("server_shutdown");
  }

  /** @internal Closes at once, dropping pending output. */
  destroy(): void {
    this.#close("server_shutdown");
    this.#transport.destroy();
  }

  // ---------------------------------------------------------------- input

  readonly #onFrame = (frame: Frame): void => {
    if (this.#phase === CLOSED) return;
    const hub = this.#hub;
    hub.stats.framesIn++;
    const body = frame.body;
    const rl = hub.options.rateLimit;
    if (body.case === "fragment") {
      const cost = Math.min(rl.burst, Math.max(1, Math.ceil(body.value.data.length / FRAGMENT_SIZE)));
      this.#fragmentBucket ??= new TokenBucket(rl.framesPerSecond, rl.burst, this.#now);
      if (!this.#fragmentBucket.take(this.#now, cost)) {
        this.#fail(
          ErrorCode.RATE_LIMITED,
          `fragment rate limit exceeded (${rl.framesPerSecond} × ${FRAGMENT_SIZE} bytes/s, burst ${rl.burst})`,
        );
        return;
      }
    } else if (!this.#bucket.take(this.#now)) {
      this.#fail(ErrorCode.RATE_LIMITED, `rate limit exceeded (${rl.framesPerSecond} frames/s, burst ${rl.burst})`);
      return;
    }
    try {
      this.#dispatch(frame, false);
    } catch (err) {
      this.#internal(err);
    }
  };

  // `reassembled`: the frame came out of the fragment assembler (its payload was counted as fragments).
  #dispatch(frame: Frame, reassembled: boolean): void {
    const body = frame.body;
    if (this.#phase === HELLO) {
      if (body.case === "hello") this.#hello(body.value);
      else this.#fail(ErrorCode.PROTOCOL_VIOLATION, `expected Hello first, got ${body.case}`);
      return;
    }
    if (this.#phase === AUTH) {
      if (this.#pending.length >= MAX_FRAMES_BEFORE_WELCOME) {
        this.#fail(ErrorCode.PROTOCOL_VIOLATION, `more than ${MAX_FRAMES_BEFORE_WELCOME} frames before Welcome`);
      } else {
        this.#pending.push(frame);
      }
      return;
    }
    const rec = this.#record as SessionRecord;
    const hub = this.#hub;
    const now = this.#now;
    // Any frame is proof of life for the connection's own node.
    hub.touchOwn(rec, now, body.case === "heartbeat");
    switch (body.case) {
      case "heartbeat":
        // §6.7: the client's last measured round trip, one sample (0 is none).
        if (this.#rttReports && body.value.lastRttUs > 0) hub.stats.rtt.observe(body.value.lastRttUs / 1e6);
        this.#send(
          makeFrame("heartbeatAck", {
            seq: body.value.seq,
            sendTimeUs: body.value.sendTimeUs,
            serverTimeMs: BigInt(Date.now()),
          }),
        );
        return;
      case "batchHeartbeat":
        hub.batch(rec, body.value.handles, body.value.all, now);
        return;
      case "attach":
        this.#attach(rec, body.value);
        return;
      case "detach":
        hub.detach(rec, body.value.handles, now);
        return;
      case "goodbye":
        this.#log("debug", undefined, `goodbye: ${body.value.reason}`);
        this.#close("goodbye");
        return;
      case "error":
        this.#log("info", body.value.code, `client reported: ${body.value.message}`);
        // A fatal error from the client: it closes; treat as closed without Goodbye.
        if (body.value.fatal) this.#close("lost");
        return;
      case "hello":
        this.#fail(ErrorCode.PROTOCOL_VIOLATION, "second Hello on one connection");
        return;
      case "publish":
      case "send":
      case "broadcast":
      case "reply": {
        const window = this.#flowWindow();
        const size = reassembled || window === undefined ? 0 : body.value.payload.length;
        if (size > 0 && !(window as ReceiveWindow).consume(size)) {
          this.#flowControl(size);
          return;
        }
        this.#route(rec, frame);
        if (size > 0) this.#credit((window as ReceiveWindow).release(size));
        return;
      }
      case "subscribe":
      case "unsubscribe":
      case "windowUpdate":
        this.#route(rec, frame);
        return;
      case "fragment":
        if (reassembled) this.#fail(ErrorCode.PROTOCOL_VIOLATION, "a fragment may not carry a fragment");
        else this.#fragment(body.value);
        return;
      default:
        // welcome, heartbeatAck, attached, subscribed, delivery, presence, goAway.
        this.#fail(ErrorCode.PROTOCOL_VIOLATION, `${body.case} is a server-only frame`);
    }
  }

  #route(rec: SessionRecord, frame: Frame): void {
    const refusal = this.#hub.route(this, rec, frame);
    if (refusal === undefined) return;
    if (refusal.fatal === true) {
      this.#fail(refusal.code, refusal.message);
      return;
    }
    // Frame.channel only where it means something: Publish and Unsubscribe (§13.2).
    const c = frame.body.case;
    const channel = c === "publish" || c === "unsubscribe" ? frame.channel : 0;
    this.#sendError(refusal.code, refusal.message, requestRef(frame), false, "warn", channel);
  }

  // A Fragment (PROTOCOL.md §11): counted against the window, held, and the frame dispatched when complete.
  #fragment(fragment: Fragment): void {
    const hub = this.#hub;
    const max = hub.options.maxMessageSize;
    if (max === 0) {
      this.#fail(ErrorCode.MESSAGE_TOO_LARGE, "fragments are not allowed on this connection (max_message_size 0)");
      return;
    }
    const size = fragment.data.length;
    const window = this.#flowWindow();
    if (window !== undefined && !window.consume(size)) {
      this.#flowControl(size);
      return;
    }
    let whole: Frame | undefined;
    try {
      this.#assembler ??= new FragmentAssembler({ maxMessageSize: max });
      whole = this.#assembler.push(fragment);
    } catch (err) {
      if (!(err instanceof HbError)) throw err;
      this.#fail(err.code, err.message);
      return;
    }
    // The assembler holds a copy: credit the bytes now, or a message larger than the window could never complete.
    if (window !== undefined) this.#credit(window.release(size));
    if (whole === undefined) return;
    hub.stats.reassembled++;
    this.#dispatch(whole, true);
  }

  #flowWindow(): ReceiveWindow | undefined {
    const size = this.#hub.options.publishWindow;
    if (this.#window === undefined && size > 0) this.#window = new ReceiveWindow(size);
    return this.#window;
  }

  #flowControl(size: number): void {
    const w = this.#window as ReceiveWindow;
    this.#fail(
      ErrorCode.FLOW_CONTROL,
      `flow-control window exceeded: ${size} payload bytes sent with ${w.available} of ${w.size} left`,
    );
  }

  // Returns credit with WindowUpdate (channel 0).
  #credit(credit: number): void {
    if (credit <= 0 || this.#phase !== OPEN) return;
    this.#hub.stats.windowUpdates++;
    this.#send(makeFrame("windowUpdate", { credit: BigInt(credit) }));
  }

  #hello(hello: Hello): void {
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      this.#fail(
        ErrorCode.UNSUPPORTED_VERSION,
        `protocol version ${hello.protocolVersion} is not supported (this server speaks ${PROTOCOL_VERSION})`,
      );
      return;
    }
    const mfs = hello.maxFrameSize;
    const invalid =
      (hello.nodeId === "" ? undefined : checkNodeId(hello.nodeId)) ??
      checkLabels(hello.labels) ??
      (hello.will === undefined ? undefined : checkWill(hello.will)) ??
      (mfs !== 0 && (mfs < 1024 || mfs > MAX_FRAME_SIZE_LIMIT)
        ? `max_frame_size must be 0 or 1024..${MAX_FRAME_SIZE_LIMIT}, got ${mfs}`
        : undefined);
    if (invalid !== undefined) {
      this.#fail(ErrorCode.INVALID_ARGUMENT, invalid);
      return;
    }
    if (mfs !== 0) this.#peerMaxFrameSize = mfs;
    if (hello.resumeToken.length > 0 && this.#transport.handoff !== undefined) {
      const target = this.#hub.resumeTarget(hello.resumeToken);
      if (target !== undefined && this.#transport.handoff(target)) {
        this.#handedOff(target);
        return;
      }
    }
    this.#phase = AUTH;
    const authenticate = this.#hub.options.authenticate;
    if (authenticate === undefined) {
      this.#admit(hello, true);
      return;
    }
    let result: boolean | Promise<boolean>;
    try {
      result = authenticate(hello, { remoteAddress: this.remoteAddress });
    } catch (err) {
      this.#hookFailed(err);
      this.#admit(hello, false);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (ok) => this.#admit(hello, ok === true),
        (err: unknown) => {
          this.#hookFailed(err);
          this.#admit(hello, false);
        },
      );
    } else {
      this.#admit(hello, result === true);
    }
  }

  #admit(hello: Hello, ok: boolean): void {
    if (this.#phase !== AUTH) return; // closed meanwhile
    try {
      if (!ok) {
        this.#fail(ErrorCode.UNAUTHORIZED, "authentication refused");
        return;
      }
      const hub = this.#hub;
      if (hub.shuttingDown) {
        this.#fail(ErrorCode.SHUTTING_DOWN, "server is shutting down", "info");
        return;
      }
      const o = hub.options;
      this.#now = hub.clock();
      const { record, resumed, resumeToken } = hub.open(this, hello, this.#now);
      this.#record = record;
      // PROTOCOL.md §15.1: of the client's features, the ones this server uses.
      this.#rttReports = hello.features.includes(Feature.heartbeatRtt);
      if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
      this.#phase = OPEN;
      this.#writer.open(this.#peerMaxFrameSize, o.maxMessageSize, o.channelMaxQueueSize);
      hub.router.addPeer(this);
      this.#routed = true;
      this.#send(
        makeFrame("welcome", {
          nodeId: record.nodeId,
          sessionId: record.sessionId,
          heartbeatIntervalMs: record.intervalMs,
          heartbeatTimeoutMs: o.heartbeatTimeout,
          maxFrameSize: o.maxFrameSize,
          serverTimeMs: BigInt(Date.now()),
          resumeToken,
          resumed,
          protocolVersion: PROTOCOL_VERSION,
          serverId: o.serverId,
          initialWindow: BigInt(o.publishWindow),
          resumeGraceMs: o.resumeGrace,
          maxMessageSize: BigInt(o.maxMessageSize),
          checkIntervalMs: o.heartbeatCheckInterval,
          handshakeTimeoutMs: o.handshakeTimeout,
          features: this.#rttReports ? [Feature.heartbeatRtt] : [],
        }),
      );
      this.#log("debug", undefined, resumed ? "session resumed" : "session opened");
      const pending = this.#pending;
      this.#pending = [];
      for (const frame of pending) {
        if (this.#phase !== OPEN) break;
        this.#dispatch(frame, false);
      }
    } catch (err) {
      this.#internal(err);
    }
  }

  #attach(rec: SessionRecord, attach: Attach): void {
    const invalid =
      (attach.handle === 0 ? "handle must be 1..2^32-1" : undefined) ??
      (attach.nodeId === "" ? "attached node id must not be empty" : checkNodeId(attach.nodeId)) ??
      checkLabels(attach.labels) ??
      (attach.will === undefined ? undefined : checkWill(attach.will));
    const refusal =
      invalid !== undefined
        ? { code: ErrorCode.INVALID_ARGUMENT, message: invalid }
        : this.#hub.shuttingDown
          ? { code: ErrorCode.SHUTTING_DOWN, message: "server is draining" }
          : this.#hub.attach(rec, attach, this.#now);
    if (refusal !== undefined) {
      this.refuse(refusal.code, refusal.message, attach.handle);
      return;
    }
    this.#send(makeFrame("attached", { handle: attach.handle, nodeId: attach.nodeId }));
  }

  // ---------------------------------------------------------------- output

  #send(frame: Frame): void {
    if (this.#phase === CLOSED || this.#transportGone) return;
    if (!this.#writer.control(frame)) {
      // Never sent a frame the client said it cannot take (PROTOCOL.md §3.3).
      this.#log("debug", undefined, `dropped a ${frame.body.case} frame over the client's max frame size`);
    }
  }

  #sendError(
    code: ErrorCode,
    message: string,
    ref: number | bigint,
    fatal: boolean,
    level: "debug" | "info" | "warn",
    channel = 0,
  ): void {
    if (this.#phase === CLOSED) return;
    this.#hub.stats.error(code);
    this.#log(level, code, message, ref);
    const frame = makeFrame("error", { code, message, ref: BigInt(ref), fatal }, channel);
    if (!fatal) this.#send(frame);
    else if (!this.#transportGone) this.#writer.fatal(frame); // written even when the queues are stuck
  }

  // Fatal: answer with the code, close this connection only.
  #fail(code: ErrorCode, message: string, level: "info" | "warn" = "warn"): void {
    if (this.#phase === CLOSED) return;
    this.#sendError(code, message, 0, true, level);
    this.#close("lost");
  }

  #internal(err: unknown): void {
    this.#hub.options.logger.error({ err, conn: this.id, nodeId: this.nodeId }, "session handler failed");
    this.#fail(ErrorCode.INTERNAL, "internal server error");
  }

  #hookFailed(err: unknown): void {
    this.#hub.stats.listenerErrors++;
    this.#hub.options.logger.error({ err, conn: this.id }, "authenticate hook threw");
  }

  #close(how: SessionEnd): void {
    if (this.#phase === CLOSED) return;
    this.#phase = CLOSED;
    this.#pending = [];
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#assembler?.clear();
    // Its subscriptions end before its nodes leave: the events about them are not for it.
    if (this.#routed) this.#hub.router.removePeer(this);
    if (!this.#transportGone) {
      this.#writer.finish();
      this.#transport.end();
    } else {
      this.#writer.close();
    }
    const rec = this.#record;
    this.#record = undefined;
    if (rec !== undefined) this.#hub.release(rec, this, how, this.#hub.clock());
  }

  // The transport went to another worker with the Hello: nothing was registered here, nothing is sent.
  #handedOff(target: number): void {
    this.#transportGone = true;
    this.#close("lost");
    this.#hub.stats.handedOff++;
    this.#log("debug", undefined, `handed to worker ${target}, which holds the resumed session`);
    this.#onTransportClosed(this);
  }

  #log(level: "debug" | "info" | "warn", code: ErrorCode | undefined, message: string, ref?: number | bigint): void {
    const logger = this.#hub.options.logger;
    const obj: Record<string, unknown> = { conn: this.id, remoteAddress: this.remoteAddress };
    if (code !== undefined) obj.code = errorCodeName(code);
    if (this.#record !== undefined) obj.nodeId = this.#record.nodeId;
    if (ref !== undefined && ref !== 0 && ref !== 0n) obj.ref = ref;
    logger[level](obj, message);
  }
}

// The correlation number of a channel frame: Subscribe.request_id or a request id.
function requestRef(frame: Frame): number | bigint {
  const body = frame.body;
  switch (body.case) {
    case "subscribe":
      return body.value.requestId;
    case "publish":
    case "send":
    case "reply":
      return body.value.requestId;
    default:
      return 0;
  }
}

function isThenable(value: unknown): value is Promise<boolean> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
