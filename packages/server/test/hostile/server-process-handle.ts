import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { HeartbeatServerOptions, ServerStats } from "../../src/index.js";

/** What {@link ServerProcess.sample} returns: the child's memory after a full GC, and its stats. */
export interface ProcessSampleReply {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  stats: ServerStats;
}

/** A server in a child process (server-process.ts), driven over IPC. */
export class ServerProcess {
  readonly #child: ChildProcess;
  readonly port: number;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
  }

  /** Starts it with `options` (JSON-serialisable ones); resolves once it listens. */
  static async start(options: HeartbeatServerOptions): Promise<ServerProcess> {
    const script = fileURLToPath(new URL("./server-process.ts", import.meta.url));
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", script], {
      env: { ...process.env, HB_OPTIONS: JSON.stringify(options) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("server process did not start in 30 s")), 30_000);
      child.once("message", (m) => {
        clearTimeout(timer);
        resolve((m as { port: number }).port);
      });
      child.once("exit", (code) => reject(new Error(`server process exited with ${code}`)));
    });
    return new ServerProcess(child, port);
  }

  /** Memory after a full GC, and `stats()`. */
  sample(): Promise<ProcessSampleReply> {
    return new Promise((resolve) => {
      this.#child.once("message", (m) => resolve(m as ProcessSampleReply));
      this.#child.send("sample");
    });
  }

  /** `stats()` of the server (no GC first). */
  stats(): Promise<ServerStats> {
    return new Promise((resolve) => {
      this.#child.once("message", (m) => resolve((m as { stats: ServerStats }).stats));
      this.#child.send("stats");
    });
  }

  /** Closes the server and waits for the process to exit (killed after 10 s). */
  async close(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.send("close");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
