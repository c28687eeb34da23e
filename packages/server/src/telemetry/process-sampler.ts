import { getHeapStatistics } from "node:v8";
import { LoopLag } from "./loop-lag.js";

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
   * Event-loop lag over the last complete one-second window (the process's one event-loop delay histogram),
   * seconds: mean, median, 99th percentile and maximum of how late a 10 ms
   * timer fired.
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
 * Samples CPU and memory of this process, and reads its event-loop lag from
 * the process's {@link LoopLag} (the one source of lag figures: the same
 * histogram as `stats().loopLag`). Each {@link ProcessSampler.sample}
 * covers the time since the previous one for CPU, and the last complete
 * one-second window of the lag.
 */
export class ProcessSampler {
  readonly #release = LoopLag.shared().acquire();
  #cpu = process.cpuUsage();
  #at = performance.now();
  #rss = 0;

  /** The sample since the previous call (or since construction). */
  sample(): ProcessSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.#cpu);
    const elapsedUs = Math.max(1, (now - this.#at) * 1_000);
    const mem = this.#memory();
    const lag = LoopLag.shared().last();
    const out: ProcessSample = {
      pid: process.pid,
      uptime: process.uptime(),
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      cpu: (cpu.user + cpu.system) / elapsedUs,
      loopDelay: { mean: lag.mean / 1e3, p50: lag.p50 / 1e3, p99: lag.p99 / 1e3, max: lag.max / 1e3 },
    };
    this.#cpu = process.cpuUsage();
    this.#at = now;
    return out;
  }

  // RSS is read from /proc, which needs a file descriptor: at the process's open-file limit (a connection
  // flood) process.memoryUsage() throws EMFILE. Then the last RSS read stands and the heap comes from V8.
  #memory(): { rss: number; heapUsed: number } {
    try {
      const m = process.memoryUsage();
      this.#rss = m.rss;
      return m;
    } catch {
      this.memoryReadFailures++;
      return { rss: this.#rss, heapUsed: getHeapStatistics().used_heap_size };
    }
  }

  /** Samples whose RSS could not be read (open-file limit reached): they repeat the last RSS read. */
  memoryReadFailures = 0;

  /** Stops measuring (idempotent). */
  stop(): void {
    this.#release();
  }
}
