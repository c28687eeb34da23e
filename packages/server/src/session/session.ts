import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  Feature,
  type Fragment,
  type Frame,
  FrameDecoder,
  type Hello,
  type OverflowMode,
  PROTOCOL_VERSION,
  errorCodeName,
  makeFrame,
} from "@hb/codec";
import type { ReceiveWindow } from "./receive-window.js";
import type { Clock } from "../core/ports/clock.js";
import type { FrameHandler, FrameHandlers } from "../core/ports/frame-handlers.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { ResolvedServerOptions } from "../options/server-options.js";
import type { SessionTransport } from "../core/ports/session-transport.js";
import type { ChannelSubscription } from "../routing/channel-subscription.js";
import { ChannelTable } from "../routing/channel-table.js";
import type { RoutePeer } from "../routing/route-peer.js";
import type { SessionEnd } from "./registrations.js";
import type { Registrations } from "./registrations.js";
import type { SessionConnection, SessionRecord } from "./session-record.js";
import { type DropReason, MAX_WRITE_BACKLOG, SessionWriter, WRITE_HIGH_WATER } from "./session-writer.js";
import { helloProblem, runAuthenticate } from "./hello-rules.js";
import { InboundFlow } from "./inbound-flow.js";
import type { PendingHellos } from "./pending-hellos.js";

/** What every {@link Session} of a server shares: built once by the core. */
export interface SessionContext {
  /** The server's options in force (read when needed: the live ones change with `reconfigure`). */
  readonly options: ResolvedServerOptions;
  /** The server's counters. */
  readonly stats: ServerCounters;
  /** Times. */
  readonly clock: Clock;
  /** The connections that have not sent their Hello yet (bounded: a flood closes the oldest). */
  readonly hellos: PendingHellos;
  /** Registration of a Hello's node, resume, and the end of sessions. */
  readonly registrations: Registrations;
  /** The parts' frame handlers (see {@link FrameHandlers}). */
  readonly frames: FrameHandlers<Session, SessionRecord>;
  /** Proof of life for the connection's own node: any frame it sends (`heartbeat`: a Heartbeat frame). */
  heard(record: SessionRecord, now: number, heartbeat: boolean): void;
  /** A connection was welcomed: it may subscribe and receives broadcasts. */
  opened(session: Session): void;
  /** A welcomed connection closed: its subscriptions end. */
  closed(session: Session): void;
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
// Why one file of ~600 lines: this is one connection's state machine
// (HELLO → AUTH → OPEN → CLOSED), and the callbacks the parts and the
// writer make on it (supersede, replaced, timedOut, refuse, relay, onDrop,
// drain, …) all read and change the same private state (phase, record,
// writer, transport). The rules it applies live elsewhere (hello-rules.ts,
// inbound-flow.ts, the parts' frame table); what is left is sequencing,
// about half of it TSDoc.
export class Session implements SessionConnection {
  /** Connection number, unique within the server. */
  readonly id: number;
  /** Remote address of the transport. */
  readonly remoteAddress: string;
  readonly #ctx: SessionContext;
  readonly #transport: SessionTransport;
  readonly #decoder: FrameDecoder;
  readonly #writer: SessionWriter;
  readonly #flow: InboundFlow;
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
  #channels: ChannelTable<ChannelSubscription> | undefined;
  #routed = false;
  // Whether the client reports heartbeat round trips (feature `heartbeat-rtt` negotiated).
  #rttReports = false;

  /** @internal */
  constructor(ctx: SessionContext, transport: SessionTransport, id: number, onTransportClosed: (session: Session) => void) {
    this.#ctx = ctx;
    this.#transport = transport;
    this.id = id;
    this.remoteAddress = transport.remoteAddress;
    this.#onTransportClosed = onTransportClosed;
    const o = ctx.options;
    this.#decoder = new FrameDecoder({ maxFrameSize: o.maxFrameSize });
    this.#writer = new SessionWriter(transport, ctx.stats, this);
    this.#flow = new InboundFlow(o, ctx.clock.now());
    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = undefined;
      if (this.#phase === CLOSED) return;
      // Logged by PendingHellos, throttled: a flood of idle sockets times out all at once.
      this.#ctx.hellos.timedOut(this);
      this.#sendError(ErrorCode.HANDSHAKE_TIMEOUT, `handshake not completed within ${o.handshakeTimeout} ms`, 0, true, "debug");
      this.#close("lost");
    }, o.handshakeTimeout);
    this.#handshakeTimer.unref();
  }

  /** Whether the client reports its heartbeat round trips (feature `heartbeat-rtt` negotiated in Hello/Welcome). */
  get reportsRtt(): boolean {
    return this.#rttReports;
  }

  /** The node id registered by this connection, once welcomed. */
  get nodeId(): string | undefined {
    return this.#record?.nodeId;
  }

  /** @internal The connection's subscriptions (see {@link RoutePeer.channels}). */
  get channels(): ChannelTable<ChannelSubscription> {
    this.#channels ??= new ChannelTable<ChannelSubscription>();
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
    this.#ctx.stats.bytesIn += chunk.length;
    this.#now = this.#ctx.clock.now();
    try {
      const err = this.#decoder.push(chunk, this.#onFrame);
      if (err !== undefined && this.#phase !== CLOSED) this.#fail(err.code, err.message);
      // Still no Hello: what its partial Hello holds counts against the pending-Hello budget.
      else if (this.#phase === HELLO) this.#ctx.hellos.holds(this, this.#decoder.allocated);
      // End of a read batch: return the credit of everything routed in it (PROTOCOL.md §12).
      const window = this.#flow.currentWindow;
      if (window !== undefined && this.#phase === OPEN) this.#credit(window.flush());
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
        this.#ctx.stats.error(err.code);
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
      `nothing heard for ${this.#ctx.options.heartbeatTimeout} ms`,
      0,
      true,
      "info",
    );
    this.#close("timeout");
  }

  /** @internal Closed to make room for newer connections waiting for Hello (see {@link PendingHellos}): fatal `SERVER_FULL`. */
  crowdedOut(message: string): void {
    if (this.#phase !== HELLO) return;
    // Logged by PendingHellos (throttled: a flood would write one line per socket).
    this.#sendError(ErrorCode.SERVER_FULL, message, 0, true, "debug");
    this.#close("lost");
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
    const dropped = this.#ctx.stats.dropped;
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
      this.#ctx.stats.dropped.slowConsumer++;
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
    this.#ctx.stats.framesIn++;
    const limited = this.#flow.admit(frame, this.#now);
    if (limited !== undefined) {
      this.#fail(limited.code, limited.message);
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
    const now = this.#now;
    // Any frame is proof of life for the connection's own node.
    this.#ctx.heard(rec, now, body.case === "heartbeat");
    const type = body.case ?? "";
    const own = Session.#ownFrames[type];
    if (own !== undefined) {
      own(this, frame, reassembled);
      return;
    }
    const handler = (this.#ctx.frames as Record<string, FrameHandler<Session, SessionRecord, "publish">>)[type];
    if (handler === undefined) {
      // welcome, heartbeatAck, attached, subscribed, delivery, presence, goAway.
      this.#fail(ErrorCode.PROTOCOL_VIOLATION, `${body.case} is a server-only frame`);
      return;
    }
    if (!PAYLOAD_FRAMES.has(type)) {
      this.#refused(frame, handler(this, rec, body.value as never, frame, now));
      return;
    }
    // Publish, Send, Broadcast, Reply: the payload counts against the flow-control window (§12).
    const window = this.#flow.window();
    const size = reassembled || window === undefined ? 0 : (body.value as { payload: Uint8Array }).payload.length;
    if (size > 0 && !(window as ReceiveWindow).consume(size)) {
      this.#refused(frame, this.#flow.exceeded(size));
      return;
    }
    this.#refused(frame, handler(this, rec, body.value as never, frame, now));
    if (size > 0) this.#credit((window as ReceiveWindow).release(size));
  }

  // The session's own frames after Welcome (the parts' are in the context's table).
  static #goodbye(s: Session, frame: Frame): void {
    s.#log("debug", undefined, `goodbye: ${(frame.body.value as { reason: string }).reason}`);
    s.#close("goodbye");
  }

  static #error(s: Session, frame: Frame): void {
    const e = frame.body.value as { code: ErrorCode; message: string; fatal: boolean };
    s.#log("info", e.code, `client reported: ${e.message}`);
    // A fatal error from the client: it closes; treat as closed without Goodbye.
    if (e.fatal) s.#close("lost");
  }

  static #secondHello(s: Session): void {
    s.#fail(ErrorCode.PROTOCOL_VIOLATION, "second Hello on one connection");
  }

  static #fragmentFrame(s: Session, frame: Frame, reassembled: boolean): void {
    if (reassembled) s.#fail(ErrorCode.PROTOCOL_VIOLATION, "a fragment may not carry a fragment");
    else s.#fragment(frame.body.value as Fragment);
  }

  // Frame types the session handles itself once welcomed.
  static readonly #ownFrames: Readonly<Record<string, (s: Session, frame: Frame, reassembled: boolean) => void>> = {
    hello: Session.#secondHello,
    goodbye: Session.#goodbye,
    error: Session.#error,
    fragment: Session.#fragmentFrame,
  };

  // Sends a part's refusal of `frame`, if any.
  #refused(frame: Frame, refusal: ReturnType<FrameHandler<Session, SessionRecord, "publish">>): void {
    if (refusal === undefined) return;
    if (refusal.fatal === true) {
      this.#fail(refusal.code, refusal.message);
      return;
    }
    // Frame.channel only where it means something: Publish and Unsubscribe (§13.2).
    const c = frame.body.case;
    const channel = c === "publish" || c === "unsubscribe" ? frame.channel : 0;
    const level = refusal.code === ErrorCode.HEARTBEAT_TIMEOUT ? "debug" : "warn";
    this.#sendError(refusal.code, refusal.message, requestRef(frame), false, level, channel);
  }

  // A Fragment (PROTOCOL.md §11): counted against the window, held, and the frame dispatched when complete.
  #fragment(fragment: Fragment): void {
    const { whole, refusal, credit } = this.#flow.fragment(fragment);
    if (refusal !== undefined) {
      this.#fail(refusal.code, refusal.message);
      return;
    }
    this.#credit(credit);
    if (whole === undefined) return;
    this.#ctx.stats.reassembled++;
    this.#dispatch(whole, true);
  }

  // Returns credit with WindowUpdate (channel 0).
  #credit(credit: number): void {
    if (credit <= 0 || this.#phase !== OPEN) return;
    this.#ctx.stats.windowUpdates++;
    this.#send(makeFrame("windowUpdate", { credit: BigInt(credit) }));
  }

  #hello(hello: Hello): void {
    this.#ctx.hellos.done(this);
    const problem = helloProblem(hello);
    if (problem !== undefined) {
      this.#fail(problem.code, problem.message);
      return;
    }
    if (hello.maxFrameSize !== 0) this.#peerMaxFrameSize = hello.maxFrameSize;
    if (hello.resumeToken.length > 0 && this.#transport.handoff !== undefined) {
      const target = this.#ctx.registrations.resumeTarget(hello.resumeToken);
      if (target !== undefined && this.#transport.handoff(target)) {
        this.#handedOff(target);
        return;
      }
    }
    this.#phase = AUTH;
    const authenticate = this.#ctx.options.authenticate;
    if (authenticate === undefined) this.#admit(hello, true);
    else runAuthenticate(authenticate, hello, this.remoteAddress, (ok) => this.#admit(hello, ok), (err) => this.#hookFailed(err));
  }

  #admit(hello: Hello, ok: boolean): void {
    if (this.#phase !== AUTH) return; // closed meanwhile
    try {
      if (!ok) {
        this.#fail(ErrorCode.UNAUTHORIZED, "authentication refused");
        return;
      }
      const ctx = this.#ctx;
      if (ctx.registrations.shuttingDown) {
        this.#fail(ErrorCode.SHUTTING_DOWN, "server is shutting down", "info");
        return;
      }
      const o = ctx.options;
      this.#now = ctx.clock.now();
      const { record, resumed, resumeToken } = ctx.registrations.open(this, hello, this.#now);
      this.#record = record;
      // PROTOCOL.md §15.1: of the client's features, the ones this server uses.
      this.#rttReports = hello.features.includes(Feature.heartbeatRtt);
      if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
      this.#phase = OPEN;
      this.#writer.open(this.#peerMaxFrameSize, o.maxMessageSize, o.channelMaxQueueSize);
      ctx.opened(this);
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
    this.#ctx.stats.error(code);
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
    this.#ctx.options.logger.error({ err, conn: this.id, nodeId: this.nodeId }, "session handler failed");
    this.#fail(ErrorCode.INTERNAL, "internal server error");
  }

  #hookFailed(err: unknown): void {
    this.#ctx.stats.listenerErrors++;
    this.#ctx.options.logger.error({ err, conn: this.id }, "authenticate hook threw");
  }

  #close(how: SessionEnd): void {
    if (this.#phase === CLOSED) return;
    this.#phase = CLOSED;
    this.#ctx.hellos.done(this);
    this.#pending = [];
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#flow.clear();
    // Its subscriptions end before its nodes leave: the events about them are not for it.
    if (this.#routed) this.#ctx.closed(this);
    if (!this.#transportGone) {
      this.#writer.finish();
      this.#transport.end();
    } else {
      this.#writer.close();
    }
    const rec = this.#record;
    this.#record = undefined;
    if (rec !== undefined) this.#ctx.registrations.release(rec, this, how, this.#ctx.clock.now());
  }

  // The transport went to another worker with the Hello: nothing was registered here, nothing is sent.
  #handedOff(target: number): void {
    this.#transportGone = true;
    this.#close("lost");
    this.#ctx.stats.handedOff++;
    this.#log("debug", undefined, `handed to worker ${target}, which holds the resumed session`);
    this.#onTransportClosed(this);
  }

  #log(level: "debug" | "info" | "warn", code: ErrorCode | undefined, message: string, ref?: number | bigint): void {
    const logger = this.#ctx.options.logger;
    const obj: Record<string, unknown> = { conn: this.id, remoteAddress: this.remoteAddress };
    if (code !== undefined) obj.code = errorCodeName(code);
    if (this.#record !== undefined) obj.nodeId = this.#record.nodeId;
    if (ref !== undefined && ref !== 0 && ref !== 0n) obj.ref = ref;
    logger[level](obj, message);
  }
}

/** Frames whose payload counts against the flow-control window (PROTOCOL.md §12). */
const PAYLOAD_FRAMES: ReadonlySet<string> = new Set(["publish", "send", "broadcast", "reply"]);

// What a refusal refers to (`ref`): Subscribe.request_id, a request id, or an Attach's handle.
function requestRef(frame: Frame): number | bigint {
  const body = frame.body;
  switch (body.case) {
    case "attach":
      return body.value.handle;
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
