import { ErrorCode, encodeFrame, errorCodeName, makeFrame } from "@hb/codec";
import type { SessionTransport } from "../core/ports/session-transport.js";
import { Session, type SessionContext } from "./session.js";
import { ThrottledLog } from "./throttled-log.js";

/**
 * The server's open connections: admits a transport as a {@link Session}
 * within `maxConnections` and `maxConnectionsPerIp` (as in force at that
 * moment: they change live; over a limit: a fatal
 * `SERVER_FULL`, then the transport is ended; logged at most once a
 * second), counts them per address, enters each in the pending Hellos
 * (`maxPendingHellos`: a flood closes the oldest waiting ones),
 * and drives them through a graceful close (GoAway, then a last fatal
 * `SHUTTING_DOWN`, then destroy).
 */
export class ConnectionGate {
  readonly #ctx: SessionContext;
  readonly #sessions = new Set<Session>();
  readonly #perIp = new Map<string, number>();
  #nextId = 1;
  #closing = false;
  #idle: (() => void) | undefined;
  readonly #refusals: ThrottledLog;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
    this.#refusals = new ThrottledLog(ctx.clock);
  }

  /** Open connections. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Refuses every connection from now on (`SHUTTING_DOWN`). */
  close(): void {
    this.#closing = true;
  }

  /**
   * Admits a transport: its {@link Session}, or `undefined` when refused
   * (shutting down, or over a limit). The transport must then feed
   * `Session.receive` and call `Session.transportClosed` once closed.
   */
  accept(transport: SessionTransport): Session | undefined {
    // Read now: the limits may change live (HeartbeatServer.reconfigure).
    const o = this.#ctx.options;
    if (this.#closing) {
      this.#refuse(transport, ErrorCode.SHUTTING_DOWN, "server is shutting down");
      return undefined;
    }
    const ip = transport.remoteAddress;
    const perIp = this.#perIp.get(ip) ?? 0;
    if (this.#sessions.size >= o.maxConnections) {
      this.#refuse(transport, ErrorCode.SERVER_FULL, `server is full (maxConnections ${o.maxConnections})`);
      return undefined;
    }
    if (o.maxConnectionsPerIp > 0 && perIp >= o.maxConnectionsPerIp) {
      this.#refuse(
        transport,
        ErrorCode.SERVER_FULL,
        `too many connections from ${ip} (maxConnectionsPerIp ${o.maxConnectionsPerIp})`,
      );
      return undefined;
    }
    const session = new Session(this.#ctx, transport, this.#nextId++, this.#gone);
    this.#sessions.add(session);
    this.#perIp.set(ip, perIp + 1);
    // It waits for its Hello: bounded (a handshake flood closes the oldest waiting ones).
    this.#ctx.hellos.add(session);
    return session;
  }

  /** Every connection starts draining: GoAway to active ones, a fatal `SHUTTING_DOWN` to those in their handshake. */
  drain(drainMs: number): void {
    for (const session of [...this.#sessions]) session.drain(drainMs);
  }

  /** The drain deadline passed: a last fatal `SHUTTING_DOWN` to every connection left. */
  expire(): void {
    for (const session of [...this.#sessions]) session.expire();
  }

  /** Destroys every connection left. */
  destroyAll(): void {
    for (const session of [...this.#sessions]) session.destroy();
  }

  /** Resolves when no connection is left, or after `ms`. */
  async whenIdle(ms: number): Promise<void> {
    if (this.#sessions.size === 0 || ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#idle = undefined;
  }

  readonly #gone = (session: Session): void => {
    if (!this.#sessions.delete(session)) return;
    const ip = session.remoteAddress;
    const n = (this.#perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
    if (this.#sessions.size === 0) this.#idle?.();
  };

  // Refuses a connection before reading anything: fatal error, then close.
  #refuse(transport: SessionTransport, code: ErrorCode, message: string): void {
    const stats = this.#ctx.stats;
    stats.error(code);
    // Throttled: a connection flood over the limit would write one line per socket.
    this.#refusals.warn(this.#ctx.options.logger, { code: errorCodeName(code), remoteAddress: transport.remoteAddress }, message);
    const bytes = encodeFrame(makeFrame("error", { code, message, fatal: true }));
    stats.framesOut++;
    stats.bytesOut += bytes.length;
    transport.write(bytes);
    transport.end();
  }
}
