// The server under test, alone in its process (the orchestrator pins it to
// one core with taskset). Uses packages/server/dist (build first).
//
// IPC in:  { type: "snapshot", id }  → { type: "snapshot", id, stats, cpu, mem, hr }
//          { type: "stop" }          → closes the server and exits (a --cpu-prof profile is written then)
// IPC out: { type: "ready", port, pid }
import { readFileSync } from "node:fs";
import { HeartbeatServer } from "../../dist/index.js";

// Main thread: [ns on CPU, ns runnable but waiting for a CPU, timeslices] (Linux; zeros elsewhere).
const schedstat = () => {
  try {
    return readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(" ").map(Number);
  } catch {
    return [0, 0, 0];
  }
};

const options = JSON.parse(process.argv[2] ?? "{}");
const server = new HeartbeatServer({
  // The single-process figures; --server '{"workerCount":2}' compares workers.
  workerCount: 1,
  host: "127.0.0.1",
  port: 0,
  // Long enough that no load generator needs to heartbeat during a scenario.
  heartbeatInterval: 600_000,
  heartbeatTimeout: 1_800_000,
  handshakeTimeout: 60_000,
  // The per-connection rate limit is admission policy, not capacity: raised
  // so that it never throttles the load (2 000 frames/s by default).
  rateLimit: { framesPerSecond: 100_000_000, burst: 100_000_000 },
  closeTimeout: 500,
  ...options,
});
const { port } = await server.listen();
process.send({ type: "ready", port, pid: process.pid });

// Event-loop lag in this process, the server's own (issue 10: ≤ 50 ms p99 in every row). The
// histogram holds the intervals between the ticks of a 1 ms timer; lag = interval − resolution.
const { monitorEventLoopDelay } = await import("node:perf_hooks");
const LAG_RESOLUTION_MS = 1;
const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
lag.enable();
const lagAt = (p) => (lag.count === 0 ? 0 : Math.max(0, lag.percentile(p) / 1e6 - LAG_RESOLUTION_MS));

process.on("message", async (m) => {
  if (m.type === "snapshot") {
    if (!process.connected) return;
    const s = server.stats();
    process.send({
      type: "snapshot",
      id: m.id,
      hr: Number(process.hrtime.bigint() / 1000n),
      cpu: process.cpuUsage(),
      sched: schedstat(),
      mem: process.memoryUsage().rss,
      lagP50: lagAt(50),
      lagP99: lagAt(99),
      lagMax: lag.count === 0 ? 0 : Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS),
      lagSamples: lag.count,
      stats: {
        connections: s.connections,
        framesIn: s.framesIn,
        framesOut: s.framesOut,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        routed: s.routed,
        deliveries: s.deliveries,
        dropped: s.dropped,
        subscriptions: s.subscriptions,
        windowUpdates: s.windowUpdates,
        reassembled: s.reassembled,
        errors: s.errors,
      },
    });
    lag.reset();
  } else if (m.type === "stop") {
    const t = setTimeout(() => process.exit(0), 3000);
    await server.close().catch(() => {});
    clearTimeout(t);
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
