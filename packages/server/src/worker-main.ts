/**
 * Entry module of a worker process of a multi-process server (the
 * `workerCount` option), forked by the primary's `WorkerPool`. Says `boot`, waits for
 * its `config` control message, loads the `workerModule` if any, runs a
 * `HeartbeatServer` with its hooks, an {@link IpcBusLink} as member
 * `memberId` and a logger forwarding to the primary (unless the module gives
 * one) on the shared port, reports
 * `listening` (and its stats and a process sample every second), and on `close`
 * closes the server gracefully and exits. Drains and exits too when the
 * primary is gone (its IPC channel closes) or on SIGTERM; ignores SIGINT
 * (Ctrl-C reaches the whole process group: the primary decides). Takes
 * over connections the primary hands it (`adopt`: a resume of a session
 * this worker holds).
 *
 * @packageDocumentation
 */
import cluster from "node:cluster";
import { Socket } from "node:net";
import { HeartbeatServer } from "./heartbeat-server.js";
import { ProcessSampler } from "./telemetry/process-sampler.js";
import { IpcBusLink } from "./workers/ipc-bus-link.js";
import { IpcQuota } from "./workers/ipc-quota.js";
import type { LeveledLogger } from "./workers/json-line-logger.js";
import { forwardingLogger } from "./workers/worker-log.js";
import { loadWorkerSetup } from "./workers/worker-module.js";
import type { WorkerControlMessage } from "./workers/worker-pool.js";

let server: HeartbeatServer | undefined;
// Connection slots are leased from the primary, which counts the whole server's connections.
const quota = new IpcQuota((request) => {
  if (typeof process.send !== "function" || !process.connected) return false;
  process.send({ hbWorker: "lease", request } satisfies WorkerControlMessage);
  return true;
});
let forwarding: LeveledLogger | undefined;
let starting = false;
let closing = false;

function post(message: WorkerControlMessage): void {
  if (typeof process.send === "function" && process.connected) process.send(message);
}

async function closeAndExit(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  try {
    await server?.close();
  } finally {
    process.exit(code);
  }
}

process.on("message", (m: unknown, handle: unknown) => {
  const msg = m as WorkerControlMessage;
  if (typeof msg !== "object" || msg === null || typeof msg.hbWorker !== "string") return;
  if (msg.hbWorker === "adopt") {
    if (handle instanceof Socket) {
      if (server === undefined) {
        quota.release(msg.ip);
        handle.destroy();
      } else server.adopt(handle, msg.bytes, msg.ip);
    }
    return;
  }
  if (msg.hbWorker === "tls") {
    const reload = server === undefined ? Promise.reject(new Error("not started")) : server.reloadTls(msg.tls);
    reload.then(
      () => post({ hbWorker: "tlsReloaded", id: msg.id }),
      (err: unknown) => post({ hbWorker: "tlsReloaded", id: msg.id, error: err instanceof Error ? err.message : String(err) }),
    );
    return;
  }
  if (msg.hbWorker === "leased") {
    quota.answered(msg.answers);
    return;
  }
  if (msg.hbWorker === "close") {
    void closeAndExit(0);
    return;
  }
  if (msg.hbWorker === "reconfigure") {
    try {
      server?.reconfigure(msg.changes);
      if (forwarding !== undefined) forwarding.level = msg.logLevel;
    } catch (err) {
      server?.options.logger.error({ err }, "reconfigure failed in a worker");
    }
    return;
  }
  if (msg.hbWorker !== "config" || starting) return;
  starting = true;
  start(msg).catch((err: unknown) => {
    post({ hbWorker: "error", message: err instanceof Error ? err.message : String(err) });
    void closeAndExit(1);
  });
});

async function start(config: Extract<WorkerControlMessage, { hbWorker: "config" }>): Promise<void> {
  const { memberId } = config;
  const workerId = cluster.worker?.id ?? 0;
  const logger = forwardingLogger(config.logLevel, memberId, (line) => post({ hbWorker: "log", line }));
  forwarding = logger;
  const setup =
    config.workerModule === undefined
      ? {}
      : await loadWorkerSetup(config.workerModule, { memberId, workerId, serverId: config.serverId });
  if (closing) return;
  const s = new HeartbeatServer({
    ...config.options,
    ...setup,
    logger: setup.logger ?? logger,
    workerCount: 1,
    serverId: memberId,
    bus: new IpcBusLink(),
  });
  s.setWorkerRole({
    workerId,
    epoch: config.epoch,
    quota,
    handoff: (target, socket, bytes, ip) => {
      // If the socket cannot be passed on: a coded refusal (SERVER_FULL, retry_after_ms), counted, and its
      // slot freed; its client comes back.
      const failed = (why: string): void => {
        quota.release(ip);
        s.refuseHandoff(socket, why);
      };
      if (!process.connected || typeof process.send !== "function") return failed("the primary is gone");
      try {
        process.send({ hbWorker: "handoff", target, bytes, ip } satisfies WorkerControlMessage, socket, {}, (err) => {
          if (err) failed(`passing the connection failed: ${err.message}`);
        });
      } catch (err) {
        failed(`passing the connection failed: ${(err as Error).message}`);
      }
    },
  });
  server = s;
  const address = await s.listen();
  post({ hbWorker: "listening", port: address.port, address: address.address, family: address.family });
  const sampler = new ProcessSampler();
  setInterval(() => {
    // A report that cannot be made this second is skipped, never a crash of the worker and its connections.
    try {
      const stats = s.stats();
      post({ hbWorker: "stats", connections: stats.connections, stats, process: sampler.sample() });
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "worker stats report failed");
    }
  }, 1_000).unref();
}

process.on("disconnect", () => void closeAndExit(0));
// Ctrl-C reaches the whole process group: the primary decides (its close()
// drains every worker; if it dies instead, "disconnect" above drains this one).
process.on("SIGINT", () => {});
// A SIGTERM for this worker alone (or from a service manager) drains it.
process.on("SIGTERM", () => void closeAndExit(0));
// Messages sent before the listener above existed are lost: ask for the config now.
post({ hbWorker: "boot" });
