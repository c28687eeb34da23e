import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  Feature,
  type Fragment,
  type Frame,
  FrameDecoder,
  HbError,
  type Hello,
  type OverflowMode,
  type Permissions,
  type Renew,
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
import type { SlicedTask, TurnSlicer } from "../routing/turn-slicer.js";
import type { SessionEnd } from "./registrations.js";
import type { Registrations } from "./registrations.js";
import type { SessionConnection, SessionRecord } from "./session-record.js";
import { type DropReason, MAX_WRITE_BACKLOG, SessionWriter, WRITE_HIGH_WATER } from "./session-writer.js";
import { helloProblem } from "./hello-rules.js";
import { InboundFlow } from "./inbound-flow.js";
import { reconnectDelayMs, retryAfterMs } from "./spread-delays.js";
import { ATTACH_BODY, type ErrorRef, RENEW_BODY, errorRef } from "./error-ref.js";
import { FrameJoin } from "./frame-join.js";
import type { CheckResult, CredentialCheck } from "../auth/credential-check.js";
import { DEFAULT_PERMISSIONS } from "../auth/connection-permissions.js";
import type { PendingHellos } from "./pending-hellos.js";
import { InputPacer, type PacedSession } from "./input-pacer.js";
import { CredentialRenewal, RENEW_NOT_NEGOTIATED, type RenewalOutlet } from "./credential-renewal.js";
import { MessageRate } from "./message-rate.js";
import { welcomeFrame } from "./welcome-frame.js";

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
  /** Authentication (the `auth` mode, the hook, bindings) and the permission rules. */
  readonly credentials: CredentialCheck;
  /** Proof of life for the connection's own node: any frame it sends (`heartbeat`: a Heartbeat frame). */
  heard(record: SessionRecord, now: number, heartbeat: boolean): void;
  /**
   * Calls `done` once a registration just made is known wherever the
   * server routes from (at once in one process; after the primary's
   * barrier in a worker): the Welcome waits for it (PROTOCOL.md §5.3).
   */
  settle(done: () => void): void;
  /** A connection was welcomed: it may subscribe and receives broadcasts. */
  opened(session: Session): void;
  /** A welcomed connection closed: its subscriptions end. */
  closed(session: Session): void;
  /** The event loop's work budget (issue 10): input beyond it waits for a later turn. */
  readonly slicer: TurnSlicer;
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
 *   reassembled first (when `maxMessageSize` > 0; a large message is joined
 *   in steps, one per turn); payload bytes are counted against the
 *   flow-control window and credited back with WindowUpdate after routing.
 * - **Bounded work per turn** (issue 10): frames are processed until the
 *   turn's budget ({@link TurnSlicer}) is spent or routing work is queued;
 *   the rest of the input is held (the transport paused) and processed in
 *   later turns, in order, by its {@link InputPacer}. Credit for payloads
 *   routed while work is queued is returned, and reading resumes, once the
 *   slicer has caught up — the deliveries written, or few enough left per
 *   connection — so a publisher is slowed to its subscribers' pace.
 * - Credentials that expire, and Renew, are its {@link CredentialRenewal}'s.
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
// Why one file of ~830 lines (about a third TSDoc and comments): this is one
// connection's state machine (HELLO → AUTH → OPEN → CLOSED) and the callbacks
// the parts and the writer make on it (supersede, replaced, timedOut, refuse,
// relay, onDrop, drain, crowdedOut, …), which all read and change the same
// private state (phase, record, writer, transport, decoder, the frames held
// before Welcome). What is a concept of its own lives beside it: the input
// held for later turns and the credit held back meanwhile (input-pacer.ts),
// the credential's expiry and Renew (credential-renewal.ts), the message
// limits (message-rate.ts), the Welcome (welcome-frame.ts), the input limits
// (inbound-flow.ts), the Hello rules (hello-rules.ts), reassembly steps
// (frame-join.ts), error correlation (error-ref.ts), the parts' frame table.
export class Session implements SessionConnection, PacedSession {
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
  // Frames pipelined after Hello while the authentication hook runs (created on first use).
  #pending: Frame[] | undefined;
  // Registered, Welcome waiting for the server to settle: relayed frames for it (§5.3).
  #early: [number, Uint8Array, Uint8Array, number][] | undefined;
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
  // Input held for later turns (issue 10's turn budget), and flow-control credit held back meanwhile.
  readonly #pacer: InputPacer;
  // The worker this connection was handed to (0: none).
  #movedTo = 0;
  // The credential's expiry and renewal (created when it expires or token-renewal was negotiated).
  #credential: CredentialRenewal | undefined;
  // Per-node message limits (the messageRate option): the connection's node and its attached nodes.
  #messageRate: MessageRate | undefined;

  /** @internal */
  constructor(ctx: SessionContext, transport: SessionTransport, id: number, onTransportClosed: (session: Session) => void) {
    this.#ctx = ctx;
    this.#transport = transport;
    this.id = id;
    this.remoteAddress = transport.remoteAddress;
    this.#onTransportClosed = onTransportClosed;
    const o = ctx.options;
    this.#decoder = new FrameDecoder({ maxFrameSize: o.maxFrameSize });
    this.#writer = new SessionWriter(transport, ctx.stats, this, ctx.slicer);
    this.#flow = new InboundFlow(o, ctx.clock.now());
    this.#pacer = new InputPacer(this, transport, this.#flow, ctx.slicer);
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

  /** @internal Whether the connection was handed to another worker (its connection slot went along). */
  get handedOff(): boolean {
    return this.#movedTo !== 0;
  }

  /** @internal Whether no Hello has been read yet (a transport able to hand off keeps the bytes until then). */
  get awaitingHello(): boolean {
    return this.#phase === HELLO;
  }

  /** @internal Whether input it sent waits in the slicer (read while the turn's budget was spent). */
  get holdsInput(): boolean {
    return this.#pacer.holding;
  }

  /** Feeds bytes received from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.#phase === CLOSED) return;
    const ctx = this.#ctx;
    ctx.stats.bytesIn += chunk.length;
    const now = ctx.clock.now();
    // Earlier input waits, or this turn's budget is spent: after them, in a later turn.
    if (this.#pacer.holdsChunk(chunk, now)) return;
    this.#now = now;
    this.#decode(chunk);
    this.#pacer.endOfInput();
  }

  /** @internal Whether the session is welcomed (see {@link PacedSession.welcomed}). */
  get welcomed(): boolean {
    return this.#phase === OPEN;
  }

  /** @internal See {@link PacedSession.heldAt}. */
  heldAt(now: number): void {
    this.#now = now;
  }

  /** @internal See {@link PacedSession.decodeHeld}. */
  decodeHeld(chunk: Uint8Array): void {
    this.#decode(chunk);
  }

  /** @internal See {@link PacedSession.handleHeld}. */
  handleHeld(frame: Frame): void {
    this.#handle(frame);
  }

  /** @internal See {@link PacedSession.returnCredit}. */
  returnCredit(credit: number): void {
    this.#credit(credit);
  }

  // Decodes a chunk: frames are handled while the turn's budget lasts, the rest are held (decoded).
  #decode(chunk: Uint8Array): void {
    try {
      const err = this.#decoder.push(chunk, this.#onFrame);
      if (err !== undefined && this.#phase !== CLOSED) this.#fail(err.code, err.message);
      // Still no Hello: what its partial Hello holds counts against the pending-Hello budget.
      else if (this.#phase === HELLO) this.#ctx.hellos.holds(this, this.#decoder.allocated);
    } catch (err) {
      this.#internal(err);
    }
  }

  /** Tells the session its transport can take more bytes (a socket's `'drain'`). */
  transportDrained(): void {
    this.#writer.drained();
  }

  /**
   * Tells the session the peer ended its side of the stream (a TCP FIN: a
   * half-close, or the first half of a close). Ending inside a frame is
   * answered with a fatal `TRUNCATED` while the transport can still write
   * (PROTOCOL.md §3.2, §5.6); between frames nothing happens here.
   */
  transportEnded(): void {
    if (this.#phase === CLOSED) return;
    const err = this.#decoder.end();
    if (err !== undefined) this.#fail(err.code, err.message, "info");
  }

  /** Tells the session its transport is closed (by the peer, an error, or after {@link SessionTransport.end}). */
  transportClosed(): void {
    if (this.#transportGone) return;
    // Input held for later turns (a Goodbye among it) is handled before the end of the stream.
    if (this.#phase !== CLOSED) this.#pacer.drainHeld();
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

  /** @internal Sends a non-fatal ProtocolError about an attached node (see {@link SessionConnection.refuse}). */
  refuse(code: ErrorCode, message: string, handle: number, nodeId: string): void {
    const level = code === ErrorCode.HEARTBEAT_TIMEOUT ? "debug" : "warn";
    this.#sendError(code, message, handle, false, level, 0, { ref: handle, refBody: ATTACH_BODY, nodeId });
  }

  /**
   * @internal The server is draining: tell the client to go away, and when
   * (`reconnect_delay_ms`, spread over the drain, PROTOCOL.md §5.5).
   */
  goAway(drainMs: number): void {
    if (this.#phase === CLOSED) return;
    const reconnectDelay = reconnectDelayMs(drainMs);
    this.#send(
      makeFrame("goAway", { code: ErrorCode.SHUTTING_DOWN, reason: "server shutting down", drainMs, reconnectDelayMs: reconnectDelay }),
    );
  }

  // ------------------------------------------------------ called by the router

  /** @internal See {@link RoutePeer.relay}. */
  relay(channel: number, head: Uint8Array, body: Uint8Array, frameLength: number): boolean {
    if (this.#phase !== OPEN) {
      const early = this.#early;
      if (early === undefined || this.#phase !== AUTH || early.length >= MAX_FRAMES_BEFORE_WELCOME) return false;
      early.push([channel, head, body, frameLength]);
      return true;
    }
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

  /** @internal See {@link RoutePeer.queuedOn}. */
  queuedOn(channel: number): number {
    return this.#writer.queuedOn(channel);
  }

  /** @internal See {@link RoutePeer.whenWritten}. */
  whenWritten(task: SlicedTask): void {
    if (this.#phase === OPEN) this.#writer.whenWritten(task);
  }

  /** @internal See {@link RoutePeer.overflowed}. */
  overflowed(channel: number): void {
    this.onOverflow(channel);
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
    // Held: decoded with the rest of its chunk, or routing work is queued; handled in a later turn.
    if (this.#phase === CLOSED || this.#pacer.holds(frame, this.#now)) return;
    this.#handle(frame);
    if (this.#phase !== CLOSED) this.#pacer.spent(frame);
  };

  #handle(frame: Frame): void {
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
  }

  // `reassembled`: the frame came out of the fragment assembler (its payload was counted as fragments).
  #dispatch(frame: Frame, reassembled: boolean): void {
    const body = frame.body;
    if (this.#phase === HELLO) {
      if (body.case === "hello") this.#hello(body.value);
      else this.#fail(ErrorCode.PROTOCOL_VIOLATION, `expected Hello first, got ${body.case}`);
      return;
    }
    if (this.#phase === AUTH) {
      const pending = (this.#pending ??= []);
      if (pending.length >= MAX_FRAMES_BEFORE_WELCOME) {
        this.#fail(ErrorCode.PROTOCOL_VIOLATION, `more than ${MAX_FRAMES_BEFORE_WELCOME} frames before Welcome`);
      } else {
        pending.push(frame);
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
    // Publish, Send, Broadcast, Reply: per-node message limits (the messageRate option).
    const rate = this.#messageRate;
    if (rate !== undefined) {
      const limited = rate.limited((body.value as { payload: Uint8Array }).payload.length, now, this.#ctx.options.messageRate, this.#ctx.stats);
      if (limited !== undefined) {
        this.#refused(frame, limited);
        return;
      }
    }
    // The payload counts against the flow-control window (§12).
    const window = this.#flow.window();
    const size = reassembled || window === undefined ? 0 : (body.value as { payload: Uint8Array }).payload.length;
    if (size > 0 && !(window as ReceiveWindow).consume(size)) {
      this.#refused(frame, this.#flow.exceeded(size));
      return;
    }
    this.#refused(frame, handler(this, rec, body.value as never, frame, now));
    if (size === 0) return;
    // Routed now, or queued behind work (then credited once the slicer has caught up).
    this.#pacer.routed(size, window as ReceiveWindow);
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

  // Renew (PROTOCOL.md §5.8): the same check as the handshake's, for the connection's node id and labels.
  static #renewFrame(s: Session, frame: Frame): void {
    const credential = s.#credential;
    if (credential === undefined) s.#fail(ErrorCode.PROTOCOL_VIOLATION, RENEW_NOT_NEGOTIATED);
    else credential.renew(frame.body.value as Renew, s.remoteAddress);
  }

  // Frame types the session handles itself once welcomed.
  static readonly #ownFrames: Readonly<Record<string, (s: Session, frame: Frame, reassembled: boolean) => void>> = {
    hello: Session.#secondHello,
    goodbye: Session.#goodbye,
    error: Session.#error,
    fragment: Session.#fragmentFrame,
    renew: Session.#renewFrame,
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
    const ref = errorRef(frame);
    this.#sendError(refusal.code, refusal.message, ref.ref, false, level, channel, ref);
  }

  // A Fragment (PROTOCOL.md §11): counted against the window, held, and the frame dispatched when
  // complete; a large one is joined in steps first, and the input after it waits for it.
  #fragment(fragment: Fragment): void {
    const { whole, pending, refusal, credit } = this.#flow.fragment(fragment);
    if (refusal !== undefined) {
      this.#fail(refusal.code, refusal.message);
      return;
    }
    this.#credit(credit);
    if (pending !== undefined) {
      this.#ctx.slicer.defer(new FrameJoin(pending, this.#joined));
      this.#pacer.hold();
      return;
    }
    if (whole === undefined) return;
    this.#ctx.stats.reassembled++;
    this.#dispatch(whole, true);
  }

  readonly #joined = (frame: Frame | HbError): void => {
    if (this.#phase === CLOSED) return;
    if (frame instanceof HbError) {
      this.#fail(frame.code, frame.message);
      return;
    }
    this.#ctx.stats.reassembled++;
    try {
      this.#dispatch(frame, true);
    } catch (err) {
      this.#internal(err);
    }
  };

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
    this.#ctx.credentials.run(
      { token: hello.token, hello, remoteAddress: this.remoteAddress, renewal: false, certificate: this.#transport.peerCertificate?.() },
      (result) => this.#admit(hello, result),
    );
  }

  #admit(asked: Hello, result: CheckResult): void {
    if (this.#phase !== AUTH) return; // closed meanwhile
    try {
      // PROTOCOL.md §5.8 rule 5: TOKEN_EXPIRED only to a client that listed token-renewal.
      const renewal = asked.features.includes(Feature.tokenRenewal);
      if (!result.ok) {
        this.#fail(result.code === ErrorCode.TOKEN_EXPIRED && !renewal ? ErrorCode.UNAUTHORIZED : result.code, result.message);
        return;
      }
      // The node id and labels the credential (or client certificate) binds.
      const hello = result.nodeId === asked.nodeId && result.labels === asked.labels ? asked : { ...asked, nodeId: result.nodeId, labels: result.labels };
      const ctx = this.#ctx;
      if (ctx.registrations.shuttingDown) {
        this.#fail(ErrorCode.SHUTTING_DOWN, "server is shutting down", "info");
        return;
      }
      this.#now = ctx.clock.now();
      const { record, resumed, resumeToken } = ctx.registrations.open(this, hello, this.#now);
      this.#record = record;
      if (renewal || result.expiresAt !== undefined) {
        this.#credential = new CredentialRenewal(ctx, this.#transport, this.#renewalOutlet(), hello, record.nodeId, renewal);
      }
      record.permissions = ctx.credentials.policy.forNode({ nodeId: record.nodeId, labels: hello.labels }, result.grant);
      // PROTOCOL.md §15.1: of the client's features, the ones this server uses.
      this.#rttReports = hello.features.includes(Feature.heartbeatRtt);
      const features: string[] = [];
      if (this.#rttReports) features.push(Feature.heartbeatRtt);
      if (renewal) features.push(Feature.tokenRenewal);
      // Messages for the node before its Welcome is out wait behind it.
      this.#early = [];
      ctx.settle(() => this.#welcome(record, resumed, resumeToken, features, result.expiresAt));
    } catch (err) {
      this.#internal(err);
    }
  }

  // The registration is known everywhere the server routes from (§5.3): Welcome, then what waited.
  #welcome(record: SessionRecord, resumed: boolean, resumeToken: Uint8Array, features: string[], expiresAt: number | undefined): void {
    if (this.#phase !== AUTH || this.#record !== record) return; // closed or superseded meanwhile
    try {
      const ctx = this.#ctx;
      const o = ctx.options;
      this.#messageRate = MessageRate.start(o.messageRate, this.#now);
      if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
      this.#phase = OPEN;
      this.#writer.open(this.#peerMaxFrameSize, o.maxMessageSize, o.channelMaxQueueSize);
      ctx.opened(this);
      this.#routed = true;
      const permissions = this.#wirePermissions();
      const tokenExpiresInMs = this.#credential?.expireAt(expiresAt) ?? 0;
      this.#send(welcomeFrame(o, record, { resumed, resumeToken, features, permissions, tokenExpiresInMs, expires: expiresAt !== undefined }));
      this.#log("debug", undefined, resumed ? "session resumed" : "session opened");
      const early = this.#early ?? [];
      this.#early = undefined;
      for (const [channel, head, body, frameLength] of early) this.#writer.relay(channel, head, body, frameLength);
      const pending = this.#pending ?? [];
      this.#pending = undefined;
      for (const frame of pending) {
        if (this.#phase !== OPEN) break;
        this.#dispatch(frame, false);
      }
    } catch (err) {
      this.#internal(err);
    }
  }

  // ------------------------------------------------------ credentials

  // What the credential's renewal does to this session (made once per connection that may renew or expire).
  #renewalOutlet(): RenewalOutlet {
    return {
      openRecord: () => (this.#phase === OPEN ? this.#record : undefined),
      send: (frame) => this.#send(frame),
      fail: (code, message, level) => this.#fail(code, message, level),
      refuse: (code, message) => this.#sendError(code, message, 0, false, "warn", 0, { ref: 0, refBody: RENEW_BODY, nodeId: "" }),
      debug: (message) => this.#log("debug", undefined, message),
      internal: (err) => this.#internal(err),
      wirePermissions: () => this.#wirePermissions(),
    };
  }

  #wirePermissions(): Permissions | undefined {
    const o = this.#ctx.options;
    const hooks = {
      publish: o.authorizePublish !== undefined,
      subscribe: o.authorizeSubscribe !== undefined,
      send: o.authorizeSend !== undefined,
      broadcast: o.authorizeBroadcast !== undefined,
    };
    return (this.#record?.permissions ?? DEFAULT_PERMISSIONS).toWire(hooks);
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
    about?: ErrorRef,
  ): void {
    if (this.#phase === CLOSED) return;
    this.#ctx.stats.error(code);
    this.#log(level, code, message, ref);
    // A refusal the client may retry: when, spread per connection (PROTOCOL.md §6.6).
    const retryAfter = fatal && RETRY_CODES.has(code) ? retryAfterMs(this.#ctx.options.retryAfter) : 0;
    const frame = makeFrame(
      "error",
      { code, message, ref: BigInt(ref), fatal, retryAfterMs: retryAfter, refBody: about?.refBody ?? 0, nodeId: about?.nodeId ?? "" },
      channel,
    );
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

  #close(how: SessionEnd): void {
    if (this.#phase === CLOSED) return;
    this.#phase = CLOSED;
    this.#ctx.hellos.done(this);
    this.#pending = undefined;
    this.#early = undefined;
    this.#pacer.clear();
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#credential?.stop();
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
    this.#movedTo = target;
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

/** Fatal codes a client may retry after, which carry `retry_after_ms` (PROTOCOL.md §6.6). */
const RETRY_CODES: ReadonlySet<ErrorCode> = new Set([ErrorCode.SERVER_FULL, ErrorCode.RATE_LIMITED, ErrorCode.SHUTTING_DOWN]);


/** Frames whose payload counts against the flow-control window (PROTOCOL.md §12). */
const PAYLOAD_FRAMES: ReadonlySet<string> = new Set(["publish", "send", "broadcast", "reply"]);
