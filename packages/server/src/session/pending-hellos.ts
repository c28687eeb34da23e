import type { Clock } from "../core/ports/clock.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { ResolvedServerOptions } from "../options/server-options.js";
import { ThrottledLog } from "./throttled-log.js";

/** A connection that has not sent its Hello yet, as {@link PendingHellos} sees it. */
export interface PendingHello {
  /** Its remote address (for the log). */
  readonly remoteAddress: string;
  /**
   * Whether bytes it sent wait in the server's own queue (read while the
   * turn's budget was spent, not looked at yet): the server is busy, the
   * connection is not silent.
   */
  readonly holdsInput: boolean;
  /** Closes it with a fatal `SERVER_FULL` (counted, not logged: {@link PendingHellos} logs, throttled). */
  crowdedOut(message: string): void;
}

// Most connections with queued input that one evictIdle() call moves behind the others before it gives up.
const MAX_SKIPS = 64;

// One waiting connection: the bytes its partial Hello holds, and when it started waiting (clock ms, pacer turn).
interface Waiting {
  bytes: number;
  readonly at: number;
  readonly turn: number;
}

/** What {@link PendingHellos} needs from the server. */
export interface PendingHellosContext {
  /** The options in force (`maxPendingHellos`, `maxPendingHelloBytes` change live). */
  readonly options: ResolvedServerOptions;
  /** Where `awaitingHello`, `awaitingHelloBytes` and `helloEvictions` are kept. */
  readonly stats: ServerCounters;
  /** For the throttled log. */
  readonly clock: Clock;
}

/**
 * The connections that have not sent their Hello yet, oldest first, and
 * the bytes each holds (its partial Hello, as the frame decoder allocated
 * it). Bounded two ways, both live options: at most `maxPendingHellos` of
 * them (a new one closes the oldest) and at most `maxPendingHelloBytes` in
 * all (the oldest are closed until it fits). Closing the oldest rather than
 * refusing the newest is what lets real nodes in during a handshake flood:
 * a node sends its Hello right after connecting, so it leaves this set
 * within a round trip, while the flood's idle sockets grow old in it.
 * Every eviction is a fatal `SERVER_FULL`, counted in
 * `stats().helloEvictions` and `stats().errors.SERVER_FULL`, and logged
 * at most once a second. O(1) per connection and per read.
 */
export class PendingHellos {
  readonly #ctx: PendingHellosContext;
  // Insertion order is age (the first key is the oldest), except that evictIdle moves busy ones behind.
  readonly #waiting = new Map<PendingHello, Waiting>();
  #turns = 0;
  readonly #log: ThrottledLog;
  readonly #timeoutLog: ThrottledLog;
  #bytes = 0;

  constructor(ctx: PendingHellosContext) {
    this.#ctx = ctx;
    this.#log = new ThrottledLog(ctx.clock);
    this.#timeoutLog = new ThrottledLog(ctx.clock);
  }

  /** Connections waiting. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Bytes they hold in all. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A connection was accepted: it waits for its Hello (the oldest waiting one is closed if the set is full). */
  add(conn: PendingHello): void {
    const max = this.#ctx.options.maxPendingHellos;
    while (this.#waiting.size >= max) this.#evictOldest(`more than ${max} connections waiting for Hello (maxPendingHellos)`);
    this.#waiting.set(conn, { bytes: 0, at: this.#ctx.clock.now(), turn: this.#turns });
    this.#ctx.stats.awaitingHello = this.#waiting.size;
  }

  /** One more turn of the accept pacer (after an I/O poll of the event loop): see {@link PendingHellos.evictIdle}. */
  turn(): void {
    this.#turns++;
  }

  /**
   * Closes the oldest silent connection waiting for its Hello if it has
   * waited at least `idleMs` and `minTurns` of the accept pacer's turns (a
   * real node's Hello follows its connect within a round trip; the turns
   * make sure the server had the chance to read it, however late its loop
   * runs): the accept pacer takes its handshake slot back for a socket
   * waiting to be admitted. Counted and logged like every eviction.
   *
   * A connection whose input waits in the server's queue
   * ({@link PendingHello.holdsInput}: its Hello was read while the server
   * was busy) is not silent: it is moved behind the others (at most
   * {@link MAX_SKIPS} per call, so the call stays O(1)) and never closed
   * here.
   *
   * @returns whether one was closed
   */
  evictIdle(idleMs: number, minTurns: number): boolean {
    for (let skips = 0; ; skips++) {
      const oldest = this.#waiting.entries().next();
      if (oldest.done === true) return false;
      const [conn, w] = oldest.value;
      if (this.#ctx.clock.now() - w.at < idleMs || this.#turns - w.turn < minTurns) return false;
      if (!conn.holdsInput) break;
      if (skips === MAX_SKIPS || skips === this.#waiting.size) return false;
      // Busy with it: behind the others (it keeps its admission time).
      this.#waiting.delete(conn);
      this.#waiting.set(conn, w);
    }
    this.#evictOldest(`a connection waiting to be admitted needs the handshake slot of one silent for ${idleMs} ms (maxHandshakes)`);
    return true;
  }

  /** `conn` now holds `bytes` of its partial Hello (the oldest are closed while the total exceeds the budget). */
  holds(conn: PendingHello, bytes: number): void {
    const w = this.#waiting.get(conn);
    if (w === undefined || w.bytes === bytes) return;
    this.#bytes += bytes - w.bytes;
    w.bytes = bytes;
    const max = this.#ctx.options.maxPendingHelloBytes;
    while (this.#bytes > max && this.#waiting.size > 0) {
      this.#evictOldest(`connections waiting for Hello hold more than ${max} bytes (maxPendingHelloBytes)`);
    }
    this.#ctx.stats.awaitingHelloBytes = this.#bytes;
  }

  /** `conn` sent its Hello, or closed: it no longer waits (idempotent). */
  done(conn: PendingHello): void {
    const w = this.#waiting.get(conn);
    if (w === undefined) return;
    this.#waiting.delete(conn);
    this.#bytes -= w.bytes;
    const stats = this.#ctx.stats;
    stats.awaitingHello = this.#waiting.size;
    stats.awaitingHelloBytes = this.#bytes;
  }

  /** `conn` did not complete its handshake within `handshakeTimeout` (logged here, at most once a second). */
  timedOut(conn: PendingHello): void {
    const o = this.#ctx.options;
    this.#timeoutLog.warn(
      o.logger,
      { code: "HANDSHAKE_TIMEOUT", remoteAddress: conn.remoteAddress },
      `handshake not completed within ${o.handshakeTimeout} ms`,
    );
  }

  #evictOldest(why: string): void {
    const oldest = this.#waiting.keys().next().value as PendingHello;
    this.done(oldest);
    const stats = this.#ctx.stats;
    stats.helloEvictions++;
    this.#log.warn(
      this.#ctx.options.logger,
      { code: "SERVER_FULL", remoteAddress: oldest.remoteAddress, evictions: stats.helloEvictions },
      `closed the oldest connection waiting for Hello: ${why}`,
    );
    oldest.crowdedOut(`server busy: ${why}`);
  }
}
