// The seed's quick start, in TypeScript: an hb server on port 9501 that
// prints every presence change.
//
//   pnpm example:server            (HB_HOST / HB_PORT override the address)
import { HeartbeatServer } from "@hb/server";

const server = new HeartbeatServer({
  host: process.env.HB_HOST ?? "127.0.0.1",
  port: Number(process.env.HB_PORT ?? 9501),
  heartbeatInterval: 10_000, // the seed's heartbeat_interval (10 s)
  heartbeatTimeout: 30_000, // heartbeat_timeout (30 s)
  heartbeatCheckInterval: 1_000, // heartbeat_check_interval: 1 s keeps detection error under 1 s
});

const log = (what: string, e: { nodeId: string; reason: string; labels: Readonly<Record<string, string>> }) =>
  console.log(`${new Date().toISOString()} ${what.padEnd(9)} ${e.nodeId} (${e.reason}) ${JSON.stringify(e.labels)}  online=${server.count()}`);

server.on("nodeJoined", (e) => log("joined", e));
server.on("nodeLeft", (e) => log("left", e));
server.on("nodeSuspect", (e) => log("suspect", e));
server.on("nodeRecovered", (e) => log("recovered", e));
server.on("nodeTimeout", (e) => log("timeout", e));

const addr = await server.listen();
console.log(`hb server listening on ${addr.address}:${addr.port}`);

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, async () => {
    console.log("draining…");
    await server.close();
    process.exit(0);
  });
}
