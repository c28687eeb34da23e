/**
 * A tiny raw hb server for testing the conformance runner itself: written
 * with `@hb/codec` only, it follows docs/PROTOCOL.md closely enough to pass
 * every server scenario, unless deliberate faults are switched on. Tests
 * check that each fault makes the runner fail the matching scenarios with a
 * message naming the problem, and leaves the others passing.
 */
import { randomBytes } from "node:crypto";
import { type Server, type Socket, createServer } from "node:net";
import { ErrorCode, type Frame, FrameDecoder, type Hello, encodeFrame, makeFrame } from "@hb/codec";

/** Deliberate protocol violations. */
export interface ServerFaults {
  /** HeartbeatAck carries send_time_us 0 instead of the echo. */
  noSendTimeEcho?: boolean;
  /** On undecodable input, close without sending a ProtocolError. */
  silentOnBadInput?: boolean;
  /** Goodbye is ignored: the connection stays open. */
  ignoreGoodbye?: boolean;
}

/** Options of {@link startBrokenServer}. */
export interface BrokenServerOptions {
  faults?: ServerFaults;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /**
   * Advertised as Welcome.check_interval_ms; heartbeat verdicts then come
   * 0.9 × this after their deadline (the worst case of a server that checks
   * this often, PROTOCOL.md §6.3). Default: not advertised, verdicts within 25 ms.
   */
  checkIntervalMs?: number;
}

/** A running test server. */
export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

interface Session {
  nodeId: string;
  sessionId: string;
  token: string;
  conn: Conn | undefined;
}

interface Conn {
  socket: Socket;
  session: Session | undefined;
  lastHeard: number;
  attached: Map<number, { nodeId: string; lastHeard: number }>;
  handshakeTimer: NodeJS.Timeout | undefined;
  closing: boolean;
}

const SERVER_ONLY = new Set(["welcome", "heartbeatAck", "attached", "subscribed", "delivery", "presence", "goAway"]);

function nodeIdProblem(id: string): boolean {
  const bytes = Buffer.byteLength(id, "utf8");
  return bytes < 1 || bytes > 128 || /[\u0000-\u001f\u007f]/.test(id);
}

function subjectProblem(subject: string): boolean {
  const tokens = subject.split(".");
  return (
    Buffer.byteLength(subject) < 1 ||
    Buffer.byteLength(subject) > 256 ||
    tokens.length > 16 ||
    tokens.some((t) => t === "" || t === "*" || t === ">") ||
    /[\u0000-\u0020\u007f]/.test(subject) ||
    subject.startsWith("$hb.")
  );
}

function labelsProblem(labels: Record<string, string>): boolean {
  const entries = Object.entries(labels);
  if (entries.length > 32) return true;
  return entries.some(
    ([k, v]) => Buffer.byteLength(k) < 1 || Buffer.byteLength(k) > 64 || Buffer.byteLength(v) > 256,
  );
}

/** Starts the server on 127.0.0.1, port 0. */
export function startBrokenServer(options: BrokenServerOptions = {}): Promise<RunningServer> {
  const faults = options.faults ?? {};
  const interval = options.heartbeatIntervalMs ?? 200;
  const timeout = options.heartbeatTimeoutMs ?? 1000;
  const handshakeTimeout = options.handshakeTimeoutMs ?? 1000;
  const checkInterval = options.checkIntervalMs ?? 0;
  // A verdict is due this long after silence began.
  const verdictAfter = timeout + Math.round(0.9 * checkInterval);
  const sessions = new Map<string, Session>(); // by token
  const online = new Map<string, Conn>(); // by node id (own and attached)
  const conns = new Set<Conn>();

  const send = (conn: Conn, frame: Frame): void => {
    if (!conn.socket.destroyed) conn.socket.write(encodeFrame(frame));
  };
  const close = (conn: Conn): void => {
    if (conn.closing) return;
    conn.closing = true;
    conn.socket.end();
    setTimeout(() => conn.socket.destroy(), 500).unref();
  };
  const fatal = (conn: Conn, code: ErrorCode, message: string): void => {
    send(conn, makeFrame("error", { code, message, fatal: true }));
    close(conn);
  };
  const release = (conn: Conn): void => {
    const s = conn.session;
    if (s !== undefined && s.conn === conn) {
      s.conn = undefined;
      if (online.get(s.nodeId) === conn) online.delete(s.nodeId);
    }
    for (const a of conn.attached.values()) if (online.get(a.nodeId) === conn) online.delete(a.nodeId);
  };

  // The newer registration of a node id wins (own node: fatal; attached: non-fatal, ref = handle).
  const takeOver = (nodeId: string, by: Conn): void => {
    const previous = online.get(nodeId);
    if (previous === undefined || previous === by) return;
    if (previous.session?.nodeId === nodeId) {
      release(previous);
      fatal(previous, ErrorCode.DUPLICATE_NODE, "replaced");
      return;
    }
    for (const [handle, a] of previous.attached) {
      if (a.nodeId !== nodeId) continue;
      previous.attached.delete(handle);
      online.delete(nodeId);
      send(previous, makeFrame("error", { code: ErrorCode.DUPLICATE_NODE, message: "replaced", ref: BigInt(handle), fatal: false }));
    }
  };

  const onHello = (conn: Conn, h: Hello): void => {
    clearTimeout(conn.handshakeTimer);
    if (h.protocolVersion !== 1) return fatal(conn, ErrorCode.UNSUPPORTED_VERSION, "version 1 only");
    if (h.nodeId !== "" && nodeIdProblem(h.nodeId)) return fatal(conn, ErrorCode.INVALID_ARGUMENT, "bad node id");
    if (labelsProblem(h.labels)) return fatal(conn, ErrorCode.INVALID_ARGUMENT, "bad labels");
    if (h.will !== undefined && subjectProblem(h.will.subject)) return fatal(conn, ErrorCode.INVALID_ARGUMENT, "bad will");
    if (h.maxFrameSize !== 0 && (h.maxFrameSize < 1024 || h.maxFrameSize > 67_108_864)) {
      return fatal(conn, ErrorCode.INVALID_ARGUMENT, "bad max_frame_size");
    }
    const oldToken = Buffer.from(h.resumeToken).toString("hex");
    let session = oldToken === "" ? undefined : sessions.get(oldToken);
    const resumed = session !== undefined && (h.nodeId === "" || h.nodeId === session.nodeId);
    if (!resumed) session = undefined;
    const nodeId = session?.nodeId ?? (h.nodeId === "" ? `auto-${randomBytes(4).toString("hex")}` : h.nodeId);
    takeOver(nodeId, conn);
    if (session !== undefined) sessions.delete(session.token);
    session ??= { nodeId, sessionId: randomBytes(8).toString("hex"), token: "", conn: undefined };
    session.token = randomBytes(16).toString("hex");
    session.conn = conn;
    sessions.set(session.token, session);
    conn.session = session;
    online.set(nodeId, conn);
    const requested = h.heartbeatIntervalMs === 0 ? interval : h.heartbeatIntervalMs;
    send(
      conn,
      makeFrame("welcome", {
        nodeId,
        sessionId: session.sessionId,
        heartbeatIntervalMs: Math.min(Math.max(requested, 10), Math.floor(timeout / 2)),
        heartbeatTimeoutMs: timeout,
        checkIntervalMs: checkInterval,
        maxFrameSize: 1024 * 1024,
        serverTimeMs: BigInt(Date.now()),
        resumeToken: Buffer.from(session.token, "hex"),
        resumed,
        protocolVersion: 1,
        serverId: "broken-server",
      }),
    );
  };

  const onFrame = (conn: Conn, frame: Frame): void => {
    if (conn.closing) return;
    const body = frame.body;
    conn.lastHeard = performance.now();
    if (conn.session === undefined) {
      if (body.case !== "hello") return fatal(conn, ErrorCode.PROTOCOL_VIOLATION, "Hello first");
      return onHello(conn, body.value);
    }
    if (body.case === "hello") return fatal(conn, ErrorCode.PROTOCOL_VIOLATION, "second Hello");
    if (SERVER_ONLY.has(body.case as string)) return fatal(conn, ErrorCode.PROTOCOL_VIOLATION, `${body.case} from a client`);
    switch (body.case) {
      case "heartbeat":
        send(
          conn,
          makeFrame("heartbeatAck", {
            seq: body.value.seq,
            sendTimeUs: faults.noSendTimeEcho ? 0n : body.value.sendTimeUs,
            serverTimeMs: BigInt(Date.now()),
          }),
        );
        return;
      case "goodbye":
        if (faults.ignoreGoodbye) return;
        release(conn);
        close(conn);
        return;
      case "attach": {
        const { handle, nodeId } = body.value;
        const refuse = (m: string): void =>
          send(conn, makeFrame("error", { code: ErrorCode.INVALID_ARGUMENT, message: m, ref: BigInt(handle), fatal: false }));
        if (handle === 0 || conn.attached.has(handle)) return refuse("handle in use");
        if (nodeIdProblem(nodeId)) return refuse("bad node id");
        if (nodeId === conn.session?.nodeId || [...conn.attached.values()].some((a) => a.nodeId === nodeId)) {
          return refuse("already on this connection");
        }
        if (labelsProblem(body.value.labels)) return refuse("bad labels");
        takeOver(nodeId, conn);
        conn.attached.set(handle, { nodeId, lastHeard: performance.now() });
        online.set(nodeId, conn);
        send(conn, makeFrame("attached", { handle, nodeId }));
        return;
      }
      case "batchHeartbeat": {
        const t = performance.now();
        const handles = body.value.all ? [...conn.attached.keys()] : body.value.handles;
        for (const h of handles) {
          const a = conn.attached.get(h);
          if (a !== undefined) a.lastHeard = t;
        }
        return;
      }
      case "detach":
        for (const h of body.value.handles) conn.attached.delete(h);
        return;
      case "subscribe":
        // Confirmed, and nothing more: this server publishes no presence (a watcher then sees no verdict at all).
        send(conn, makeFrame("subscribed", { requestId: body.value.requestId, channel: 1, subject: body.value.subject }));
        return;
      default:
        return;
    }
  };

  const server: Server = createServer((socket) => {
    const conn: Conn = {
      socket,
      session: undefined,
      lastHeard: performance.now(),
      attached: new Map(),
      handshakeTimer: undefined,
      closing: false,
    };
    conns.add(conn);
    conn.handshakeTimer = setTimeout(() => fatal(conn, ErrorCode.HANDSHAKE_TIMEOUT, "no Hello"), handshakeTimeout);
    const decoder = new FrameDecoder();
    socket.on("data", (chunk) => {
      const err = decoder.push(chunk, (f) => onFrame(conn, f));
      if (err !== undefined && !conn.closing) {
        if (faults.silentOnBadInput) {
          conn.closing = true;
          socket.destroy();
        } else fatal(conn, err.code, err.message);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(conn.handshakeTimer);
      release(conn);
      conns.delete(conn);
    });
  });

  const sweep = setInterval(() => {
    const t = performance.now();
    for (const conn of conns) {
      if (conn.closing || conn.session === undefined) continue;
      if (t - conn.lastHeard > verdictAfter) {
        release(conn);
        fatal(conn, ErrorCode.HEARTBEAT_TIMEOUT, "timed out");
        continue;
      }
      for (const [handle, a] of conn.attached) {
        if (t - a.lastHeard > verdictAfter) {
          conn.attached.delete(handle);
          if (online.get(a.nodeId) === conn) online.delete(a.nodeId);
          send(conn, makeFrame("error", { code: ErrorCode.HEARTBEAT_TIMEOUT, message: "attached node timed out", ref: BigInt(handle), fatal: false }));
        }
      }
    }
  }, 25);

  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(sweep);
            for (const c of conns) c.socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
