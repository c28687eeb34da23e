import cluster, { type Worker } from "node:cluster";
import { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import type { Logger } from "../core/ports/logger.js";
import type { ServerStats, WorkerStats } from "../core/ports/server-stats.js";
import type { LiveServerOptions } from "../options/live-options.js";
import type { HeartbeatServerOptions, ResolvedServerOptions } from "../options/server-options.js";
import type { ProcessSample } from "../telemetry/process-sampler.js";
import { IpcBusHub } from "./ipc-bus-hub.js";
import { relayWorkerLog, workerLogLevel } from "./worker-log.js";
import { workerShare } from "./worker-share.js";

/**
 * Control messages between the primary and a worker of a multi-process
 * server, on the worker's IPC channel next to the bus's (which ignores
 * them: they lack its tag).
 */
export type WorkerControlMessage =
  /** Worker → primary: loaded and listening for control messages (earlier ones would be lost). */
  | { hbWorker: "boot" }
  /**
   * Primary → worker: the options to run with (serialisable ones only), the
   * bus member id, the `workerModule` URL, the primary's `serverId`, and
   * the level to log at (records are forwarded with `log`).
   */
  | {
      hbWorker: "config";
      options: HeartbeatServerOptions;
      memberId: string;
      workerModule: string | undefined;
      serverId: string;
      logLevel: string;
    }
  /** Primary → worker: close gracefully, then exit. */
  | { hbWorker: "close" }
  /** Primary → worker: apply live option changes (its share of `maxConnections`) and log at `logLevel`. */
  | { hbWorker: "reconfigure"; changes: LiveServerOptions; logLevel: string }
  /** Worker → primary: listening on `port`. */
  | { hbWorker: "listening"; port: number; address: string; family: string }
  /** Worker → primary: starting failed. */
  | { hbWorker: "error"; message: string }
  /** Worker → primary: its connection count, stats and process sample (sent every second). */
  | { hbWorker: "stats"; connections: number; stats?: ServerStats; process?: ProcessSample }
  /** Worker → primary: one log record, a pino JSON line (relayed to the primary's logger). */
  | { hbWorker: "log"; line: string }
  /**
   * Worker → primary, with the socket as handle: a connection whose Hello
   * resumes a session of worker `target`, and the bytes read from it.
   */
  | { hbWorker: "handoff"; target: number; bytes: Uint8Array }
  /** Primary → worker, with the socket as handle: take over this connection, feeding `bytes` first. */
  | { hbWorker: "adopt"; bytes: Uint8Array };

/** Restart policy of crashed workers. */
export const RESTART = {
  /** First backoff, ms (doubles per crash). */
  minDelay: 100,
  /** Largest backoff, ms. */
  maxDelay: 10_000,
  /** A worker up this long resets the backoff, ms. */
  stableUptime: 30_000,
  /** Give up restarting after this many crashes within `window`. */
  maxCrashes: 10,
  /** Crash-counting window, ms. */
  window: 60_000,
} as const;

/** The bound address reported by the workers. */
export interface PoolAddress {
  /** Address. */
  address: string;
  /** `IPv4` / `IPv6`. */
  family: string;
  /** The shared port. */
  port: number;
}

interface Slot {
  worker: Worker;
  startedAt: number;
  connections: number;
  report: WorkerStats;
}

function isControl(m: unknown): m is WorkerControlMessage {
  return typeof m === "object" && m !== null && typeof (m as { hbWorker?: unknown }).hbWorker === "string";
}

/** The worker entry module: the .ts source under tsx, the built file otherwise. */
function workerEntry(): { exec: string; execArgv: string[] } {
  const url = import.meta.url;
  if (url.endsWith(".ts")) {
    return { exec: fileURLToPath(new URL("../worker-main.ts", url)), execArgv: ["--import", "tsx"] };
  }
  // Bundled by tsup: this code lives in dist/*.js, the entry is dist/worker-main.js.
  return { exec: fileURLToPath(new URL("./worker-main.js", url)), execArgv: [] };
}

/**
 * The primary's side of a multi-process server (`workerCount` > 1): forks
 * `node:cluster` workers running the worker entry (src/worker-main.ts),
 * attaches each to an {@link IpcBusHub} right after forking, hands it its
 * options over IPC once it says `boot`, and restarts crashed workers with backoff
 * ({@link RESTART}). Workers share the listening port (node:cluster
 * round-robin; port 0 is shared too: every worker gets the same port).
 */
export class WorkerPool {
  /** The hub the workers join. */
  readonly hub = new IpcBusHub();
  /** Connections passed between workers (resumes landing on another worker than their session's). */
  handedOff = 0;
  readonly #count: number;
  #options: HeartbeatServerOptions;
  readonly #logger: Logger;
  readonly #workerModule: string | undefined;
  readonly #serverId: string;
  readonly #slots = new Map<number, Slot>();
  #closing = false;
  #delay: number = RESTART.minDelay;
  #crashes: number[] = [];
  #address: PoolAddress | undefined;
  #restartTimers = new Set<NodeJS.Timeout>();

  /**
   * @param resolved - the primary's options: `workerCount`, `workerModule`, `serverId` and `logger` are used here
   * @param options - the options as given, passed on to the workers (serialisable ones;
   *   `workerCount`, `workerModule`, `serverId` and `logger` are dropped; each
   *   worker gets its share of the connection limits, see `workerShare`)
   */
  constructor(resolved: ResolvedServerOptions, options: HeartbeatServerOptions) {
    this.#count = resolved.workerCount;
    const { workerCount: _w, workerModule: _m, serverId: _s, logger: _l, ...rest } = options;
    // The connection limits are the server's: round-robin spreads connections evenly, so each worker takes its share.
    const { maxConnections, maxPendingHellos, maxPendingHelloBytes } = resolved;
    this.#options = { ...rest, ...workerShare({ maxConnections, maxPendingHellos, maxPendingHelloBytes }, resolved.workerCount) };
    this.#logger = resolved.logger;
    this.#workerModule = resolved.workerModule;
    this.#serverId = resolved.serverId;
  }

  /** Forks the workers; resolves with the shared address once every one listens. */
  async start(): Promise<PoolAddress> {
    if (!cluster.isPrimary) throw new Error("workerCount > 1 needs the primary process (this is a cluster worker)");
    const { exec, execArgv } = workerEntry();
    cluster.setupPrimary({ exec, execArgv, serialization: "advanced" });
    const started: Promise<PoolAddress>[] = [];
    for (let i = 0; i < this.#count; i++) started.push(this.#fork());
    let addresses: PoolAddress[];
    try {
      addresses = await Promise.all(started);
    } catch (err) {
      await this.close(1_000);
      throw err;
    }
    const ports = new Set(addresses.map((a) => a.port));
    if (ports.size !== 1) {
      await this.close(1_000);
      throw new Error(`workers listen on different ports: ${[...ports].join(", ")}`);
    }
    this.#address = addresses[0];
    return addresses[0] as PoolAddress;
  }

  /** The shared address, once started. */
  address(): PoolAddress | undefined {
    return this.#address;
  }

  /** Number of live workers. */
  get workers(): number {
    return this.#slots.size;
  }

  /** Connections over every worker, as last reported (each reports every second). */
  connections(): number {
    let n = 0;
    for (const s of this.#slots.values()) n += s.connections;
    return n;
  }

  /**
   * Sends live option changes to every worker (each gets its share of
   * the connection limits, see `workerShare`) with the primary logger's current level; workers
   * forked later start with them.
   */
  reconfigure(changes: LiveServerOptions): void {
    const share = workerShare(changes, this.#count);
    this.#options = { ...this.#options, ...share, rateLimit: { ...this.#options.rateLimit, ...share.rateLimit } };
    const message: WorkerControlMessage = { hbWorker: "reconfigure", changes: share, logLevel: workerLogLevel(this.#logger) };
    for (const { worker } of this.#slots.values()) {
      if (worker.isConnected()) worker.send(message, (err: Error | null) => {
        if (err) this.#logger.warn({ err, memberId: `w${worker.id}` }, "could not reconfigure a worker");
      });
    }
  }

  /** Each live worker as last reported (see `ServerStats.workers`). */
  workerStats(): WorkerStats[] {
    return [...this.#slots.values()].map((s) => s.report);
  }

  #fork(): Promise<PoolAddress> {
    const worker = cluster.fork();
    this.hub.attach(worker);
    const memberId = `w${worker.id}`;
    const startedAt = Date.now();
    const report: WorkerStats = { memberId, pid: worker.process.pid ?? 0, startedAt, reportedAt: 0, stats: undefined, process: undefined };
    const slot: Slot = { worker, startedAt, connections: 0, report };
    this.#slots.set(worker.id, slot);
    const listening = new Promise<PoolAddress>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void =>
        reject(new Error(`worker ${memberId} exited before listening (${signal ?? code})`));
      worker.once("exit", onExit);
      worker.on("message", (m: unknown, handle: unknown) => {
        if (!isControl(m)) return;
        if (m.hbWorker === "handoff") {
          this.#handoff(worker, m.target, m.bytes, handle);
          return;
        }
        if (m.hbWorker === "boot") {
          worker.send({
            hbWorker: "config",
            options: this.#options,
            memberId,
            workerModule: this.#workerModule,
            serverId: this.#serverId,
            logLevel: workerLogLevel(this.#logger),
          } satisfies WorkerControlMessage);
        } else if (m.hbWorker === "listening") {
          worker.off("exit", onExit);
          resolve({ address: m.address, family: m.family, port: m.port });
        } else if (m.hbWorker === "error") {
          worker.off("exit", onExit);
          reject(new Error(`worker ${memberId}: ${m.message}`));
        } else if (m.hbWorker === "stats") {
          slot.connections = m.connections;
          slot.report = { ...report, reportedAt: Date.now(), stats: m.stats, process: m.process };
        } else if (m.hbWorker === "log") {
          relayWorkerLog(this.#logger, m.line, memberId);
        }
      });
    });
    worker.on("exit", (code, signal) => this.#exited(slot, code, signal));
    worker.on("error", (err) => this.#logger.warn({ err, memberId }, "worker channel error"));
    return listening;
  }

  // To the worker holding the session, or back to the sender when that one is gone (a fresh session there).
  #handoff(from: Worker, target: number, bytes: Uint8Array, handle: unknown): void {
    if (!(handle instanceof Socket)) return;
    const to = this.#slots.get(target)?.worker;
    const dest = to !== undefined && to.isConnected() ? to : from;
    if (!dest.isConnected()) {
      handle.destroy();
      return;
    }
    this.handedOff++;
    dest.send({ hbWorker: "adopt", bytes } satisfies WorkerControlMessage, handle, {}, (err) => {
      if (err) handle.destroy();
    });
  }

  #exited(slot: Slot, code: number | null, signal: string | null): void {
    this.#slots.delete(slot.worker.id);
    if (this.#closing) return;
    const now = Date.now();
    this.#logger.error({ memberId: `w${slot.worker.id}`, code, signal }, "worker exited; restarting");
    if (now - slot.startedAt >= RESTART.stableUptime) this.#delay = RESTART.minDelay;
    this.#crashes = this.#crashes.filter((t) => now - t < RESTART.window);
    this.#crashes.push(now);
    if (this.#crashes.length > RESTART.maxCrashes) {
      this.#logger.error({ crashes: this.#crashes.length }, "workers crash too often: not restarting");
      return;
    }
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, RESTART.maxDelay);
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (this.#closing) return;
      this.#fork().catch((err) => this.#logger.error({ err }, "restarted worker failed to listen"));
    }, delay);
    this.#restartTimers.add(timer);
  }

  /**
   * Stops restarting, tells every worker to close (each drains, announces
   * its nodes left `server_shutdown` and exits), waits for the exits up to
   * `timeout` ms plus a grace of 2 s, SIGKILLs leftovers, then closes the hub.
   */
  async close(timeout: number): Promise<void> {
    this.#closing = true;
    for (const t of this.#restartTimers) clearTimeout(t);
    this.#restartTimers.clear();
    const exits: Promise<void>[] = [];
    for (const { worker } of this.#slots.values()) {
      if (worker.isDead()) continue;
      exits.push(new Promise<void>((resolve) => worker.once("exit", () => resolve())));
      try {
        worker.send({ hbWorker: "close" } satisfies WorkerControlMessage);
      } catch {
        // Channel gone: the exit comes anyway.
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeout + 2_000);
    });
    const result = await Promise.race([Promise.all(exits), deadline]);
    clearTimeout(timer);
    if (result === "timeout") {
      const left = [...this.#slots.values()].filter((s) => !s.worker.isDead());
      for (const s of left) s.worker.process.kill("SIGKILL");
      await Promise.all(exits);
    }
    await this.hub.close();
  }
}
