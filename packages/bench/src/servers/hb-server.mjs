// The hb server under test, alone in its process (forked by the bench
// orchestrators; with workers, its primary forks them). Uses @hb/server's
// built dist, default options unless the orchestrator passes some (and a
// pino logger at info, HB_BENCH_LOG_LEVEL, since the default one is silent).
//
//   node hb-server.mjs '<options json>'
//   IPC out: { type: "ready", port, pid } once listening
//   IPC in:  { type: "stats" } → { type: "stats", stats }
//            { type: "close" } → closes gracefully (GoAway, drain), reports { type: "closed", ms }, exits
import { HeartbeatServer } from "@hb/server";
import { pino } from "pino";

const options = JSON.parse(process.argv[2] ?? "{}");
// The default logger is silent: log to stdout (the orchestrator keeps it in a file) to see refusals, crashes and restarts.
const logger = pino({ level: process.env.HB_BENCH_LOG_LEVEL ?? "info" });
const server = new HeartbeatServer({ host: "127.0.0.1", port: 0, logger, ...options });
const { port } = await server.listen();
process.send({ type: "ready", port, pid: process.pid });

process.on("message", async (m) => {
  if (m.type === "stats") {
    const s = server.stats();
    process.send({
      type: "stats",
      stats: { connections: s.connections, nodes: s.nodes, online: s.online, framesIn: s.framesIn, errors: s.errors, socketErrors: s.socketErrors, handedOff: s.handedOff },
    });
  } else if (m.type === "close") {
    const t = performance.now();
    await server.close();
    process.send({ type: "closed", ms: performance.now() - t }, () => process.exit(0));
  }
});
process.on("disconnect", () => void server.close().then(() => process.exit(0)));
