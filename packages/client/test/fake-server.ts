import { randomBytes } from "node:crypto";
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import {
  type Attach,
  ErrorCode,
  type Frame,
  FrameDecoder,
  type Hello,
  encodeFrame,
  makeFrame,
} from "@hb/codec";

/**
 * A scripted stand-in for the hb server, just enough of DECISIONS.md to
 * test the client over real loopback TCP: Hello → Welcome (or a refusal),
 * HeartbeatAck for every Heartbeat, Attach → Attached, resume tokens.
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
}

/** A frame the fake received, with the connection and time. */
export interface Received {
  /** Connection number, from 1. */
  conn: number;
  /** The frame. */
  frame: Frame;
  /** `performance.now()` on arrival. */
  at: number;
}

/** What a session holds; kept across a resume, like the real server. */
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
  /** When set, answer Hello with this fatal ProtocolError and close. */
  refuse: { code: ErrorCode; message?: string } | undefined;
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
  /** Resume tokens issued, in order. */
  readonly tokens: Uint8Array[] = [];

  /** The listening port. */
  readonly port: number;
  readonly #server: Server;
  readonly #tls: FakeServerOptions["tls"];
  readonly #sessions = new Map<string, Session>();
  readonly #waiters = new Set<() => void>();
  #assigned = 0;

  private constructor(server: Server, options: FakeServerOptions) {
    this.#server = server;
    this.#tls = options.tls;
    this.port = (server.address() as AddressInfo).port;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 50;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 400;
    this.resumeGraceMs = options.resumeGraceMs ?? 5000;
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

  /** Sends a frame on a connection (default: the most recent). */
  send(frame: Frame, conn: FakeConnection | undefined = this.last): void {
    if (conn !== undefined && !conn.closed && !conn.silent) conn.socket.write(encodeFrame(frame));
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
    const conn: FakeConnection = { id: this.connections.length + 1, socket, hello: undefined, silent: false, closed: false, session: undefined };
    this.connections.push(conn);
    const decoder = new FrameDecoder();
    socket.on("error", () => {});
    socket.on("close", () => {
      conn.closed = true;
      this.#notify();
    });
    socket.on("data", (chunk: Buffer) => {
      const err = decoder.push(chunk, (frame) => {
        this.received.push({ conn: conn.id, frame, at: performance.now() });
        this.#onFrame(conn, frame);
      });
      if (err !== undefined) socket.destroy();
      this.#notify();
    });
  }

  #onFrame(conn: FakeConnection, frame: Frame): void {
    const body = frame.body;
    switch (body.case) {
      case "hello": {
        conn.hello = body.value;
        if (this.refuse !== undefined) {
          this.send(makeFrame("error", { code: this.refuse.code, message: this.refuse.message ?? "refused", fatal: true }), conn);
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
        conn.session = session;
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
          }),
          conn,
        );
        return;
      }
      case "heartbeat":
        if (this.ackHeartbeats) {
          this.send(
            makeFrame("heartbeatAck", {
              seq: body.value.seq,
              sendTimeUs: body.value.sendTimeUs,
              serverTimeMs: BigInt(Date.now()),
            }),
            conn,
          );
        }
        return;
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

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}
