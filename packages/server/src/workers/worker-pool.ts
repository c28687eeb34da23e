import cluster, { type Worker } from "node:cluster";
import { randomInt } from "node:crypto";
import { type Server, Socket, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { ErrorCode, encodeFrame, makeFrame } from "@hb/codec";
import { systemClock } from "../core/ports/clock.js";
import type { TlsOptions } from "node:tls";
import type { Logger } from "../core/ports/logger.js";
import type { ServerStats, WorkerStats } from "../core/ports/server-stats.js";
import type { LiveServerOptions } from "../options/live-options.js";
import type { HeartbeatServerOptions, ResolvedServerOptions } from "../options/server-options.js";
import { retryAfterMs } from "../session/spread-delays.js";
import { ThrottledLog } from "../session/throttled-log.js";
import type { ProcessSample } from "../telemetry/process-sampler.js";
import { reusePortUnsupported } from "../transport/reuse-port.js";
import { ConnectionLeases, type LeaseLimits } from "./connection-leases.js";
import { IpcBusHub } from "./ipc-bus-hub.js";
import type { LeaseAnswer, LeaseRequest } from "./ipc-quota.js";
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
   * Primary → worker: the options to run with (serialisable ones only; the
   * port to bind, `reusePort` true when each worker listens with a socket of
   * its own, false for round-robin), the bus member id, the `workerModule`
   * URL, the primary's `serverId`, the level to log at (records are
   * forwarded with `log`), and the primary's `epoch` (in resume tokens: a
   * token of an earlier primary is never handed off).
   */
  | {
      hbWorker: "config";
      options: HeartbeatServerOptions;
      memberId: string;
      workerModule: string | undefined;
      serverId: string;
      logLevel: string;
      epoch: number;
    }
  /** Primary → worker: replace the TLS context (`HeartbeatServer.reloadTls`); answered by `tlsReloaded`. */
  | { hbWorker: "tls"; id: number; tls: TlsOptions }
  /** Worker → primary: the TLS context was replaced, or `error` why not. */
  | { hbWorker: "tlsReloaded"; id: number; error?: string }
  /** Primary → worker: close gracefully, then exit. */
  | { hbWorker: "close" }
  /** Primary → worker: apply live option changes and log at `logLevel`. */
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
   * resumes a session of worker `target`, the bytes read from it, and the
   * client address its connection slot is counted under.
   */
  | { hbWorker: "handoff"; target: number; bytes: Uint8Array; ip: string }
  /** Primary → worker, with the socket as handle: take over this connection (and its slot), feeding `bytes` first. */
  | { hbWorker: "adopt"; bytes: Uint8Array; ip: string }
  /** Worker → primary: connection slots asked for and given back (the server-wide limits, `ConnectionLeases`). */
  | { hbWorker: "lease"; request: LeaseRequest }
  /** Primary → worker: the answers to a `lease` message's requests. */
  | { hbWorker: "leased"; answers: LeaseAnswer };

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

/** Most resuming connections the primary passes between workers at once; more are refused (`SERVER_FULL`). */
export const MAX_HANDOFFS_IN_TRANSIT = 256;

/** How the workers of a pool share the port. */
export type AcceptMode = "reuseport" | "round-robin";

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
 * ({@link RESTART}).
 *
 * The accept path: on Linux with Node.js ≥ 22.12 every worker listens on the
 * port with a socket of its own (`SO_REUSEPORT`) and the kernel spreads new
 * connections over them: the primary is not in the accept path (with
 * `node:cluster`'s round-robin it accepts every connection and passes it
 * on over IPC, which under a burst queues handles up to its open-file
 * limit; then libuv accepts and closes connections silently, see
 * docs/PERFORMANCE.md). With port 0 the primary picks the port first and
 * holds it until the workers have bound it. Elsewhere (or `reusePort:
 * false`) the workers share the port through round-robin, and the log says
 * so. The primary still passes the few connections whose Hello resumes a
 * session of another worker (at most {@link MAX_HANDOFFS_IN_TRANSIT} at
 * once; beyond, or when it cannot, the connection gets a fatal
 * `SERVER_FULL` with `retry_after_ms`, counted in `handoffRefused`).
 */
// Why one file of ~500 lines: forking, restarting, the control messages, the
// handoffs and their bound, the connection leases and the stats reports all
// act on the same slots of live workers; leases, the hub, logs and shares are
// files of their own.
export class WorkerPool {
  /** The hub the workers join. */
  readonly hub = new IpcBusHub();
  /** Connections passed between workers (resumes landing on another worker than their session's). */
  handedOff = 0;
  /** Connections that could not be passed on (see {@link MAX_HANDOFFS_IN_TRANSIT}): refused with `SERVER_FULL`. */
  handoffRefused = 0;
  /** Tags this primary's resume tokens (with the worker id): tokens of an earlier primary are not handed off. */
  readonly epoch = randomInt(0, 0x10000);
  /** The connections of the whole server, counted against `maxConnections` and `maxConnectionsPerIp`. */
  readonly leases: ConnectionLeases;
  readonly #count: number;
  readonly #resolved: ResolvedServerOptions;
  #mode: AcceptMode = "round-robin";
  #inTransit = 0;
  readonly #handoffLog = new ThrottledLog(systemClock());
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
  #tlsReloads = new Map<number, (error: string | undefined) => void>();
  #nextReload = 1;

  /**
   * @param resolved - the primary's options: `workerCount`, `workerModule`, `serverId` and `logger` are used here
   * @param options - the options as given, passed on to the workers (serialisable ones;
   *   `workerCount`, `workerModule`, `serverId` and `logger` are dropped; each worker gets its share of
   *   the handshake bounds, see `workerShare`)
   * @param limits - the connection limits in force (the primary's live options): the workers lease
   *   every connection from {@link WorkerPool.leases}, so they hold for the whole server
   */
  constructor(resolved: ResolvedServerOptions, options: HeartbeatServerOptions, limits: () => LeaseLimits) {
    this.#count = resolved.workerCount;
    this.leases = new ConnectionLeases(limits);
    const { workerCount: _w, workerModule: _m, serverId: _s, logger: _l, ...rest } = options;
    // maxConnections and maxConnectionsPerIp are the server's, counted here by the leases; the handshake bounds
    // are shared out (the kernel spreads connections evenly over SO_REUSEPORT sockets, as round-robin does).
    const { maxPendingHellos, maxPendingHelloBytes } = resolved;
    this.#options = {
      ...rest,
      ...workerShare({ maxPendingHellos, maxPendingHelloBytes }, resolved.workerCount),
      maxHandshakes: Math.ceil(resolved.maxHandshakes / resolved.workerCount),
    };
    this.#resolved = resolved;
    this.#logger = resolved.logger;
    this.#workerModule = resolved.workerModule;
    this.#serverId = resolved.serverId;
  }

  /** How the workers share the port (decided by {@link WorkerPool.start}). */
  get mode(): AcceptMode {
    return this.#mode;
  }

  /** Forks the workers; resolves with the shared address once every one listens. */
  async start(): Promise<PoolAddress> {
    if (!cluster.isPrimary) throw new Error("workerCount > 1 needs the primary process (this is a cluster worker)");
    const { exec, execArgv } = workerEntry();
    cluster.setupPrimary({ exec, execArgv, serialization: "advanced" });
    const hold = await this.#chooseMode();
    const started: Promise<PoolAddress>[] = [];
    for (let i = 0; i < this.#count; i++) started.push(this.#fork());
    let addresses: PoolAddress[];
    try {
      addresses = await Promise.all(started);
    } catch (err) {
      await this.close(1_000);
      throw err;
    } finally {
      // Every worker has bound the port (or failed): the primary's placeholder goes.
      if (hold !== undefined) await new Promise<void>((resolve) => hold.close(() => resolve()));
    }
    const ports = new Set(addresses.map((a) => a.port));
    if (ports.size !== 1) {
      await this.close(1_000);
      throw new Error(`workers listen on different ports: ${[...ports].join(", ")}`);
    }
    this.#address = addresses[0];
    return addresses[0] as PoolAddress;
  }

  // SO_REUSEPORT where possible (each worker binds the port), else round-robin. With port 0 the primary
  // binds a port with SO_REUSEPORT and holds it (returned) until the workers have bound it too.
  async #chooseMode(): Promise<Server | undefined> {
    const r = this.#resolved;
    const unsupported = reusePortUnsupported();
    if (r.reusePort === false || unsupported !== undefined) {
      this.#mode = "round-robin";
      this.#options.reusePort = false;
      const why = r.reusePort === false ? "reusePort is false" : unsupported;
      const level = r.reusePort === false ? "info" : "warn";
      this.#logger[level]({ accept: "round-robin", why }, "workers share the port through node:cluster round-robin (the primary accepts every connection and passes it on)");
      return undefined;
    }
    this.#mode = "reuseport";
    this.#options.reusePort = true;
    let hold: Server | undefined;
    if (r.port === 0) {
      hold = await listenOn(r.host, 0, true);
      this.#options.port = (hold.address() as { port: number }).port;
    } else if (r.reusePort === undefined) {
      // Unset: the port must be free, as without SO_REUSEPORT (a second server on it fails with EADDRINUSE).
      const probe = await listenOn(r.host, r.port, false);
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    }
    this.#logger.info({ accept: "reuseport", port: this.#options.port }, "each worker listens on the port with SO_REUSEPORT");
    return hold;
  }

  /** Connections being passed between workers now. */
  get inTransit(): number {
    return this.#inTransit;
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
   * Sends live option changes to every worker with the primary logger's
   * current level; workers forked later start with them. (The connection
   * limits are counted here, by {@link WorkerPool.leases}, for the whole server;
   * each worker gets its share of the handshake bounds, see `workerShare`.)
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

  /**
   * Has every live worker replace its TLS context; workers forked later
   * start with it.
   *
   * @throws Error naming the workers where it failed
   */
  async reloadTls(tls: TlsOptions): Promise<void> {
    this.#options = { ...this.#options, tls: { ...this.#options.tls, ...tls } };
    const replies = [...this.#slots.values()].filter((s) => s.worker.isConnected()).map(({ worker }) => {
      const id = this.#nextReload++;
      return new Promise<string | undefined>((resolve) => {
        this.#tlsReloads.set(id, resolve);
        worker.once("exit", () => resolve(undefined));
        worker.send({ hbWorker: "tls", id, tls } satisfies WorkerControlMessage);
      }).then((error) => {
        this.#tlsReloads.delete(id);
        return error === undefined ? undefined : `w${worker.id}: ${error}`;
      });
    });
    const errors = (await Promise.all(replies)).filter((e) => e !== undefined);
    if (errors.length > 0) throw new Error(`TLS reload failed: ${errors.join("; ")}`);
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
          this.#handoff(worker, m.target, m.bytes, m.ip, handle);
          return;
        }
        if (m.hbWorker === "tlsReloaded") {
          this.#tlsReloads.get(m.id)?.(m.error);
          return;
        }
        if (m.hbWorker === "lease") {
          const answers = this.leases.request(worker.id, m.request);
          if (answers.length > 0 && worker.isConnected()) worker.send({ hbWorker: "leased", answers } satisfies WorkerControlMessage);
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
            epoch: this.epoch,
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
  // The connection's slot moves with it.
  #handoff(from: Worker, target: number, bytes: Uint8Array, ip: string, handle: unknown): void {
    if (!(handle instanceof Socket)) return;
    const to = this.#slots.get(target)?.worker;
    const dest = to !== undefined && to.isConnected() ? to : from;
    if (!dest.isConnected()) {
      this.leases.release(from.id, ip);
      this.#refuseHandoff(handle, "the worker holding the session is gone");
      return;
    }
    // Every handle in transit holds a descriptor here: bounded, far below the file limit.
    if (this.#inTransit >= MAX_HANDOFFS_IN_TRANSIT) {
      this.leases.release(from.id, ip);
      this.#refuseHandoff(handle, `more than ${MAX_HANDOFFS_IN_TRANSIT} resuming connections in transit between workers`);
      return;
    }
    this.#inTransit++;
    this.handedOff++;
    // The connection's slot moves with it (back to nobody if it cannot be passed on).
    this.leases.transfer(from.id, dest.id, ip);
    try {
      dest.send({ hbWorker: "adopt", bytes, ip } satisfies WorkerControlMessage, handle, {}, (err) => {
        this.#inTransit--;
        if (err) {
          this.leases.release(dest.id, ip);
          this.#refuseHandoff(handle, `passing the connection failed: ${err.message}`);
        }
      });
    } catch (err) {
      this.#inTransit--;
      this.leases.release(dest.id, ip);
      this.#refuseHandoff(handle, `passing the connection failed: ${(err as Error).message}`);
    }
  }

  // A resuming connection the primary cannot pass on: fatal SERVER_FULL with retry_after_ms (the client comes back).
  #refuseHandoff(socket: Socket, why: string): void {
    this.handoffRefused++;
    this.#handoffLog.warn(this.#logger, { code: "SERVER_FULL", handoffRefused: this.handoffRefused }, `refused a resuming connection: ${why}`);
    if (socket.destroyed) return;
    const message = `server busy: ${why}`;
    const retryAfter = retryAfterMs(this.#resolved.retryAfter);
    socket.on("error", () => {});
    socket.resume();
    socket.end(encodeFrame(makeFrame("error", { code: ErrorCode.SERVER_FULL, message, fatal: true, retryAfterMs: retryAfter })));
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  #exited(slot: Slot, code: number | null, signal: string | null): void {
    this.#slots.delete(slot.worker.id);
    this.leases.dropWorker(slot.worker.id);
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

// Listens on host:port, `reuse`: with SO_REUSEPORT; connections that reach it (none are expected) are closed.
function listenOn(host: string | undefined, port: number, reuse: boolean): Promise<Server> {
  const server = createServer({ pauseOnConnect: true }, (socket) => socket.destroy());
  return new Promise<Server>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, exclusive: true, ...(reuse ? { reusePort: true } : {}) }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
