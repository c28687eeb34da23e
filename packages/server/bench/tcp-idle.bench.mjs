// Server memory per idle TCP node: hb's HeartbeatServer against a bare
// node:net server holding the same number of idle sockets, in one run.
//
//   pnpm bench:tcp-idle                      # 18,000 nodes (the figure)
//   node --expose-gc packages/server/bench/tcp-idle.bench.mjs --nodes 18000 --clients 3
//
// Each server runs in its own process (this file with --role server-*), so
// its RSS holds nothing but the server. Client processes (--role client)
// open the connections from source addresses 127.0.0.2.. (each process may
// open ~20,000 files; ephemeral ports are per source address), send Hello
// and then stay idle, heartbeating every 30 s as a real idle node does. The
// figure is (RSS with N nodes - RSS listening, both after GC) / N.
import { fork } from "node:child_process";
import net from "node:net";
import os from "node:os";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const role = arg("role", "main");
const NODES = Number(arg("nodes", 18_000));
const CLIENTS = Number(arg("clients", 3));
const IDLE_INTERVAL = 30_000;
const gcAll = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc?.();
    await new Promise((r) => setImmediate(r));
  }
};

if (role === "server-bare" || role === "server-hb") {
  let count = () => 0;
  let close = async () => {};
  let port;
  if (role === "server-bare") {
    const sockets = new Set();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on("data", () => {});
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    });
    server.maxConnections = 100_000;
    await new Promise((r) => server.listen(0, "127.0.0.1", 65535, r));
    port = server.address().port;
    count = () => sockets.size;
    close = async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    };
  } else {
    const { HeartbeatServer } = await import("../dist/index.js");
    const server = new HeartbeatServer({
      workerCount: 1, // the RSS of this one process is what is measured
      host: "127.0.0.1",
      port: 0,
      heartbeatInterval: IDLE_INTERVAL,
      heartbeatTimeout: 120_000,
      handshakeTimeout: 60_000,
      rateLimit: { framesPerSecond: 100, burst: 200 },
    });
    port = (await server.listen()).port;
    count = () => server.count();
    close = () => server.close();
  }
  await gcAll();
  const base = process.memoryUsage().rss;
  process.send({ type: "ready", port, base });
  process.on("message", async (m) => {
    if (m.type === "measure") {
      await gcAll();
      const mu = process.memoryUsage();
      process.send({ type: "measured", count: count(), rss: mu.rss, heap: mu.heapUsed, external: mu.external });
    } else if (m.type === "stop") {
      await close();
      process.exit(0);
    }
  });
} else if (role === "client") {
  const [{ encodeFrame, makeFrame }, { port, from, n, hb }] = [await import("@hb/codec"), JSON.parse(arg("spec"))];
  const sockets = [];
  let open = 0;
  const hello = (i) => encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId: `idle-${from}-${i}`, labels: { bench: "idle" }, heartbeatIntervalMs: IDLE_INTERVAL }));
  const addresses = Math.ceil(n / 10_000);
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => {
      const s = net.connect({ port, host: "127.0.0.1", localAddress: `127.0.0.${2 + ((from + i) % addresses) + from * addresses}` }, () => {
        open++;
        if (hb) s.write(hello(i));
        resolve();
      });
      s.on("error", (e) => {
        console.error(`client ${from}: ${e.message}`);
        resolve();
      });
      s.on("data", () => {});
      sockets.push(s);
    });
  }
  let seq = 1n;
  if (hb) {
    setInterval(() => {
      const beat = encodeFrame(makeFrame("heartbeat", { seq: seq++ }));
      for (const s of sockets) if (!s.destroyed) s.write(beat);
    }, IDLE_INTERVAL).unref();
  }
  process.send({ type: "connected", open });
  process.on("message", (m) => {
    if (m.type === "stop") {
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
  });
} else {
  const self = new URL(import.meta.url).pathname;
  const once = (child, type) => new Promise((r) => child.on("message", (m) => m.type === type && r(m)));
  const run = async (kind) => {
    const server = fork(self, ["--role", `server-${kind}`], { execArgv: ["--expose-gc"] });
    const ready = await once(server, "ready");
    const per = Math.ceil(NODES / CLIENTS);
    const clients = [];
    for (let c = 0; c < CLIENTS; c++) {
      const n = Math.min(per, NODES - c * per);
      const spec = JSON.stringify({ port: ready.port, from: c, n, hb: kind === "hb" });
      clients.push(fork(self, ["--role", "client", "--spec", spec]));
    }
    const connected = await Promise.all(clients.map((c) => once(c, "connected")));
    const open = connected.reduce((a, m) => a + m.open, 0);
    // Wait until the server has every node (handshakes done), bounded.
    let m;
    for (let i = 0; i < 120; i++) {
      await new Promise((r) => setTimeout(r, 500));
      server.send({ type: "measure" });
      m = await once(server, "measured");
      if (m.count >= open) break;
    }
    await new Promise((r) => setTimeout(r, 1000));
    server.send({ type: "measure" });
    m = await once(server, "measured");
    for (const c of clients) c.send({ type: "stop" });
    server.send({ type: "stop" });
    await Promise.all([server, ...clients].map((c) => new Promise((r) => c.on("exit", r))));
    return { kind, nodes: m.count, open, perNodeBytes: (m.rss - ready.base) / m.count, rssMiB: m.rss / 2 ** 20, baseMiB: ready.base / 2 ** 20, heapMiB: m.heap / 2 ** 20 };
  };
  const rows = [];
  for (const kind of ["bare", "hb"]) rows.push(await run(kind));
  console.table(rows.map((r) => ({
    server: r.kind === "bare" ? "bare node:net" : "hb HeartbeatServer",
    "idle nodes": r.nodes,
    "RSS listening (MiB)": r.baseMiB.toFixed(1),
    "RSS with nodes (MiB)": r.rssMiB.toFixed(1),
    "heap (MiB)": r.heapMiB.toFixed(1),
    "bytes per node": Math.round(r.perNodeBytes),
  })));
  const [bare, hb] = rows;
  console.log(`hb costs ${Math.round(hb.perNodeBytes - bare.perNodeBytes)} bytes per idle node more than a bare socket (target: <= 3 KB per node in all)`);
  console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}`);
}
