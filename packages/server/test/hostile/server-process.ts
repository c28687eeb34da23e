// A HeartbeatServer in a process of its own, so that a test can measure what
// the server alone holds (memory of thousands of sockets) while it floods it
// from the test process. Started with `node --expose-gc --import tsx`
// and an IPC channel; options as JSON in HB_OPTIONS. Sends
// `{ port }` once listening; answers `"sample"` with
// `{ rss, heapUsed, external, arrayBuffers, stats }` taken after a full GC,
// `"stats"` with `{ stats }` (no GC: cheap enough to call during a
// measurement), and `"close"` by closing the server and exiting.
import { HeartbeatServer, type HeartbeatServerOptions } from "../../src/index.js";

const options = JSON.parse(process.env.HB_OPTIONS ?? "{}") as HeartbeatServerOptions;
const server = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", ...options });
const { port } = await server.listen();
const send = (m: unknown) => process.send?.(m);
send({ port });

const gc = (globalThis as { gc?: () => void }).gc;
process.on("message", async (m) => {
  if (m === "sample") {
    gc?.();
    gc?.();
    send({ ...process.memoryUsage(), stats: server.stats() });
  } else if (m === "stats") {
    send({ stats: server.stats() });
  } else if (m === "close") {
    await server.close();
    process.exit(0);
  }
});
// The test process went away: do not linger.
process.on("disconnect", () => process.exit(0));
