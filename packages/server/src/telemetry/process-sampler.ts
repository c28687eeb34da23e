import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

const RESOLUTION_NS = 10_000_000;

/** One process's vital signs, sampled every second (`ProcessSampler.sample`). Plain numbers (it crosses IPC). */
export interface ProcessSample {
  /** Process id. */
  pid: number;
  /** Seconds since the process started. */
  uptime: number;
  /** Resident set size, bytes. */
  rss: number;
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** CPU time used since the previous sample, as a fraction of one core (0.5 = half a core). */
  cpu: number;
  /**
   * Event-loop lag since the previous sample, seconds: mean, median, 99th
   * percentile and maximum of how late a 10 ms timer fired.
   */
  loopDelay: {
    /** Mean, seconds. */
    mean: number;
    /** Median, seconds. */
    p50: number;
    /** 99th percentile, seconds. */
    p99: number;
    /** Maximum, seconds. */
    max: number;
  };
}

/**
 * Samples the event-loop lag (`perf_hooks.monitorEventLoopDelay` with a
 * 10 ms timer: how late it fires), CPU and memory of this process. Each {@link ProcessSampler.sample}
 * covers the time since the previous one and starts a new window.
 */
export class ProcessSampler {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_NS / 1e6 });
  #cpu = process.cpuUsage();
  #at = performance.now();
  #stopped = false;

  constructor() {
    this.#delay.enable();
  }

  /** The sample since the previous call (or since construction). */
  sample(): ProcessSample {
    const d = this.#delay;
    const now = performance.now();
    const cpu = process.cpuUsage(this.#cpu);
    const elapsedUs = Math.max(1, (now - this.#at) * 1_000);
    const mem = process.memoryUsage();
    // Nanoseconds between two ticks of a 10 ms timer: the lag is what exceeds the 10 ms (an idle
    // loop reads ~10.1 ms). NaN before the first tick.
    const s = (ns: number): number => (Number.isFinite(ns) ? Math.max(0, ns - RESOLUTION_NS) / 1e9 : 0);
    const out: ProcessSample = {
      pid: process.pid,
      uptime: process.uptime(),
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      cpu: (cpu.user + cpu.system) / elapsedUs,
      loopDelay: { mean: s(d.mean), p50: s(d.percentile(50)), p99: s(d.percentile(99)), max: s(d.max) },
    };
    d.reset();
    this.#cpu = process.cpuUsage();
    this.#at = now;
    return out;
  }

  /** Stops measuring (idempotent). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#delay.disable();
  }
}
