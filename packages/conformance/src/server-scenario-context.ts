import { randomBytes } from "node:crypto";
import { type ErrorCode, type FrameBodyInit, PROTOCOL_VERSION, type Welcome, errorCodeName } from "@hb/codec";
import { RawConnection } from "./raw-connection.js";
import { skip } from "./scenario-outcome.js";

/** The `Hello` fields a scenario may set (plain object, all optional). */
export type HelloInit = FrameBodyInit<"hello">;

// Shared by every context of the process, so that concurrent scenarios never collide.
let idCounter = 0;

/** A connection after a successful handshake, see {@link ServerScenarioContext.open}. */
export interface OpenConnection {
  /** The connection. */
  readonly conn: RawConnection;
  /** The server's Welcome. */
  readonly welcome: Welcome;
}

/** Settings shared by every server scenario of a run. */
export interface ServerTarget {
  /** Host of the server under test. */
  readonly host: string;
  /** Port of the server under test. */
  readonly port: number;
  /** Multiplier of every tolerance and reply wait (not of advertised timings). */
  readonly timeoutScale: number;
  /** Longest a scenario may wait for a timeout to happen, ms. */
  readonly maxWaitMs: number;
  /** The server's handshake timeout, ms (it is not advertised). */
  readonly handshakeTimeoutMs: number;
  /** Makes the server drain (close gracefully), for `go-away-spread`; resolves once it has begun. */
  readonly drain?: (() => Promise<void>) | undefined;
  /** A credential the server accepts with an expiry, in a Hello and a Renew (the renewal scenarios). */
  readonly renewableToken: string;
  /** A credential the server refuses. */
  readonly refusedToken: string;
}

/**
 * What a {@link ServerScenario} works with: raw connections to the server
 * under test, handshake helpers, timing helpers, and cleanup. A fresh
 * context is made for every scenario; {@link ServerScenarioContext.close}
 * destroys everything the scenario opened.
 */
export class ServerScenarioContext implements ServerTarget {
  readonly host: string;
  readonly port: number;
  readonly timeoutScale: number;
  readonly maxWaitMs: number;
  readonly handshakeTimeoutMs: number;
  /** See {@link ServerTarget.drain}. */
  readonly drain: (() => Promise<void>) | undefined;
  readonly renewableToken: string;
  readonly refusedToken: string;
  /** Time allowed for a reply the server should send at once (2 s × timeoutScale). */
  readonly replyTimeoutMs: number;

  readonly #runId: string;
  readonly #cleanups: (() => void)[] = [];

  /**
   * @param target - server address and timing settings
   * @param runId - short random string that makes node ids unique per run
   */
  constructor(target: ServerTarget, runId: string) {
    this.host = target.host;
    this.port = target.port;
    this.timeoutScale = target.timeoutScale;
    this.maxWaitMs = target.maxWaitMs;
    this.handshakeTimeoutMs = target.handshakeTimeoutMs;
    this.drain = target.drain;
    this.renewableToken = target.renewableToken;
    this.refusedToken = target.refusedToken;
    this.replyTimeoutMs = Math.round(2000 * target.timeoutScale);
    this.#runId = runId;
  }

  /** A node id unique to this run, e.g. `conf-1a2b3c-dup-1`. */
  nodeId(tag = "node"): string {
    return `conf-${this.#runId}-${tag}-${++idCounter}`;
  }

  /**
   * Slack allowed after an advertised deadline (heartbeat timeout) before
   * a scenario calls it missed: the server's liveness check interval
   * (`Welcome.check_interval_ms`, PROTOCOL.md §6.3; at least 1 s, the
   * default tick, which also covers servers that do not advertise it) +
   * 10 % of the deadline, × timeoutScale.
   *
   * @param checkIntervalMs - the Welcome's `check_interval_ms` (0: not advertised)
   */
  slackMs(deadlineMs: number, checkIntervalMs = 0): number {
    return Math.round((Math.max(1000, checkIntervalMs) + 0.1 * deadlineMs) * this.timeoutScale);
  }

  /**
   * Earliest acceptable time, measured by the runner from the server's last
   * proof of life (the Welcome or Attached it answered with), for an
   * advertised deadline to fire: the deadline minus 50 ms. Servers detect
   * late, never early (PROTOCOL.md §6.3); the 50 ms cover the server's
   * processing between hearing the client and answering.
   */
  earliestMs(deadlineMs: number): number {
    return Math.max(0, deadlineMs - 50);
  }

  /**
   * Skips the scenario when it would have to wait longer than `maxWaitMs`.
   *
   * @param waitMs - how long the scenario would wait
   * @param what - what the wait is, e.g. "heartbeat_timeout_ms 30000 + slack 4000"
   */
  requireWait(waitMs: number, what: string): void {
    if (waitMs > this.maxWaitMs) {
      skip(`would wait ${Math.round(waitMs)} ms (${what}), more than --max-wait ${this.maxWaitMs} ms`);
    }
  }

  /** Opens a raw TCP connection, closed when the scenario ends. */
  async connect(label: string): Promise<RawConnection> {
    const conn = await RawConnection.connect(this.host, this.port, label, this.replyTimeoutMs);
    this.defer(() => conn.destroy());
    return conn;
  }

  /**
   * Connects and performs a handshake: sends Hello (protocol version 1 and
   * a fresh node id unless `hello` says otherwise) and expects Welcome.
   */
  async open(label: string, hello: HelloInit = {}): Promise<OpenConnection> {
    const conn = await this.connect(label);
    const welcome = await this.handshake(conn, hello);
    return { conn, welcome };
  }

  /** Sends Hello on `conn` (defaults as {@link ServerScenarioContext.open}) and expects Welcome. */
  async handshake(conn: RawConnection, hello: HelloInit = {}): Promise<Welcome> {
    const init: HelloInit = { protocolVersion: PROTOCOL_VERSION, nodeId: this.nodeId(), ...hello };
    conn.sendBody("hello", init);
    return conn.expectFrame("welcome", this.replyTimeoutMs, {
      after: `after sending Hello{node_id: ${JSON.stringify(init.nodeId)}}`,
    });
  }

  /**
   * Expects a fatal ProtocolError with `code`, then the server closing the
   * connection.
   *
   * @param after - what the scenario did, for failure messages ("after sending …")
   */
  async expectFatal(conn: RawConnection, code: ErrorCode, after: string): Promise<void> {
    await conn.expectError({ code, fatal: true }, this.replyTimeoutMs, { after });
    await conn.expectClose(this.replyTimeoutMs, {
      after: `after its fatal ProtocolError{code: ${errorCodeName(code)}}`,
    });
  }

  /** Registers a cleanup to run when the scenario ends. */
  defer(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  /**
   * Calls `fn` now and then every `periodMs` until the returned function is
   * called or the scenario ends.
   */
  repeat(periodMs: number, fn: () => void): () => void {
    fn();
    const timer = setInterval(fn, periodMs);
    const stop = (): void => clearInterval(timer);
    this.defer(stop);
    return stop;
  }

  /**
   * A period for keep-alive traffic that a server advertising `welcome`
   * accepts: half its interval, between 20 and 250 ms.
   */
  keepAlivePeriod(welcome: Welcome): number {
    return Math.min(250, Math.max(20, Math.floor(welcome.heartbeatIntervalMs / 2)));
  }

  /** Waits `ms` milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Runs every cleanup (closes every connection the scenario opened). */
  close(): void {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch {
        // cleanup is best effort
      }
    }
  }
}

/** A short random id for one conformance run. */
export function newRunId(): string {
  return randomBytes(3).toString("hex");
}
