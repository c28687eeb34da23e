// One hb server for cross-server.bench.ts, in its own process: a
// HeartbeatServer on a RedisBus (with `workerCount` workers behind it).
// argv[2]: JSON { serverId, workerCount, redisUrl, prefix }. Says
// { type: "ready", port } once listening; answers { type: "cpu" } with its
// own (the primary's) CPU time in µs and its drop and bus counters;
// { type: "close" } closes and exits.
import { HeartbeatServer } from "../../src/index.js";
import { RedisBus } from "../../src/redis.js";

const { serverId, workerCount, redisUrl, prefix } = JSON.parse(process.argv[2] ?? "{}") as {
  serverId: string;
  workerCount: number;
  redisUrl: string;
  prefix: string;
};
const server = new HeartbeatServer({
  host: "127.0.0.1",
  port: 0,
  serverId,
  workerCount,
  bus: new RedisBus({ redis: redisUrl, prefix }),
  heartbeatInterval: 600_000,
  heartbeatTimeout: 1_800_000,
  // Admission policy, not capacity: out of the way of the load.
  rateLimit: { framesPerSecond: 100_000_000, burst: 100_000_000 },
  closeTimeout: 500,
  // Room for every message of a run in a receiver's queue: the bench measures
  // throughput, and nothing paces senders to their remote receivers.
  channelMaxQueueSize: 100_000,
});
const { port } = await server.listen();
process.send?.({ type: "ready", port });
process.on("message", async (m: { type: string }) => {
  if (m.type === "cpu") {
    const u = process.cpuUsage();
    const stats = server.stats();
    process.send?.({ type: "cpu", us: u.user + u.system, dropped: stats.dropped, bus: stats.bus });
  } else if (m.type === "close") {
    await server.close();
    process.exit(0);
  }
});
