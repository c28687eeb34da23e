// RTT samplers for bench:scale: `count` real HeartbeatClients (@hb/client,
// default options but the heartbeat interval) in one lightly loaded process.
// Each Heartbeat/HeartbeatAck round trip (the client's own `heartbeat`
// event, RTT from performance.now()) goes into an HDR histogram. The clients
// reconnect by themselves (default full-jitter backoff) when the server
// restarts. Driven over IPC like fleet-client.mjs:
//
//   in:  { type: "start", spec: { port, count, interval, prefix, deadlineMs } }
//        { type: "histogram" } → { type: "histogram", encoded } (µs) and starts a new one
//        { type: "stop" }      closes every client and exits
//   out: { type: "progress", counters } every 500 ms
import { HeartbeatClient } from "@hb/client";
import hdr from "hdr-histogram-js";
import { newHistogram } from "./load-process.mjs";



process.once("message", async (m) => {
  if (m.type !== "start") return;
  const spec = m.spec;
  setTimeout(() => {
    console.error("hb-sampler: deadline reached, exiting");
    process.exit(3);
  }, spec.deadlineMs).unref();
  let histogram = newHistogram();
  const c = { count: spec.count, ready: 0, readyTotal: 0, pongs: 0, disconnects: 0, reconnecting: 0, errors: {}, refused: {}, cpu: process.cpuUsage() };
  const clients = [];
  for (let i = 0; i < spec.count; i++) {
    const client = new HeartbeatClient({
      host: "127.0.0.1",
      port: spec.port,
      nodeId: `${spec.prefix}-${i}`,
      metadata: { bench: "sampler" },
      heartbeatInterval: spec.interval,
    });
    client.on("welcome", () => c.readyTotal++);
    client.on("heartbeat", ({ rtt }) => {
      histogram.recordValue(Math.max(1, Math.round(rtt * 1000)));
      c.pongs++;
    });
    client.on("disconnect", ({ reason }) => {
      c.disconnects++;
      c.errors[reason] = (c.errors[reason] ?? 0) + 1;
    });
    client.on("error", () => {});
    clients.push(client);
  }
  // First connects, retried until they succeed (later losses reconnect by themselves).
  const first = async (client) => {
    for (;;) {
      try {
        await client.connect();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
      }
    }
  };
  void Promise.all(clients.map(first));
  setInterval(() => {
    c.ready = clients.filter((x) => x.status === "connected").length;
    c.reconnecting = clients.filter((x) => x.status === "reconnecting").length;
    c.cpu = process.cpuUsage();
    if (process.connected) process.send({ type: "progress", counters: c });
  }, 500).unref();
  process.on("message", async (msg) => {
    if (msg.type === "histogram") {
      const encoded = hdr.encodeIntoCompressedBase64(histogram);
      histogram = newHistogram();
      process.send({ type: "histogram", encoded });
    } else if (msg.type === "stop") {
      await Promise.race([Promise.all(clients.map((x) => x.close().catch(() => {}))), new Promise((r) => setTimeout(r, 5_000))]);
      process.exit(0);
    }
  });
});
process.on("disconnect", () => process.exit(0));
