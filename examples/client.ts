// The seed's client quick start: connect to an hb server, heartbeat, and
// reconnect on its own.
//
//   pnpm example:client            (HB_HOST / HB_PORT / HB_NODE_ID override)
import { HeartbeatClient } from "@hb/client";

const client = new HeartbeatClient({
  host: process.env.HB_HOST ?? "127.0.0.1",
  port: Number(process.env.HB_PORT ?? 9501),
  nodeId: process.env.HB_NODE_ID ?? `example-${process.pid}`,
  metadata: { role: "example", pid: String(process.pid) },
  heartbeatInterval: 10_000, // the seed's heartbeat_interval
  autoReconnect: true, // auto_reconnect
  reconnectInterval: 5_000, // reconnect_interval: the base of a jittered exponential backoff
});

client.on("welcome", (w) => console.log(`welcome: node ${w.nodeId}, interval ${w.heartbeatInterval} ms${w.resumed ? " (resumed)" : ""}`));
client.on("heartbeat", (h) => console.log(`heartbeat #${h.seq}: rtt ${h.rtt.toFixed(2)} ms`));
client.on("disconnect", (d) => console.log(`disconnected: ${d.reason}`));
client.on("reconnecting", (r) => console.log(`reconnecting: attempt ${r.attempt} in ${Math.round(r.delay)} ms`));
client.on("error", (e) => console.error(`error ${e.codeName}: ${e.message}`));

await client.connect();

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, async () => {
    await client.close(); // says Goodbye: reported "left", not "timed out"
    process.exit(0);
  });
}
