import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { HeartbeatServerOptions, ServerStats } from "../../src/index.js";
import { waitFor } from "../raw-peer.js";
import type { NodesConfig } from "./fixtures/nodes-config.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));

/** A node event as the server process reports it. */
export interface ReportedEvent {
  event: string;
  nodeId: string;
  reason: string;
  time: number;
  lastHeardAt?: number;
}

function spawn(name: string, config: unknown): ChildProcess {
  return fork(fixture(name), [JSON.stringify(config)], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** A HeartbeatServer in its own process (fixtures/server.ts): its events, and commands over IPC. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly events: ReportedEvent[] = [];
  port = 0;
  #next = 1;
  readonly #pending = new Map<number, (m: Record<string, unknown>) => void>();

  private constructor(options: HeartbeatServerOptions) {
    this.child = spawn("server", options);
    this.child.on("message", (m: Record<string, unknown>) => {
      if (typeof m.listening === "number") this.port = m.listening;
      else if (typeof m.event === "string") this.events.push(m as unknown as ReportedEvent);
      else if (typeof m.id === "number") {
        this.#pending.get(m.id)?.(m);
        this.#pending.delete(m.id);
      }
    });
  }

  /** Starts one and waits until it listens. */
  static async start(options: HeartbeatServerOptions): Promise<ServerProcess> {
    const s = new ServerProcess(options);
    await waitFor(() => s.port > 0, 30_000, "the server process to listen");
    return s;
  }

  /** Events named `event` (and with `reason`, if given). */
  of(event: string, reason?: string): ReportedEvent[] {
    return this.events.filter((e) => e.event === event && (reason === undefined || e.reason === reason));
  }

  #call(cmd: string, more: object = {}, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server process: ${cmd} timed out`)), timeoutMs);
      this.#pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.child.send({ id, cmd, ...more });
    });
  }

  /** Blocks the server's event loop for `ms` (a busy-wait inside the process); resolves when it is over. */
  async block(ms: number): Promise<void> {
    await this.#call("block", { ms });
  }

  /** Its `stats()`. */
  async stats(): Promise<ServerStats> {
    return (await this.#call("stats")).stats as ServerStats;
  }

  /** Polls its stats (every 50 ms, at most `timeoutMs`) until `check` holds; returns them. */
  async until(check: (stats: ServerStats) => boolean, what: string, timeoutMs = 30_000): Promise<ServerStats> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stats = await this.stats();
      if (check(stats)) return stats;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Closes it and waits for the process to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    try {
      await this.#call("close", {}, 15_000);
    } catch {
      this.child.kill("SIGKILL");
    }
    await exited;
  }
}

export type { NodesConfig } from "./fixtures/nodes-config.js";

/** Nodes in their own process (fixtures/nodes.ts), frozen and thawed with SIGSTOP / SIGCONT. */
export class NodesProcess {
  readonly child: ChildProcess;
  ready = 0;
  flapped = false;

  private constructor(config: NodesConfig) {
    this.child = spawn("nodes", config);
    this.child.on("message", (m: { ready?: number; flapped?: boolean }) => {
      if (typeof m.ready === "number") this.ready = m.ready;
      if (m.flapped === true) this.flapped = true;
    });
  }

  /** Starts one; with `mode: "heartbeat"` waits until every node has said Hello. */
  static async start(config: NodesConfig): Promise<NodesProcess> {
    const p = new NodesProcess(config);
    if (config.mode !== "flap") await waitFor(() => p.ready === config.count, 60_000, `${config.count} nodes to connect`);
    return p;
  }

  /** Freezes the process (its nodes go silent, their connections stay open). */
  freeze(): void {
    this.child.kill("SIGSTOP");
  }

  /** Thaws it. */
  thaw(): void {
    this.child.kill("SIGCONT");
  }

  /** Kills it and waits for the exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGCONT");
    this.child.kill("SIGKILL");
    await exited;
  }
}
