// What `npm start` runs: a real hb server on 127.0.0.1:9501 (HB_PORT to
// change) with a small demo fleet in the same process, printing presence
// changes as they happen. Short timings (1 s interval, 4 s timeout) make the
// changes visible quickly. Ctrl-C drains the server and exits.
//
// The fleet: six nodes in two regions, and one gateway holding ten sensors.
// Every few seconds something happens: a node leaves gracefully and comes
// back, or a sensor behind the gateway falls silent, is reported suspect,
// then timed out, and is attached again later.
import { HeartbeatClient } from "@hb/client";
import { HeartbeatServer, type NodeEvent } from "@hb/server";

const host = process.env.HB_HOST ?? "127.0.0.1";
const port = Number(process.env.HB_PORT ?? 9501);
const runFor = Number(process.env.HB_DEMO_SECONDS ?? 0); // 0: until Ctrl-C

const server = new HeartbeatServer({ host, port, heartbeatInterval: 1_000, heartbeatTimeout: 4_000, heartbeatCheckInterval: 200 });
const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const show = (what: string) => (e: NodeEvent) =>
  console.log(`${stamp()}  ${what.padEnd(9)} ${e.nodeId.padEnd(12)} ${e.reason.padEnd(17)} ${JSON.stringify(e.labels)}`);
server.on("nodeJoined", show("joined"));
server.on("nodeLeft", show("left"));
server.on("nodeSuspect", show("suspect"));
server.on("nodeRecovered", show("recovered"));
server.on("nodeTimeout", show("timeout"));

const addr = await server.listen();
const workers = server.options.workerCount;
console.log(
  `hb demo server on ${addr.address}:${addr.port} (${workers} worker process${workers === 1 ? "" : "es"}) — presence changes follow (Ctrl-C to stop)\n`,
);

const nodeOptions = (id: string, region: string) => ({
  host,
  port: addr.port,
  nodeId: id,
  metadata: { region, role: "service" },
  reconnectInterval: 500,
});

const nodes = new Map<string, HeartbeatClient>();
for (const [i, region] of ["eu", "eu", "eu", "us", "us", "us"].entries()) {
  const id = `svc-${region}-${i}`;
  const c = new HeartbeatClient(nodeOptions(id, region));
  await c.connect();
  nodes.set(id, c);
}

const gateway = new HeartbeatClient({ host, port: addr.port, nodeId: "gateway-1", metadata: { role: "gateway" } });
await gateway.connect();
const sensors = Array.from({ length: 10 }, (_, i) => `sensor-${i}`);
for (const s of sensors) await gateway.attach(s, { role: "sensor", via: "gateway-1" });
gateway.on("attachedTimeout", ({ nodeId }) => {
  // Bring the sensor back a little later, as a device coming back would.
  setTimeout(() => void gateway.attach(nodeId, { role: "sensor", via: "gateway-1" }).catch(() => {}), 3_000);
});

let step = 0;
const timer = setInterval(async () => {
  step++;
  if (step % 2 === 1) {
    // A sensor falls silent: suspect after 1.5 intervals, timed out after 4 s.
    const s = sensors[step % sensors.length] as string;
    gateway.setAttachedAlive(s, false);
  } else {
    // A service leaves gracefully and comes back two seconds later.
    const ids = [...nodes.keys()];
    const id = ids[step % ids.length] as string;
    const old = nodes.get(id) as HeartbeatClient;
    await old.close();
    setTimeout(async () => {
      const c = new HeartbeatClient(nodeOptions(id, id.includes("-eu-") ? "eu" : "us"));
      await c.connect().catch((err) => console.error(`reconnect ${id}: ${err}`));
      nodes.set(id, c);
    }, 2_000);
  }
  if (step % 5 === 0) {
    const s = server.stats();
    console.log(`${stamp()}  -- ${server.count()} nodes registered (${server.count({ state: "online" })} online), ${s.connections} connections`);
  }
}, 2_500);

async function stop(): Promise<void> {
  clearInterval(timer);
  await Promise.all([...nodes.values(), gateway].map((c) => c.close().catch(() => {})));
  await server.close();
  process.exit(0);
}
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
if (runFor > 0) setTimeout(() => void stop(), runFor * 1000);
