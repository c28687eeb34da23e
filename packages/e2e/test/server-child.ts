// A HeartbeatServer in its own process, so a test can kill it with SIGKILL
// (no GoAway, no FIN handling in user space: the kernel closes the sockets).
// Prints "listening <port>" when ready, then one line per presence event.
import { HeartbeatServer } from "@hb/server";

const server = new HeartbeatServer({
  workerCount: 1, // one process: the test kills exactly the server with SIGKILL
  host: "127.0.0.1",
  port: Number(process.env.HB_PORT ?? 0),
  heartbeatInterval: 200,
  minHeartbeatInterval: 50,
  heartbeatTimeout: 1_000,
  heartbeatCheckInterval: 50,
});
for (const name of ["nodeJoined", "nodeLeft", "nodeTimeout"] as const) {
  server.on(name, (e: { nodeId: string; reason: string }) => process.stdout.write(`${name} ${e.nodeId} ${e.reason}\n`));
}
const addr = await server.listen();
process.stdout.write(`listening ${addr.port}\n`);
