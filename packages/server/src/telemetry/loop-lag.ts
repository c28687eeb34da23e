import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

/** Resolution of the sampling timer, ms: the lag is how much later than this a timer fires. */
const RESOLUTION_MS = 10;
/** Length of one window, ms. */
const WINDOW_MS = 1_000;

/** Event-loop lag over one window (ms). All 0 before the first window completes. */
export interface LoopLagWindow {
  /** Mean, ms. */
  mean: number;
  /** Median, ms. */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Maximum, ms. */
  max: number;
  /** Length of the window, ms (0: none yet). */
  windowMs: number;
}

const EMPTY: LoopLagWindow = Object.freeze({ mean: 0, p50: 0, p99: 0, max: 0, windowMs: 0 });

/**
 * The event-loop lag of this process: one `perf_hooks.monitorEventLoopDelay`
 * histogram (a 10 ms timer: how late it fires), read in windows of one
 * second. It is the one source of the lag figures: `stats().loopLag`, the
 * `loopLag` event, the `heartbeat_event_loop_lag_*` metrics (through
 * `ProcessSampler`), the `server_lagging` hold of the liveness monitor, and
 * the loop-lag column of `bench:routing` read it.
 *
 * One per process ({@link LoopLag.shared}); it runs while someone holds it
 * ({@link LoopLag.acquire}) and its timer never keeps the process alive.
 */
export class LoopLag {
  static #shared: LoopLag | undefined;
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  readonly #listeners = new Set<(window: LoopLagWindow) => void>();
  #last: LoopLagWindow = EMPTY;
  #windowStart = 0;
  #timer: NodeJS.Timeout | undefined;
  #holders = 0;

  /** The process's monitor. */
  static shared(): LoopLag {
    LoopLag.#shared ??= new LoopLag();
    return LoopLag.#shared;
  }

  /** Whether it is measuring (held by someone). */
  get running(): boolean {
    return this.#holders > 0;
  }

  /**
   * Starts measuring (if not yet) on behalf of a holder.
   *
   * @returns the function that gives it back (idempotent); the monitor stops when the last holder has
   */
  acquire(): () => void {
    if (this.#holders++ === 0) {
      this.#histogram.reset();
      this.#histogram.enable();
      this.#windowStart = performance.now();
      this.#timer = setInterval(() => this.#rotate(), WINDOW_MS);
      this.#timer.unref();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holders > 0) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#histogram.disable();
      this.#last = EMPTY;
    };
  }

  /** The last complete window (about one second; longer when the loop stalled through its end). */
  last(): LoopLagWindow {
    return this.#last;
  }

  /** The window in progress, so far. */
  current(): LoopLagWindow {
    return this.#read(performance.now() - this.#windowStart);
  }

  /**
   * Calls `listener` with every window as it completes (about once a second).
   *
   * @returns the function that removes it
   */
  onWindow(listener: (window: LoopLagWindow) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #rotate(): void {
    const now = performance.now();
    this.#last = this.#read(now - this.#windowStart);
    this.#histogram.reset();
    this.#windowStart = now;
    for (const listener of this.#listeners) {
      try {
        listener(this.#last);
      } catch {
        // A listener's failure is its own (the server's listener counts and logs).
      }
    }
  }

  #read(windowMs: number): LoopLagWindow {
    const h = this.#histogram;
    // Nanoseconds between two ticks of the timer: the lag is what exceeds the resolution. NaN before the first tick.
    const ms = (ns: number): number => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - RESOLUTION_MS) : 0);
    if (h.count === 0) return { ...EMPTY, windowMs };
    return { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), windowMs };
  }
}
