// The contenders of bench:peers, each started alone in its own process on
// 127.0.0.1 with the settings below (the table in docs/PERFORMANCE.md
// repeats them). Each `start()` resolves with { pid, port, version, stop() }.
//
// Fair settings, one heartbeat round trip per connection per `interval`:
//  - hb: HeartbeatServer defaults (heartbeat interval 10 s, timeout 30 s);
//    "hb (1 process)" pins workerCount 1 like the single-process peers,
//    "hb (workers)" runs the default (one worker per core).
//  - Mosquitto (Debian package): listener on 127.0.0.1, anonymous, no
//    persistence, no connection limit, TCP_NODELAY like the others; clients
//    send PINGREQ every interval with a keep-alive of 1.5 × interval.
//  - nats-server (Debian package): defaults (its own PING every 2 min),
//    listen on 127.0.0.1, no connection limit below the fleet; clients PING
//    every interval.
//  - Socket.IO (npm): WebSocket only, no compression, Engine.IO ping every
//    interval (the server-driven heartbeat), pingTimeout 20 s.
import { spawn } from "node:child_process";
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDebianPackage } from "./debian-package.mjs";
import { HbServerProcess } from "./hb-server-process.mjs";

const require = createRequire(import.meta.url);

/** Resolves once something accepts TCP connections on 127.0.0.1:port (polls, ≤ 15 s). */
async function listening(port) {
  const until = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a spawned server: SIGTERM, SIGKILL after 10 s. */
function stopper(child) {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
}

function spawnServer(binary, args, log) {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => log.push(d.toString()));
  child.stderr.on("data", (d) => log.push(d.toString()));
  return child;
}

const tmp = () => mkdtempSync(path.join(os.tmpdir(), "hb-bench-peers-"));

/** @type {{ name: string, protocol: string, start: (o: { port: number, interval: number, log: string[], logFile: string }) => Promise<object> }[]} */
export const PEERS = [
  {
    name: "hb (1 process)",
    protocol: "hb",
    async start({ port, logFile }) {
      const s = await HbServerProcess.start({ options: { port, workerCount: 1 }, log: logFile });
      return { pid: s.pid, port, version: `@hb/server ${require("@hb/server/package.json").version}`, stop: () => s.close() };
    },
  },
  {
    name: "hb (workers)",
    protocol: "hb",
    async start({ port, logFile }) {
      const s = await HbServerProcess.start({ options: { port }, log: logFile });
      return { pid: s.pid, port, version: `@hb/server ${require("@hb/server/package.json").version}, ${os.availableParallelism()} workers`, stop: () => s.close() };
    },
  },
  {
    name: "Mosquitto",
    protocol: "mqtt",
    async start({ port, log }) {
      const bin = ensureDebianPackage("mosquitto", "mosquitto");
      const conf = path.join(tmp(), "mosquitto.conf");
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          "allow_anonymous true",
          "max_connections -1",
          "persistence false",
          "set_tcp_nodelay true",
          "log_dest stderr",
          "log_type error",
          "log_type warning",
          "",
        ].join("\n"),
      );
      const child = spawnServer(bin, ["-c", conf], log);
      await listening(port);
      const version = spawnVersion(bin, ["-h"], /mosquitto version (\S+)/);
      return { pid: child.pid, port, version: `mosquitto ${version}`, stop: stopper(child) };
    },
  },
  {
    name: "NATS",
    protocol: "nats",
    async start({ port, log }) {
      const bin = ensureDebianPackage("nats-server", "nats-server");
      const conf = path.join(tmp(), "nats.conf");
      writeFileSync(conf, [`listen: "127.0.0.1:${port}"`, "max_connections: 1000000", ""].join("\n"));
      const child = spawnServer(bin, ["-c", conf], log);
      await listening(port);
      const version = spawnVersion(bin, ["--version"], /v(\d+\.\d+\.\d+)/);
      return { pid: child.pid, port, version: `nats-server ${version}`, stop: stopper(child) };
    },
  },
  {
    name: "Socket.IO",
    protocol: "socket.io",
    async start({ port, interval }) {
      const script = fileURLToPath(new URL("./socketio-server.mjs", import.meta.url));
      const child = fork(script, [JSON.stringify({ port, pingInterval: interval, pingTimeout: 20_000 })], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      await new Promise((resolve, reject) => {
        child.on("message", (m) => m.type === "ready" && resolve());
        child.once("exit", (code) => reject(new Error(`socket.io server exited with ${code}`)));
      });
      return { pid: child.pid, port, version: `socket.io ${require("socket.io/package.json").version}`, stop: stopper(child) };
    },
  },
];

function spawnVersion(bin, args, re) {
  const r = require("node:child_process").spawnSync(bin, args, { encoding: "utf8" });
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "?";
}
