/**
 * What {@link Heartbeats} needs from the connection it keeps alive (the
 * nats.js `core/src/heartbeats.ts` idea: a small unit behind a small
 * interface).
 */
export interface HeartbeatPort {
  /**
   * Sends a Heartbeat (and a gateway's BatchHeartbeat); called every
   * interval. `sendTimeUs` is the Heartbeat's `send_time_us` (the unit's
   * clock, echoed in the ack), `lastRttUs` its `last_rtt_us` (0: nothing to
   * report).
   */
  beat(sendTimeUs: number, lastRttUs: number): void;
  /** When bytes last arrived from the server, monotonic ms (the clock's). */
  lastReceivedAt(): number;
  /** Nothing arrived for `timeoutMs`: the server is taken for dead. Called once. */
  dead(timeoutMs: number): void;
}

/** The timers {@link Heartbeats} runs on: Node's by default, a fake clock in tests. */
export interface HeartbeatTimers {
  /** Monotonic time, ms. */
  now(): number;
  /** Calls `fn` every `ms`; returns a handle for `cancel`. */
  every(fn: () => void, ms: number): unknown;
  /** Calls `fn` once after `ms`; returns a handle for `cancel`. */
  after(fn: () => void, ms: number): unknown;
  /** Runs `fn` once pending I/O has been read (`setImmediate`). */
  defer(fn: () => void): void;
  /** Cancels a handle of `every` or `after`. */
  cancel(handle: unknown): void;
}

/** Node's timers. */
export const NODE_TIMERS: HeartbeatTimers = {
  now: () => performance.now(),
  every: (fn, ms) => setInterval(fn, ms),
  after: (fn, ms) => setTimeout(fn, ms),
  defer: (fn) => void setImmediate(fn),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The client's heartbeat logic for one welcomed connection (PROTOCOL.md
 * §6): a Heartbeat every negotiated interval, the round trip of each ack
 * ({@link Heartbeats.acked}), reported once in the next Heartbeat when the
 * server granted feature `heartbeat-rtt` (§6.7), and dead-server detection
 * when nothing at all has arrived for the negotiated timeout.
 *
 * Detection does not reset a timer per frame: one timer fires when the
 * deadline computed from the last received bytes would pass; if bytes
 * arrived meanwhile it is armed again for the remainder. The verdict waits
 * for {@link HeartbeatTimers.defer} (`setImmediate`), i.e. until after the
 * poll phase, so data that arrived during a long event-loop stall is read
 * first.
 */
export class Heartbeats {
  readonly #port: HeartbeatPort;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #timers: HeartbeatTimers;
  readonly #reportRtt: boolean;
  #beat: unknown;
  #deadline: unknown;
  #running = false;
  // The round trip measured since the previous Heartbeat, µs (0: none): reported once.
  #rttToReport = 0;

  /**
   * @param port - the connection
   * @param intervalMs - the negotiated heartbeat interval
   * @param timeoutMs - the negotiated timeout: silence after which the server is dead
   * @param timers - Node's by default
   * @param reportRtt - whether the server granted feature `heartbeat-rtt` (Heartbeats then carry `last_rtt_us`)
   */
  constructor(port: HeartbeatPort, intervalMs: number, timeoutMs: number, timers: HeartbeatTimers = NODE_TIMERS, reportRtt = false) {
    this.#port = port;
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
    this.#reportRtt = reportRtt;
    this.#timers = timers;
  }

  /** Starts beating and watching (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#beat = this.#timers.every(() => this.#sendBeat(), this.#intervalMs);
    this.#arm();
  }

  /**
   * A HeartbeatAck echoing `sendTimeUs`: its round trip in ms, kept for the
   * next Heartbeat's `last_rtt_us`; `undefined` when the echo is not a time
   * of this unit's clock (then nothing is kept).
   */
  acked(sendTimeUs: number): number | undefined {
    const rtt = this.#timers.now() - sendTimeUs / 1_000;
    if (!(rtt >= 0 && Number.isFinite(rtt))) return undefined;
    // µs, at least 1 (0 means none), saturating at the field's uint32 maximum.
    this.#rttToReport = Math.min(0xffff_ffff, Math.max(1, Math.round(rtt * 1_000)));
    return rtt;
  }

  /** Stops both timers (idempotent). */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#timers.cancel(this.#beat);
    this.#timers.cancel(this.#deadline);
    this.#beat = undefined;
    this.#deadline = undefined;
  }

  #sendBeat(): void {
    const lastRttUs = this.#reportRtt ? this.#rttToReport : 0;
    this.#rttToReport = 0;
    this.#port.beat(Math.round(this.#timers.now() * 1_000), lastRttUs);
  }

  #arm(): void {
    const remaining = this.#port.lastReceivedAt() + this.#timeoutMs - this.#timers.now();
    if (remaining > 0) {
      this.#deadline = this.#timers.after(() => this.#timers.defer(() => this.#check()), Math.ceil(remaining));
      return;
    }
    this.stop();
    this.#port.dead(this.#timeoutMs);
  }

  #check(): void {
    if (this.#running) this.#arm();
  }
}
