// The server under soak, in a process of its own: a HeartbeatServer with the
// default worker count (one process per CPU) on loopback. Options as JSON in
// HB_OPTIONS. Sends `{ port }` once listening; answers `"sample"` with the
// memory of the primary and of every worker (as they last reported, every
// second) after a full GC in each (soak-worker.mjs), `"close"` by closing
// and exiting.
import cluster from "node:cluster";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { HeartbeatServer, type HeartbeatServerOptions } from "@hb/server";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const options = JSON.parse(process.env.HB_OPTIONS ?? "{}") as HeartbeatServerOptions;
// Workers import soak-worker.mjs: it runs a full GC when asked, before a sample.
const workerModule = new URL("./soak-worker.mjs", import.meta.url);
const server = new HeartbeatServer({ host: "127.0.0.1", workerModule, ...options });
const { port } = await server.listen();
process.send?.({ port });
process.on("message", async (m) => {
  if (m === "sample") {
    // A full GC everywhere, then the workers' first reports taken after it (they report every second).
    const asked = Date.now();
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ soakGc: true });
    gc();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (server.stats().workers ?? []).some((w) => w.reportedAt < asked + 50)) await sleep(100);
    const s = server.stats();
    const own = process.memoryUsage();
    const procs = [{ name: "primary", rss: own.rss, heapUsed: own.heapUsed }];
    for (const w of s.workers ?? []) {
      if (w.process !== undefined) procs.push({ name: w.memberId, rss: w.process.rss, heapUsed: w.process.heapUsed });
    }
    process.send?.({ procs, stats: { connections: s.connections, online: s.online, joined: s.joined, left: s.left, timedOut: s.timedOut } });
  } else if (m === "close") {
    await server.close();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
