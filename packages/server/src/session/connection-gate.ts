import { ErrorCode, encodeFrame, errorCodeName, makeFrame } from "@hb/codec";
import type { SessionTransport } from "../core/ports/session-transport.js";
import type { ConnectionQuota } from "./connection-quota.js";
import { LocalQuota } from "./local-quota.js";
import { Session, type SessionContext } from "./session.js";
import { retryAfterMs } from "./spread-delays.js";
import { ThrottledLog } from "./throttled-log.js";

/**
 * The server's open connections: admits a transport as a {@link Session}
 * within `maxConnections` and `maxConnectionsPerIp` (as in force at that
 * moment: they change live; over a limit: a fatal `SERVER_FULL` with
 * `retry_after_ms`, then the transport is ended; logged at most once a
 * second), counted by its {@link ConnectionQuota} (this process's, or, in
 * a worker, the primary's for the whole server), enters each in the
 * pending Hellos (`maxPendingHellos`: a flood closes the oldest waiting
 * ones), and drives them through a graceful close (GoAway, then a last fatal
 * `SHUTTING_DOWN`, then destroy).
 */
export class ConnectionGate {
  readonly #ctx: SessionContext;
  readonly #sessions = new Set<Session>();
  #quota: ConnectionQuota;
  #nextId = 1;
  // Admissions waiting for the quota's answer (a worker asks the primary).
  #admitting = 0;
  #closing = false;
  #idle: (() => void) | undefined;
  readonly #refusals: ThrottledLog;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
    this.#refusals = new ThrottledLog(ctx.clock);
    this.#quota = new LocalQuota(() => ctx.options);
  }

  /** Counts the limits elsewhere from now on (a worker: the primary, for the whole server). */
  setQuota(quota: ConnectionQuota): void {
    this.#quota = quota;
  }

  /** Open connections. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Connections being admitted: waiting for the quota's answer (a worker
   * asks the primary), not sessions yet. Accept pacing counts them as in
   * their handshake: otherwise a burst read in one turn is admitted whole
   * before the first answer comes back.
   */
  get admitting(): number {
    return this.#admitting;
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
    const admitted = this.admit(transport, false);
    if (admitted instanceof Promise) throw new Error("accept() needs a local quota: use admit() in a worker");
    return admitted;
  }

  /**
   * Admits a transport as {@link ConnectionGate.accept} does; when the
   * quota is counted elsewhere (a worker asks the primary) the answer is a
   * promise, and the transport should not be read until it settles.
   *
   * @param leased - the connection already holds a slot (handed from another worker, which passed its slot on)
   */
  admit(transport: SessionTransport, leased: boolean): Session | undefined | Promise<Session | undefined> {
    if (this.#closing) {
      this.refuse(transport, ErrorCode.SHUTTING_DOWN, "server is shutting down");
      if (leased) this.#quota.release(transport.remoteAddress);
      return undefined;
    }
    if (leased) return this.#open(transport);
    const verdict = this.#quota.acquire(transport.remoteAddress);
    if (verdict instanceof Promise) {
      this.#admitting++;
      return verdict.then(
        (v) => {
          this.#admitting--;
          return this.#settle(transport, v);
        },
        (err: unknown) => {
          this.#admitting--;
          throw err;
        },
      );
    }
    return this.#settle(transport, verdict);
  }

  #settle(transport: SessionTransport, verdict: true | string): Session | undefined {
    if (verdict !== true) {
      this.refuse(transport, ErrorCode.SERVER_FULL, verdict);
      return undefined;
    }
    if (this.#closing) {
      this.#quota.release(transport.remoteAddress);
      this.refuse(transport, ErrorCode.SHUTTING_DOWN, "server is shutting down");
      return undefined;
    }
    return this.#open(transport);
  }

  #open(transport: SessionTransport): Session {
    const session = new Session(this.#ctx, transport, this.#nextId++, this.#gone);
    this.#sessions.add(session);
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
    // A connection handed to another worker took its slot along (the primary moved it).
    if (!session.handedOff) this.#quota.release(session.remoteAddress);
    if (this.#sessions.size === 0) this.#idle?.();
  };

  /**
   * Refuses a connection before reading anything: a fatal error with
   * `retry_after_ms` (spread, see `retryAfter`), then close. Counted in
   * `stats().errors`, logged at most once a second.
   */
  refuse(transport: SessionTransport, code: ErrorCode, message: string): void {
    const stats = this.#ctx.stats;
    stats.error(code);
    // Throttled: a connection flood over the limit would write one line per socket.
    this.#refusals.warn(this.#ctx.options.logger, { code: errorCodeName(code), remoteAddress: transport.remoteAddress }, message);
    const retryAfter = retryAfterMs(this.#ctx.options.retryAfter);
    const bytes = encodeFrame(makeFrame("error", { code, message, fatal: true, retryAfterMs: retryAfter }));
    stats.framesOut++;
    stats.bytesOut += bytes.length;
    transport.write(bytes);
    transport.end();
  }
}
