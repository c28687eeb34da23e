// The server under soak, in a process of its own: a HeartbeatServer with the
// default worker count (one process per CPU) on loopback. Options as JSON in
// HB_OPTIONS. Sends `{ port }` once listening; answers `"sample"` with the
// memory of the primary and of every worker (as they last reported, every
// second), `"close"` by closing and exiting.
import { HeartbeatServer, type HeartbeatServerOptions } from "@hb/server";

const options = JSON.parse(process.env.HB_OPTIONS ?? "{}") as HeartbeatServerOptions;
const server = new HeartbeatServer({ host: "127.0.0.1", ...options });
const { port } = await server.listen();
process.send?.({ port });
process.on("message", async (m) => {
  if (m === "sample") {
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
