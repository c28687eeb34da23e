import { HeartbeatClient, type HeartbeatClientOptions } from "@hb/client";
import type { Logger } from "@hb/server";

/** A running demo fleet; {@link DemoFleet.stop} closes its nodes. */
export interface DemoFleet {
  /** Closes every demo node (gracefully). */
  stop(): Promise<void>;
}

const REGIONS = ["eu", "eu", "eu", "us", "us", "us"] as const;

/**
 * A small fleet against `host`:`port`, so that a fresh `npm start` has
 * something to show: six services in two regions and a gateway holding ten
 * sensors. Every 2.5 s something happens: a sensor falls silent (suspect,
 * then timed out, attached again 3 s later) or a service leaves gracefully
 * and comes back 2 s later. Real nodes over TCP, like any other.
 */
export async function startDemoFleet(host: string, port: number, logger: Logger): Promise<DemoFleet> {
  const base = (nodeId: string, metadata: Record<string, string>): HeartbeatClientOptions => ({
    host,
    port,
    nodeId,
    metadata,
    reconnectInterval: 500,
    clientName: "hb-server demo",
  });
  const open = async (options: HeartbeatClientOptions): Promise<HeartbeatClient> => {
    const c = new HeartbeatClient(options);
    c.on("error", (err) => logger.debug({ err: err.message, nodeId: options.nodeId }, "demo node error"));
    await c.connect();
    return c;
  };
  const services = new Map<string, HeartbeatClient>();
  for (const [i, region] of REGIONS.entries()) {
    const id = `svc-${region}-${i}`;
    services.set(id, await open(base(id, { region, role: "service" })));
  }
  const gateway = await open(base("gateway-1", { role: "gateway", region: "eu" }));
  const sensors = Array.from({ length: 10 }, (_, i) => `sensor-${i}`);
  const sensorLabels = { role: "sensor", via: "gateway-1", region: "eu" };
  for (const s of sensors) await gateway.attach(s, sensorLabels);
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => Promise<unknown> | void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) void Promise.resolve(fn()).catch((err: Error) => logger.debug({ err: err.message }, "demo step failed"));
    }, ms);
    timers.add(t);
  };
  gateway.on("attachedTimeout", ({ nodeId }) => later(3_000, () => gateway.attach(nodeId, sensorLabels)));
  let step = 0;
  const tick = setInterval(() => {
    step++;
    if (step % 2 === 1) {
      gateway.setAttachedAlive(sensors[step % sensors.length] as string, false);
      return;
    }
    const ids = [...services.keys()];
    const id = ids[step % ids.length] as string;
    const old = services.get(id) as HeartbeatClient;
    void old.close().then(() =>
      later(2_000, async () => {
        services.set(id, await open(base(id, { region: id.includes("-eu-") ? "eu" : "us", role: "service" })));
      }),
    );
  }, 2_500);
  logger.info({ nodes: services.size + 1 + sensors.length }, "demo fleet started");
  return {
    async stop() {
      stopped = true;
      clearInterval(tick);
      for (const t of timers) clearTimeout(t);
      await Promise.all([...services.values(), gateway].map((c) => c.close().catch(() => {})));
    },
  };
}
