/**
 * Entry module of a worker process of a multi-process server (the
 * `workerCount` option), forked by the primary's `WorkerPool`. Says `boot`, waits for
 * its `config` control message, runs a `HeartbeatServer` with an
 * {@link IpcBusLink} as member `memberId` on the shared port, reports
 * `listening` (and its connection count every second), and on `close`
 * closes the server gracefully and exits. Exits too when the primary is
 * gone (its IPC channel closes).
 *
 * @packageDocumentation
 */
import { HeartbeatServer } from "../heartbeat-server.js";
import { IpcBusLink } from "./ipc-bus-link.js";
import type { WorkerControlMessage } from "./worker-pool.js";

let server: HeartbeatServer | undefined;
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

process.on("message", (m: unknown) => {
  const msg = m as WorkerControlMessage;
  if (typeof msg !== "object" || msg === null || typeof msg.hbWorker !== "string") return;
  if (msg.hbWorker === "close") {
    void closeAndExit(0);
    return;
  }
  if (msg.hbWorker !== "config" || server !== undefined) return;
  const s = new HeartbeatServer({ ...msg.options, workerCount: 1, serverId: msg.memberId, bus: new IpcBusLink() });
  server = s;
  s.listen().then(
    (address) => {
      post({ hbWorker: "listening", port: address.port, address: address.address, family: address.family });
      setInterval(() => post({ hbWorker: "stats", connections: s.stats().connections }), 1_000).unref();
    },
    (err: unknown) => {
      post({ hbWorker: "error", message: err instanceof Error ? err.message : String(err) });
      void closeAndExit(1);
    },
  );
});

process.on("disconnect", () => void closeAndExit(0));
// Messages sent before the listener above existed are lost: ask for the config now.
post({ hbWorker: "boot" });
