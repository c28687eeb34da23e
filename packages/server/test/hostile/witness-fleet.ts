import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The current time in the clock the witnesses use (absolute ms, comparable across processes). */
export const clockNow = (): number => performance.timeOrigin + performance.now();

/**
 * Well-behaved nodes heartbeating every `intervalMs` over their own
 * connections, in a process of their own (witness-process.ts), while a
 * hostile test runs beside them: they measure each Heartbeat → HeartbeatAck
 * round trip, so that a test can compare the p99 of a window with that of a
 * quiet one, and tell whether any witness was disturbed (an error, a close).
 * Windows are in {@link clockNow} time.
 */
export class WitnessFleet {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Starts `n` witnesses (ids `witness-<i>`) on `port`; resolves once all are welcomed and heartbeating. */
  static async start(port: number, n: number, intervalMs = 100): Promise<WitnessFleet> {
    const script = fileURLToPath(new URL("./witness-process.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, WITNESS_PORT: String(port), WITNESS_COUNT: String(n), WITNESS_INTERVAL_MS: String(intervalMs) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("witnesses did not start in 30 s")), 30_000);
      child.once("message", () => {
        clearTimeout(timer);
        resolve();
      });
      child.once("exit", (code) => reject(new Error(`witness process exited with ${code}`)));
    });
    return new WitnessFleet(child);
  }

  /** The round trips (ms) of the heartbeats sent in [from, to). */
  rtts(from: number, to: number): Promise<number[]> {
    return this.#ask<{ rtts: number[] }>({ cmd: "rtts", from, to }).then((r) => r.rtts);
  }

  /** The 99th percentile of the round trips of heartbeats sent in [from, to), and how many there were. */
  async p99(from: number, to: number): Promise<{ p99: number; n: number }> {
    const r = (await this.rtts(from, to)).sort((a, b) => a - b);
    return { p99: r.length === 0 ? Number.NaN : (r[Math.min(r.length - 1, Math.ceil(r.length * 0.99) - 1)] as number), n: r.length };
  }

  /** Heartbeats sent before `before` still unanswered, and witnesses that got an error or were closed. */
  status(before: number): Promise<{ unanswered: number; disturbed: number }> {
    return this.#ask({ cmd: "status", before });
  }

  /** Stops the witnesses and their process. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.send({ cmd: "stop" });
    await exited;
  }

  #ask<T>(message: object): Promise<T> {
    return new Promise((resolve) => {
      this.#child.once("message", (m) => resolve(m as T));
      this.#child.send(message);
    });
  }
}
