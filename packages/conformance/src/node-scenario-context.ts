import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import {
  DEFAULT_MAX_FRAME_SIZE,
  type FrameBodyInit,
  type Hello,
  PROTOCOL_VERSION,
  type Welcome,
  WelcomeSchema,
} from "@hb/codec";
import { HeartbeatLog } from "./heartbeat-log.js";
import type { NodeExit, NodeProcess } from "./node-process.js";
import type { RawConnection } from "./raw-connection.js";
import { fail, skip } from "./scenario-outcome.js";
import type { ScriptedServer } from "./scripted-server.js";

/** The credential in the node's `HB_TOKEN_FILE` when it starts. */
export const INITIAL_TOKEN = "conformance-token-1";

/** Settings shared by every node scenario of a run. */
export interface NodeTarget {
  /** Heartbeat interval the fake server advertises, ms. */
  readonly intervalMs: number;
  /** Heartbeat timeout the fake server advertises, ms. */
  readonly timeoutMs: number;
  /** Multiplier of every tolerance and reply wait (not of advertised timings). */
  readonly timeoutScale: number;
  /** Longest a scenario may wait for something slow (a reconnect), ms. */
  readonly maxWaitMs: number;
  /** Time allowed for the node to start and connect, ms. */
  readonly connectTimeoutMs: number;
  /** Whether a node that exits on SIGTERM without Goodbye is skipped rather than failed. */
  readonly allowMissingGoodbye: boolean;
}

/** A node's connection after the handshake, with its heartbeats answered in the background. */
export interface NodeSession {
  /** The connection (server side). */
  readonly conn: RawConnection;
  /** The node's Hello. */
  readonly hello: Hello;
  /** The Welcome sent to it. */
  readonly welcome: Welcome;
  /** `performance.now()` when the Welcome was sent. */
  readonly welcomeAt: number;
  /** Heartbeats received; acked while `log.acking`. */
  readonly log: HeartbeatLog;
}

/**
 * What a {@link NodeScenario} works with: the fake server, the node process,
 * handshake helpers (the Welcome advertises {@link NodeTarget.intervalMs}
 * and {@link NodeTarget.timeoutMs}) and timing helpers.
 */
export class NodeScenarioContext implements NodeTarget {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly timeoutScale: number;
  readonly maxWaitMs: number;
  readonly connectTimeoutMs: number;
  readonly allowMissingGoodbye: boolean;
  /** Time allowed for a frame the node should send at once (2 s × timeoutScale). */
  readonly replyTimeoutMs: number;
  /** The fake server the node connects to. */
  readonly server: ScriptedServer;
  /** The node under test. */
  readonly node: NodeProcess;
  /**
   * The file named by `HB_TOKEN_FILE` in the node's environment: the
   * credential it should present (read it for every Hello and renewal).
   * Holds {@link INITIAL_TOKEN} when the node starts.
   */
  readonly tokenFile: string;

  /**
   * @param target - advertised timings and limits
   * @param server - the listening fake server
   * @param node - the started node process
   * @param tokenFile - the node's `HB_TOKEN_FILE`
   */
  constructor(target: NodeTarget, server: ScriptedServer, node: NodeProcess, tokenFile: string) {
    this.tokenFile = tokenFile;
    this.intervalMs = target.intervalMs;
    this.timeoutMs = target.timeoutMs;
    this.timeoutScale = target.timeoutScale;
    this.maxWaitMs = target.maxWaitMs;
    this.connectTimeoutMs = target.connectTimeoutMs;
    this.allowMissingGoodbye = target.allowMissingGoodbye;
    this.replyTimeoutMs = Math.round(2000 * target.timeoutScale);
    this.server = server;
    this.node = node;
  }

  /**
   * Slack allowed after a deadline the node should keep: 300 ms + 20 % of
   * it, × timeoutScale.
   */
  slackMs(deadlineMs: number): number {
    return Math.round((300 + 0.2 * deadlineMs) * this.timeoutScale);
  }

  /**
   * Earliest acceptable time, measured from the Welcome sent, for a node's
   * deadline to fire: the deadline minus 50 ms (the node hears the Welcome
   * after it is sent, so a correct node is never early by this measure).
   */
  earliestMs(deadlineMs: number): number {
    return Math.max(0, deadlineMs - 50);
  }

  /** Skips the scenario when it would wait longer than `maxWaitMs`. */
  requireWait(waitMs: number, what: string): void {
    if (waitMs > this.maxWaitMs) {
      skip(`would wait ${Math.round(waitMs)} ms (${what}), more than --max-wait ${this.maxWaitMs} ms`);
    }
  }

  /**
   * Waits for the node's next connection.
   *
   * @param what - what the connection should be, e.g. "a reconnect after the server dropped the connection"
   * @throws {@link ScenarioFailure} when none comes within `timeoutMs`
   *   (default `connectTimeoutMs`) or the node exits first
   */
  async accept(what: string, timeoutMs = this.connectTimeoutMs): Promise<RawConnection> {
    const conn = await this.server.accept(timeoutMs, this.node.exited);
    if (conn !== undefined) return conn;
    fail(`expected ${what} within ${Math.round(timeoutMs)} ms, but none came; ${this.node.describe()}`);
  }

  /**
   * Expects Hello as the first frame, with protocol_version 1.
   *
   * @throws {@link ScenarioFailure} otherwise
   */
  async expectHello(conn: RawConnection, what = "Hello as the first frame"): Promise<Hello> {
    const hello = await conn.expectFrame("hello", this.replyTimeoutMs, { what });
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      fail(`${conn.label}: Hello.protocol_version is ${hello.protocolVersion}, expected ${PROTOCOL_VERSION}`);
    }
    return hello;
  }

  /** Writes a fresh credential into {@link NodeScenarioContext.tokenFile}, for the node's next Hello or renewal. */
  writeToken(token: string): void {
    writeFileSync(this.tokenFile, `${token}\n`);
  }

  /**
   * Sends a Welcome answering `hello`, made by {@link NodeScenarioContext.makeWelcome}.
   */
  sendWelcome(conn: RawConnection, hello: Hello, overrides: FrameBodyInit<"welcome"> = {}): Welcome {
    const welcome = this.makeWelcome(hello, overrides);
    conn.sendBody("welcome", welcome);
    return welcome;
  }

  /**
   * A Welcome answering `hello`: its node id (or an assigned one), a fresh
   * session id and 16-byte resume token, the advertised interval and
   * timeout, a 60 s resume grace. `overrides` replace any field.
   */
  makeWelcome(hello: Hello, overrides: FrameBodyInit<"welcome"> = {}): Welcome {
    return create(WelcomeSchema, {
      nodeId: hello.nodeId === "" ? `assigned-${randomBytes(4).toString("hex")}` : hello.nodeId,
      sessionId: `session-${randomBytes(6).toString("hex")}`,
      heartbeatIntervalMs: this.intervalMs,
      heartbeatTimeoutMs: this.timeoutMs,
      maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
      serverTimeMs: BigInt(Date.now()),
      resumeToken: new Uint8Array(randomBytes(16)),
      resumed: false,
      protocolVersion: PROTOCOL_VERSION,
      serverId: "hb-conformance",
      resumeGraceMs: 60_000,
      maxMessageSize: BigInt(DEFAULT_MAX_FRAME_SIZE),
      ...overrides,
    });
  }

  /**
   * Accepts the node's next connection, expects Hello, sends Welcome and
   * starts answering heartbeats. `overrides` may be a function of the Hello
   * (e.g. to grant the features it lists).
   */
  async session(
    what: string,
    overrides: FrameBodyInit<"welcome"> | ((hello: Hello) => FrameBodyInit<"welcome">) = {},
    timeoutMs?: number,
  ): Promise<NodeSession> {
    const conn = await this.accept(what, timeoutMs);
    const log = new HeartbeatLog(conn);
    const hello = await this.expectHello(conn, `Hello as the first frame of ${what}`);
    const welcome = this.sendWelcome(conn, hello, typeof overrides === "function" ? overrides(hello) : overrides);
    return { conn, hello, welcome, welcomeAt: performance.now(), log };
  }

  /**
   * Skips the scenario unless the node listed `feature` in `hello.features`
   * (PROTOCOL.md §15.1: optional features are optional).
   */
  requireFeature(hello: Hello, feature: string): void {
    if (!hello.features.includes(feature)) {
      skip(`the node does not list feature ${JSON.stringify(feature)} in Hello.features (listed: ${JSON.stringify(hello.features)})`);
    }
  }

  /**
   * Waits until the session has received `count` heartbeats in all.
   *
   * @throws {@link ScenarioFailure} naming the interval when they do not come
   */
  async expectHeartbeats(session: NodeSession, count: number): Promise<void> {
    const timeout = (count + 1) * this.intervalMs * 1.5 + this.slackMs(this.intervalMs);
    if (await session.log.waitFor(count, timeout)) return;
    const end = session.conn.end;
    const closed =
      end === undefined
        ? ""
        : ` before the ${end.by === "local" ? "runner" : "node"} closed the connection ${Math.round(end.at - session.welcomeAt)} ms after Welcome`;
    fail(
      `${session.conn.label}: expected ${count} Heartbeat(s) within ${Math.round(timeout)} ms of Welcome (advertised heartbeat_interval_ms ${this.intervalMs}), got ${session.log.beats.length}${closed}; ${this.node.describe()}`,
    );
  }

  /**
   * Lets a fresh session settle: waits for its first Heartbeat, or 1.5 ×
   * the interval + slack, whichever comes first. Never fails, so scenarios
   * about reconnects do not also test heartbeats.
   */
  async settle(session: NodeSession): Promise<void> {
    await session.log.waitFor(1, 1.5 * this.intervalMs + this.slackMs(this.intervalMs));
  }

  /**
   * Waits up to `ms` for the node process to exit.
   *
   * @returns how it exited, or `undefined` if it is still running
   */
  async waitForExit(ms: number): Promise<NodeExit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([this.node.exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
    clearTimeout(timer);
    return exit;
  }

  /** Waits `ms` milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
