/**
 * What {@link Heartbeats} needs from the connection it keeps alive (the
 * nats.js `core/src/heartbeats.ts` idea: a small unit behind a small
 * interface).
 */
export interface HeartbeatPort {
  /** Sends a Heartbeat (and a gateway's BatchHeartbeat); called every interval. */
  beat(): void;
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
 * §6): a Heartbeat every negotiated interval, and dead-server detection
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
  #beat: unknown;
  #deadline: unknown;
  #running = false;

  /**
   * @param port - the connection
   * @param intervalMs - the negotiated heartbeat interval
   * @param timeoutMs - the negotiated timeout: silence after which the server is dead
   * @param timers - Node's by default
   */
  constructor(port: HeartbeatPort, intervalMs: number, timeoutMs: number, timers: HeartbeatTimers = NODE_TIMERS) {
    this.#port = port;
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
    this.#timers = timers;
  }

  /** Starts beating and watching (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#beat = this.#timers.every(() => this.#port.beat(), this.#intervalMs);
    this.#arm();
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
