// hb-server.mjs as a child process of a bench orchestrator.
import { fork } from "node:child_process";
import { createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./hb-server.mjs", import.meta.url));

export class HbServerProcess {
  /**
   * Starts the server and resolves once it listens.
   *
   * @param {{ options: object, execPath?: string, env?: object, log: string }} o
   *   `options`: HeartbeatServer options (host 127.0.0.1 and port 0 unless given);
   *   `execPath`: the node binary (e.g. a Node 22); `log`: file for its stdout/stderr (pino lines)
   */
  static async start(o) {
    const out = createWriteStream(o.log, { flags: "a" });
    const child = fork(SCRIPT, [JSON.stringify(o.options)], {
      execPath: o.execPath ?? process.execPath,
      env: { ...process.env, ...(o.env ?? {}) },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    const ready = await new Promise((resolve, reject) => {
      child.on("message", (m) => m.type === "ready" && resolve(m));
      child.once("exit", (code) => reject(new Error(`hb server exited with ${code} before listening (see ${o.log})`)));
    });
    return new HbServerProcess(child, ready.port);
  }

  constructor(child, port) {
    this.child = child;
    this.pid = child.pid;
    this.port = port;
  }

  /** server.stats() (a subset), or undefined if it does not answer within 2 s. */
  stats() {
    const child = this.child;
    return new Promise((resolve) => {
      if (!child.connected) return resolve(undefined);
      const timer = setTimeout(() => {
        child.off("message", on);
        resolve(undefined);
      }, 2_000);
      const on = (m) => {
        if (m.type !== "stats") return;
        clearTimeout(timer);
        child.off("message", on);
        resolve(m.stats);
      };
      child.on("message", on);
      child.send({ type: "stats" });
    });
  }

  /** Graceful close (GoAway, drain); resolves with its duration once the process has exited. SIGKILL after `timeoutMs`. */
  close(timeoutMs = 60_000) {
    const child = this.child;
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(0);
      let ms = 0;
      child.on("message", (m) => {
        if (m.type === "closed") ms = m.ms;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve(ms);
      });
      child.send({ type: "close" });
    });
  }
}
