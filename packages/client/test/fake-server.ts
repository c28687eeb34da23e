import { randomBytes } from "node:crypto";
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import {
  type Attach,
  DeliveryKind,
  ErrorCode,
  FragmentAssembler,
  type Frame,
  type FrameBodyInit,
  FrameDecoder,
  FrameSchema,
  type Hello,
  PresenceKind,
  type Renew,
  Role,
  type Subscribe,
  encodeFrame,
  fragmentFrame,
  makeFrame,
} from "@hb/codec";
import { toBinary } from "@bufbuild/protobuf";

/**
 * A scripted stand-in for the hb server, just enough of DECISIONS.md /
 * PROTOCOL.md to test the client over real loopback TCP: Hello → Welcome
 * (or a refusal), HeartbeatAck for every Heartbeat, Attach → Attached,
 * resume tokens; and channels: Subscribe → Subscribed (channels from 1 per
 * connection), Unsubscribe, Publish routed to matching subscriptions
 * (NATS-style wildcards), Send, Broadcast, Reply, presence events with label
 * filters, fragments both ways (frames over the client's max frame size
 * leave as 64 KiB fragments), and flow control (initial window, credit
 * automatic or by hand, FLOW_CONTROL when exceeded); and the v1
 * additions (PROTOCOL.md §15.2): negotiated features, Welcome.role, extra
 * Welcome fields, delayed acks, Renew → Renewed (or a refusal), refusals
 * with retry_after_ms, UNKNOWN_NODE naming its target.
 * Everything it receives is recorded. Behaviour can be changed between
 * steps of a test through the public fields.
 */
export interface FakeServerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Welcome.heartbeat_interval_ms (default 50). */
  heartbeatIntervalMs?: number;
  /** Welcome.heartbeat_timeout_ms (default 400). */
  heartbeatTimeoutMs?: number;
  /** Welcome.resume_grace_ms (default 5000). */
  resumeGraceMs?: number;
  /** Serve TLS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Welcome.initial_window (default 0: no flow control). */
  initialWindow?: number;
  /** Welcome.max_message_size (default 64 MiB). */
  maxMessageSize?: number;
}

/** A frame the fake received, with the connection and time. */
export interface Received {
  /** Connection number, from 1. */
  conn: number;
  /** The frame. */
  frame: Frame;
  /** `performance.now()` on arrival. */
  at: number;
  /** True for a frame reassembled from fragments (its fragments are recorded too). */
  reassembled?: boolean;
}

/** A subscription held by the fake. */
export interface FakeSubscription {
  /** Subscribe.request_id. */
  requestId: number;
  /** Subject or pattern. */
  subject: string;
  /** Label filter ($hb.presence only). */
  labelFilter: Record<string, string>;
}

/** What a session holds; kept across a resume (handles excepted), like the real server. */
export interface Session {
  /** Node id. */
  nodeId: string;
  /** Session id. */
  sessionId: string;
  /** Attached nodes by handle. */
  handles: Map<number, string>;
}

/** One accepted connection. */
export interface FakeConnection {
  /** Number, from 1, in accept order. */
  id: number;
  /** The socket. */
  socket: Socket;
  /** The Hello, once received. */
  hello: Hello | undefined;
  /** When true, nothing is sent on this connection any more (a hung server). */
  silent: boolean;
  /** Whether the socket has closed. */
  closed: boolean;
  /** The session, once welcomed. */
  session: Session | undefined;
  /** Live subscriptions by channel. */
  subs: Map<number, FakeSubscription>;
  /** Next channel number. */
  nextChannel: number;
  /** Payload bytes received and not yet credited (flow control). */
  outstanding: number;
  /** Welcome.initial_window of this connection (0: off). */
  window: number;
}

type BodyCase = NonNullable<Frame["body"]["case"]>;
type BodyOf<K extends BodyCase> = Extract<Frame["body"], { case: K }>["value"];

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The fake server. */
export class FakeServer {
  /** Received frames, in order, over every connection. */
  readonly received: Received[] = [];
  /** Accepted connections, in order. */
  readonly connections: FakeConnection[] = [];
  /** Welcome.heartbeat_interval_ms. */
  heartbeatIntervalMs: number;
  /** Welcome.heartbeat_timeout_ms. */
  heartbeatTimeoutMs: number;
  /** Welcome.resume_grace_ms. */
  resumeGraceMs: number;
  /** When set, answer Hello with this fatal ProtocolError (and its retry_after_ms) and close. */
  refuse: { code: ErrorCode; message?: string; retryAfterMs?: number } | undefined;
  /** Features the fake supports: Welcome.features is their intersection with Hello.features. */
  features: string[] = [];
  /** Whether the fake knows roles: Welcome.role echoes Hello.role (NODE for a node); when false, Welcome.role is 0. */
  knowsRoles = true;
  /** Extra Welcome fields (token expiry, permissions, timing …), applied to every Welcome. */
  welcomeExtra: FrameBodyInit<"welcome"> = {};
  /** Delay of every HeartbeatAck, ms (0: at once). */
  ackDelayMs = 0;
  /**
   * Decides a Renew: the Renewed body to answer with (default: the token
   * expires in `welcomeExtra.tokenExpiresInMs`), a code to refuse with
   * (non-fatal, ref_body 24), or `null` to never answer.
   */
  onRenew: (renew: Renew) => FrameBodyInit<"renewed"> | ErrorCode | null = () => ({
    tokenExpiresInMs: this.welcomeExtra.tokenExpiresInMs ?? 0n,
  });
  /** When true, read Hello but never answer it. */
  holdWelcome = false;
  /** When false, Heartbeats are not acknowledged. */
  ackHeartbeats = true;
  /**
   * Decides an Attach: `undefined` to accept, a code to refuse with
   * (non-fatal, ref = handle), or `null` to never answer.
   */
  onAttach: (attach: Attach) => ErrorCode | undefined | null = () => undefined;
  /** When false, resume tokens are ignored: every Hello starts a fresh session. */
  resume = true;
  /** Welcome.initial_window for new connections (0: no flow control). */
  initialWindow: number;
  /** Welcome.max_message_size for new connections. */
  maxMessageSize: number;
  /** Credit payload bytes as they arrive (every window/2); when false, only {@link FakeServer.grant} credits. */
  autoCredit = true;
  /** Allow Broadcast from clients; when false refuse with FORBIDDEN (non-fatal). */
  authorizeBroadcast = true;
  /** Keep a session's subscriptions (and channels) across a resume, as DECISIONS.md once had it. */
  keepSubscriptionsOnResume = false;
  /**
   * Decides a Subscribe: `undefined` to accept, a code to refuse with
   * (non-fatal, ref = request id), or `null` to never answer.
   */
  onSubscribe: (subscribe: Subscribe) => ErrorCode | undefined | null = () => undefined;
  /** Resume tokens issued, in order. */
  readonly tokens: Uint8Array[] = [];

  /** The listening port. */
  readonly port: number;
  readonly #server: Server;
  readonly #tls: FakeServerOptions["tls"];
  readonly #sessions = new Map<string, Session>();
  readonly #waiters = new Set<() => void>();
  #assigned = 0;
  #fragmentId = 1;

  private constructor(server: Server, options: FakeServerOptions) {
    this.#server = server;
    this.#tls = options.tls;
    this.port = (server.address() as AddressInfo).port;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 50;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 400;
    this.resumeGraceMs = options.resumeGraceMs ?? 5000;
    this.initialWindow = options.initialWindow ?? 0;
    this.maxMessageSize = options.maxMessageSize ?? 64 * 1024 * 1024;
    server.on(options.tls === undefined ? "connection" : "secureConnection", (socket: Socket) => this.#accept(socket));
  }

  /** Starts listening on 127.0.0.1. */
  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const server: Server = options.tls === undefined ? createServer() : createTlsServer(options.tls);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    return new FakeServer(server, options);
  }

  /** Starts a fresh fake on the same port, keeping the resume sessions (a restarted server). */
  static async restart(previous: FakeServer, options: FakeServerOptions = {}): Promise<FakeServer> {
    const next = await FakeServer.start({ ...options, port: previous.port, tls: previous.#tls });
    for (const [k, v] of previous.#sessions) next.#sessions.set(k, v);
    return next;
  }

  /** The most recent connection. */
  get last(): FakeConnection | undefined {
    return this.connections.at(-1);
  }

  /** Received frames with this body case, with the body as `value`. */
  frames<K extends BodyCase>(kind: K): Array<Received & { value: BodyOf<K> }> {
    const out: Array<Received & { value: BodyOf<K> }> = [];
    for (const r of this.received) {
      if (r.frame.body.case === kind) out.push(Object.assign({}, r, { value: r.frame.body.value as BodyOf<K> }));
    }
    return out;
  }

  /**
   * Sends a frame on a connection (default: the most recent). A frame longer
   * than the client's max frame size leaves as 64 KiB fragments.
   */
  send(frame: Frame, conn: FakeConnection | undefined = this.last): void {
    if (conn === undefined || conn.closed || conn.silent) return;
    const body = toBinary(FrameSchema, frame);
    const max = conn.hello?.maxFrameSize || 1024 * 1024;
    if (body.length <= max) {
      conn.socket.write(encodeFrame(frame));
      return;
    }
    const id = this.#fragmentId++;
    for (const piece of fragmentFrame(body, { id, maxFrameSize: Math.min(max, 64 * 1024) })) {
      conn.socket.write(encodeFrame(piece));
    }
  }

  /** Grants flow-control credit to a connection (default: the most recent). */
  grant(credit: number, conn: FakeConnection | undefined = this.last): void {
    if (conn === undefined) return;
    conn.outstanding = Math.max(0, conn.outstanding - credit);
    this.send(makeFrame("windowUpdate", { credit: BigInt(credit) }), conn);
  }

  /** Sends a presence event to every `$hb.presence` subscription whose label filter matches. */
  presence(event: { kind: PresenceKind; nodeId: string; labels?: Record<string, string>; reason?: string }): void {
    const labels = event.labels ?? {};
    for (const conn of this.connections) {
      if (conn.closed || conn.session === undefined) continue;
      for (const [channel, sub] of conn.subs) {
        if (sub.subject !== "$hb.presence") continue;
        if (!Object.entries(sub.labelFilter).every(([k, v]) => labels[k] === v)) continue;
        this.send(
          makeFrame(
            "presence",
            {
              kind: event.kind,
              nodeId: event.nodeId,
              labels,
              timeMs: BigInt(Date.now()),
              reason: event.reason ?? "",
              serverId: "fake",
            },
            channel,
          ),
          conn,
        );
      }
    }
  }

  /** The open, welcomed connection of a node (own or attached), the newest first. */
  connectionOf(nodeId: string): { conn: FakeConnection; attached: boolean } | undefined {
    for (let i = this.connections.length - 1; i >= 0; i--) {
      const c = this.connections[i] as FakeConnection;
      if (c.closed || c.session === undefined) continue;
      if (c.session.nodeId === nodeId) return { conn: c, attached: false };
      for (const id of c.session.handles.values()) if (id === nodeId) return { conn: c, attached: true };
    }
    return undefined;
  }

  /** Resolves when `predicate` holds, checked on every received frame; rejects after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const poll = setInterval(check, 10);
      this.#waiters.add(check);
    });
  }

  /** Destroys every open connection (the process died). */
  dropAll(): void {
    for (const c of this.connections) c.socket.destroy();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    const conn: FakeConnection = {
      id: this.connections.length + 1,
      socket,
      hello: undefined,
      silent: false,
      closed: false,
      session: undefined,
      subs: new Map(),
      nextChannel: 1,
      outstanding: 0,
      window: 0,
    };
    this.connections.push(conn);
    const decoder = new FrameDecoder();
    const assembler = new FragmentAssembler({ maxMessageSize: this.maxMessageSize });
    socket.on("error", () => {});
    socket.on("close", () => {
      conn.closed = true;
      this.#notify();
    });
    socket.on("data", (chunk: Buffer) => {
      const err = decoder.push(chunk, (frame) => {
        if (conn.closed) return;
        const at = performance.now();
        this.received.push({ conn: conn.id, frame, at });
        if (frame.body.case === "fragment") {
          if (!this.#consume(conn, frame.body.value.data.length)) return;
          let whole: Frame | undefined;
          try {
            whole = assembler.push(frame.body.value);
          } catch (e) {
            this.#fatal(conn, (e as { code?: ErrorCode }).code ?? ErrorCode.PROTOCOL_VIOLATION, String(e));
            return;
          }
          if (whole === undefined) return;
          this.received.push({ conn: conn.id, frame: whole, at, reassembled: true });
          this.#onFrame(conn, whole, true);
          return;
        }
        this.#onFrame(conn, frame, false);
      });
      if (err !== undefined) socket.destroy();
      this.#notify();
    });
  }

  #onFrame(conn: FakeConnection, frame: Frame, reassembled: boolean): void {
    const body = frame.body;
    switch (body.case) {
      case "publish":
      case "send":
      case "broadcast":
      case "reply":
        // Flow control counts payloads of whole frames; a reassembled one was counted by its fragments.
        if (!reassembled && !this.#consume(conn, body.value.payload.length)) return;
        this.#route(conn, frame);
        return;
      case "subscribe":
      case "unsubscribe":
        this.#route(conn, frame);
        return;
      default:
        break;
    }
    switch (body.case) {
      case "hello": {
        conn.hello = body.value;
        if (this.refuse !== undefined) {
          const { code, message, retryAfterMs } = this.refuse;
          this.send(makeFrame("error", { code, message: message ?? "refused", fatal: true, retryAfterMs }), conn);
          conn.socket.end();
          return;
        }
        if (this.holdWelcome) return;
        const hello = body.value;
        const known = this.resume ? this.#sessions.get(hex(hello.resumeToken)) : undefined;
        const session: Session = known ?? {
          nodeId: hello.nodeId || `assigned-${++this.#assigned}`,
          sessionId: hex(randomBytes(8)),
          handles: new Map(),
        };
        // A resume restores the node and session, not its handles (PROTOCOL §8.2).
        known?.handles.clear();
        if (known !== undefined && this.keepSubscriptionsOnResume) {
          const previous = this.connections.filter((c) => c !== conn && c.session === known).at(-1);
          if (previous !== undefined) {
            conn.subs = new Map(previous.subs);
            conn.nextChannel = previous.nextChannel;
          }
        }
        conn.session = session;
        conn.window = this.initialWindow;
        const { nodeId, sessionId } = session;
        const token = randomBytes(16);
        this.tokens.push(token);
        this.#sessions.set(hex(token), session);
        this.send(
          makeFrame("welcome", {
            nodeId,
            sessionId,
            heartbeatIntervalMs: this.heartbeatIntervalMs,
            heartbeatTimeoutMs: this.heartbeatTimeoutMs,
            maxFrameSize: 1024 * 1024,
            serverTimeMs: BigInt(Date.now()),
            resumeToken: token,
            resumed: known !== undefined,
            protocolVersion: 1,
            serverId: "fake",
            resumeGraceMs: this.resumeGraceMs,
            initialWindow: BigInt(this.initialWindow),
            maxMessageSize: BigInt(this.maxMessageSize),
            features: hello.features.filter((f) => this.features.includes(f)),
            role: this.knowsRoles ? (hello.role === Role.OBSERVER ? Role.OBSERVER : Role.NODE) : Role.UNSPECIFIED,
            ...this.welcomeExtra,
          }),
          conn,
        );
        return;
      }
      case "heartbeat":
        if (this.ackHeartbeats) {
          const ack = makeFrame("heartbeatAck", {
            seq: body.value.seq,
            sendTimeUs: body.value.sendTimeUs,
            serverTimeMs: BigInt(Date.now()),
          });
          if (this.ackDelayMs > 0) setTimeout(() => this.send(ack, conn), this.ackDelayMs);
          else this.send(ack, conn);
        }
        return;
      case "renew": {
        const answer = this.onRenew(body.value);
        if (answer === null) return;
        if (typeof answer === "number") {
          this.send(makeFrame("error", { code: answer, message: "renewal refused", refBody: 24 }), conn);
        } else {
          this.send(makeFrame("renewed", answer), conn);
        }
        return;
      }
      case "attach": {
        const handles = conn.session?.handles;
        const code =
          handles?.has(body.value.handle) === true ? ErrorCode.INVALID_ARGUMENT : this.onAttach(body.value);
        if (code === undefined || code === null) handles?.set(body.value.handle, body.value.nodeId);
        if (code === null) return;
        if (code === undefined) {
          this.send(makeFrame("attached", { handle: body.value.handle, nodeId: body.value.nodeId }), conn);
        } else {
          this.send(
            makeFrame("error", { code, message: "attach refused", ref: BigInt(body.value.handle), fatal: false }),
            conn,
          );
        }
        return;
      }
      case "detach":
        for (const h of body.value.handles) conn.session?.handles.delete(h);
        return;
      case "goodbye":
        conn.socket.end();
        return;
      default:
        return;
    }
  }

  /** Counts payload bytes against the window; FLOW_CONTROL when exceeded. @returns false if the connection was closed */
  #consume(conn: FakeConnection, bytes: number): boolean {
    if (conn.window === 0) return true;
    conn.outstanding += bytes;
    if (conn.outstanding > conn.window) {
      this.#fatal(conn, ErrorCode.FLOW_CONTROL, `window of ${conn.window} bytes exceeded (${conn.outstanding})`);
      return false;
    }
    if (this.autoCredit && conn.outstanding >= conn.window / 2) this.grant(conn.outstanding, conn);
    return true;
  }

  #fatal(conn: FakeConnection, code: ErrorCode, message: string): void {
    this.send(makeFrame("error", { code, message, fatal: true }), conn);
    conn.socket.end();
    conn.closed = true;
  }

  #error(conn: FakeConnection, code: ErrorCode, ref: bigint, channel = 0, nodeId = ""): void {
    this.send(makeFrame("error", { code, message: `fake: ${ErrorCode[code]}`, ref, fatal: false, nodeId }, channel), conn);
  }

  #route(conn: FakeConnection, frame: Frame): void {
    const body = frame.body;
    const session = conn.session;
    if (session === undefined) return;
    switch (body.case) {
      case "subscribe": {
        const sub = body.value;
        const code = this.onSubscribe(sub);
        if (code === null) return;
        if (code !== undefined) {
          this.#error(conn, code, BigInt(sub.requestId));
          return;
        }
        const channel = conn.nextChannel++;
        conn.subs.set(channel, { requestId: sub.requestId, subject: sub.subject, labelFilter: { ...sub.labelFilter } });
        this.send(makeFrame("subscribed", { requestId: sub.requestId, channel, subject: sub.subject }), conn);
        return;
      }
      case "unsubscribe":
        if (!conn.subs.delete(frame.channel)) this.#error(conn, ErrorCode.UNKNOWN_CHANNEL, 0n, frame.channel);
        return;
      case "publish": {
        const p = body.value;
        const from = p.fromHandle === 0 ? session.nodeId : (session.handles.get(p.fromHandle) ?? "");
        if (p.subject.startsWith("$hb.")) {
          this.#error(conn, ErrorCode.FORBIDDEN, p.requestId);
          return;
        }
        for (const c of this.connections) {
          if (c.closed || c.session === undefined) continue;
          for (const [channel, sub] of c.subs) {
            if (!subjectMatches(sub.subject, p.subject)) continue;
            const delivery = makeFrame(
              "delivery",
              { kind: DeliveryKind.PUBLISH, subject: p.subject, fromNodeId: from, payload: p.payload, requestId: p.requestId },
              channel,
            );
            this.send(delivery, c);
          }
        }
        return;
      }
      case "send": {
        const m = body.value;
        const from = m.fromHandle === 0 ? session.nodeId : (session.handles.get(m.fromHandle) ?? "");
        const target = this.connectionOf(m.nodeId);
        if (target === undefined) {
          if (m.requestId !== 0n) {
            this.send(makeFrame("reply", { nodeId: m.nodeId, requestId: m.requestId, errorCode: ErrorCode.UNKNOWN_NODE }), conn);
          } else {
            this.#error(conn, ErrorCode.UNKNOWN_NODE, 0n, 0, m.nodeId);
          }
          return;
        }
        this.send(
          makeFrame("delivery", {
            kind: DeliveryKind.DIRECT,
            fromNodeId: from,
            payload: m.payload,
            requestId: m.requestId,
            toNodeId: target.attached ? m.nodeId : "",
          }),
          target.conn,
        );
        return;
      }
      case "broadcast": {
        if (!this.authorizeBroadcast) {
          this.#error(conn, ErrorCode.FORBIDDEN, 0n);
          return;
        }
        const from = body.value.fromHandle === 0 ? session.nodeId : (session.handles.get(body.value.fromHandle) ?? "");
        for (const c of this.connections) {
          if (c === conn || c.closed || c.session === undefined) continue;
          this.send(makeFrame("delivery", { kind: DeliveryKind.BROADCAST, fromNodeId: from, payload: body.value.payload }), c);
        }
        return;
      }
      case "reply": {
        const r = body.value;
        const replier = r.fromHandle === 0 ? session.nodeId : (session.handles.get(r.fromHandle) ?? "");
        const target = this.connectionOf(r.nodeId);
        if (target === undefined) return; // dropped
        this.send(
          makeFrame("reply", {
            nodeId: replier,
            requestId: r.requestId,
            payload: r.payload,
            errorCode: r.errorCode,
            errorMessage: r.errorMessage,
          }),
          target.conn,
        );
        return;
      }
      default:
        return;
    }
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** NATS-style match: `*` one token, a last `>` one or more; wildcards never match `$hb.` subjects. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  if (subject.startsWith("$hb.")) return false;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const t = p[i];
    if (t === ">") return s.length > i;
    if (i >= s.length) return false;
    if (t !== "*" && t !== s[i]) return false;
  }
  return p.length === s.length;
}

export { PresenceKind };
