import { type ChildProcess, fork } from "node:child_process";
import cluster from "node:cluster";
import { fileURLToPath } from "node:url";
import type { IpcSerialization } from "../../src/workers/ipc-bus-message.js";
import type { IpcPort } from "../../src/workers/ipc-port.js";
import type { WorkerCommand } from "./fixtures/ipc-worker.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/ipc-worker.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** What the fixture worker reports on `state`. */
export interface WorkerState {
  view: string[];
  events: string[];
  lost: { memberId: string; nodes: string[] }[];
  delivered: { type: string; body: number[]; from: string; subject?: string; nodeId?: string; exceptNodeId?: string }[];
  stats: Record<string, number>;
  health: { state: string; detail?: string };
}

/**
 * A real worker process running fixtures/ipc-worker.ts (through tsx), for
 * the IPC bus tests, started by `child_process.fork()` or `cluster.fork()`:
 * `port` is what the hub attaches (the ChildProcess, or the cluster
 * Worker); {@link WorkerProcess.call} drives the fixture over the same
 * channel.
 */
export class WorkerProcess {
  /** The channel as the primary sees it. */
  readonly port: IpcPort;
  /** The process. */
  readonly child: ChildProcess;
  /** Resolves once the fixture listens for commands. */
  readonly booted: Promise<void>;
  /** Resolves with the exit code or signal once the process is gone. */
  readonly exited: Promise<string>;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();

  constructor(serialization: IpcSerialization = "advanced", how: "fork" | "cluster" = "fork") {
    const execArgv = ["--import", "tsx"];
    if (how === "cluster") {
      cluster.setupPrimary({ exec: FIXTURE, execArgv, serialization, cwd: ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const worker = cluster.fork();
      this.port = worker;
      this.child = worker.process;
    } else {
      this.child = fork(FIXTURE, [], { cwd: ROOT, execArgv, serialization, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      this.port = this.child;
    }
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve(String(signal ?? code))));
    this.booted = new Promise((resolve, reject) => {
      this.#pending.set(0, { resolve: () => resolve(), reject });
    });
    this.port.on("message", (message: unknown) => {
      const m = message as { fx?: unknown; ok?: boolean; error?: string };
      if (typeof m !== "object" || m === null || typeof m.fx !== "number") return;
      const waiter = this.#pending.get(m.fx);
      if (waiter === undefined) return;
      this.#pending.delete(m.fx);
      if (m.ok === true) waiter.resolve(m as Record<string, unknown>);
      else waiter.reject(new Error(m.error));
    });
    void this.exited.then((how) => {
      for (const w of this.#pending.values()) w.reject(new Error(`worker exited (${how})`));
      this.#pending.clear();
    });
  }

  /** Runs a fixture command; rejects with the fixture's error. */
  call(command: WorkerCommand): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.port.send({ fx: id, ...command }, (err) => {
        if (err) {
          this.#pending.delete(id);
          reject(err);
        }
      });
    });
  }

  /** What the worker's link and member saw so far. */
  async state(): Promise<WorkerState> {
    return (await this.call({ cmd: "state" })) as unknown as WorkerState;
  }

  /** `kill -9`; resolves once the process is gone. */
  async kill9(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Kills the process unless it is already gone. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}
