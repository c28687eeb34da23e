import { HeartbeatClient, type Message, type PresenceNotice } from "@hb/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type HeartbeatServer, type NodeEvent, RedisBus } from "../../src/index.js";
import { collect } from "../channel-helpers.js";
import { start } from "../helpers.js";
import { waitFor } from "../raw-peer.js";
import { startRedis, type TestRedis } from "./redis-server.js";

const LEASE_TTL = 600;
const LEASE_REFRESH = 150;
const text = (m: { payload: Uint8Array }) => new TextDecoder().decode(m.payload);

let redis: TestRedis;
let prefixes = 0;
const servers: HeartbeatServer[] = [];
const clients: HeartbeatClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

// Two HeartbeatServers, "a" and "b", each with its own RedisBus, on a fresh prefix.
async function pair() {
  const prefix = `s${++prefixes}`;
  const link = () => new RedisBus({ redis: redis.url, prefix, leaseTtl: LEASE_TTL, leaseRefresh: LEASE_REFRESH });
  const a = await start({ serverId: "a", bus: link() });
  const b = await start({ serverId: "b", bus: link() });
  servers.push(a.server, b.server);
  return { a, b };
}

async function client(port: number, nodeId: string): Promise<HeartbeatClient> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, autoReconnect: false });
  c.on("error", () => {});
  clients.push(c);
  await c.connect();
  return c;
}

const ids = (server: HeartbeatServer) =>
  server
    .list()
    .map((n) => n.nodeId)
    .sort();

describe("HeartbeatServers over RedisBus", () => {
  it("unicast and channel messages both ways; presence of A's nodes on B", async () => {
    const { a, b } = await pair();
    const x = await client(a.port, "x");
    const y = await client(b.port, "y");
    await waitFor(() => a.server.get("y") !== undefined && b.server.get("x") !== undefined, 3_000, "directory");
    expect(b.server.get("x")).toMatchObject({ serverId: "a", state: "online" });
    expect(a.server.count()).toBe(2);

    const atX: Message[] = [];
    const atY: Message[] = [];
    x.on("message", (m) => atX.push(m));
    y.on("message", (m) => atY.push(m));
    await x.send("y", "to y");
    await y.send("x", "to x");
    await waitFor(() => atX.length === 1 && atY.length === 1, 3_000, "unicast");
    expect([text(atY[0] as Message), atY[0]?.from, text(atX[0] as Message), atX[0]?.from]).toEqual(["to y", "x", "to x", "y"]);

    const subX = x.subscribe("room.*");
    const subY = y.subscribe("room.*");
    const gotX = collect(subX);
    const gotY = collect(subY);
    await Promise.all([subX.ready, subY.ready]);
    await x.publish("room.1", "from x");
    await y.publish("room.2", "from y");
    await waitFor(() => gotX.length === 2 && gotY.length === 2, 3_000, "publish");
    expect(gotY.map((m) => `${m.subject} ${m.from} ${text(m)}`).sort()).toEqual(["room.1 x from x", "room.2 y from y"]);

    const watcher = await client(b.port, "watcher");
    const watch = watcher.watchPresence();
    const events = collect<PresenceNotice>(watch);
    await watch.ready;
    const z = await client(a.port, "z");
    await waitFor(() => events.some((e) => e.nodeId === "z" && e.kind === "joined"), 3_000, "presence");
    expect(events.find((e) => e.nodeId === "z")?.serverId).toBe("a");
    await z.close();
    await waitFor(() => events.some((e) => e.nodeId === "z" && e.kind === "left"), 3_000, "left");
    expect(b.server.stats().bus).toMatchObject({ kind: "redis", health: { state: "ok" } });
  });

  it("server A killed: its nodes are reported offline on B within the lease", async () => {
    const { a, b } = await pair();
    await client(a.port, "a1");
    await client(a.port, "a2");
    await client(b.port, "b1");
    await waitFor(() => b.server.count() === 3, 3_000, "directory");
    const timeouts: NodeEvent[] = [];
    b.server.on("nodeTimeout", (e) => timeouts.push(e));
    // A crashes: no clean leave on the bus.
    (a.server.options.bus as RedisBus).kill();
    const killedAt = performance.now();
    void a.server.close();
    await waitFor(() => timeouts.length === 2, 3_000, "server_lost");
    expect(performance.now() - killedAt).toBeLessThan(LEASE_TTL + 2 * LEASE_REFRESH + 500);
    expect(timeouts.map((e) => `${e.nodeId} ${e.reason} ${e.serverId}`).sort()).toEqual([
      "a1 server_lost a",
      "a2 server_lost a",
    ]);
    expect(ids(b.server)).toEqual(["b1"]);
  });

  it("Redis restarted: presence resynced on both with nothing lost, messages flow again", async () => {
    const { a, b } = await pair();
    const onA = await Promise.all(["a1", "a2", "a3"].map((id) => client(a.port, id)));
    const onB = await Promise.all(["b1", "b2"].map((id) => client(b.port, id)));
    const all = ["a1", "a2", "a3", "b1", "b2"];
    await waitFor(() => ids(a.server).join() === all.join() && ids(b.server).join() === all.join(), 3_000, "directory");

    await redis.kill();
    await waitFor(() => a.server.health().state === "degraded" && b.server.health().state === "degraded", 3_000, "degraded");
    // Local traffic goes on meanwhile, and changes are kept.
    await (onA[2] as HeartbeatClient).close();
    const a4 = await client(a.port, "a4");
    await redis.restart();
    const after = ["a1", "a2", "a4", "b1", "b2"];
    await waitFor(
      () => a.server.health().state === "ok" && b.server.health().state === "ok" && ids(b.server).join() === after.join(),
      5_000,
      "resynced",
    );
    expect(ids(a.server)).toEqual(after);
    expect(b.server.get("a4")?.serverId).toBe("a");

    const got: Message[] = [];
    (onB[0] as HeartbeatClient).on("message", (m) => got.push(m));
    await a4.send("b1", "after the restart");
    await waitFor(() => got.length === 1, 3_000, "message after restart");
    expect(text(got[0] as Message)).toBe("after the restart");
    void onA;
  });
});
