import { HeartbeatClient, type Message, type PresenceNotice } from "@hb/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import cluster from "node:cluster";
import { HeartbeatServer, type NodeEvent } from "../../src/index.js";
import { RedisBus } from "../../src/redis.js";
import { collect } from "../channel-helpers.js";
import { FAST, start } from "../helpers.js";
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

describe("a server with worker processes over RedisBus", () => {
  // Server "a": 2 worker processes, its primary on the Redis bus for both (the
  // other servers see one member, "a"); server "b": one process.
  async function workersAndSingle() {
    const prefix = `s${++prefixes}`;
    const link = () => new RedisBus({ redis: redis.url, prefix, leaseTtl: LEASE_TTL, leaseRefresh: LEASE_REFRESH });
    // reusePort false: round-robin, so that consecutive clients land on different workers.
    const a = new HeartbeatServer({ ...FAST, workerCount: 2, serverId: "a", bus: link(), reusePort: false });
    servers.push(a);
    const aPort = (await a.listen()).port;
    const b = await start({ serverId: "b", bus: link() });
    servers.push(b.server);
    return { a, aPort, b };
  }

  // Resolves once the server process holding `c` (its worker) knows every node of `ids`: its presence snapshot lists them.
  async function knows(c: HeartbeatClient, ids: string[]): Promise<void> {
    const watch = c.watchPresence({ snapshot: true });
    const got = collect<PresenceNotice>(watch);
    await watch.ready;
    const seen = () => new Set(got.filter((e) => e.kind === "joined").map((e) => e.nodeId));
    await waitFor(() => ids.every((id) => seen().has(id)), 5_000, `${c.nodeId} knows ${ids.join(", ")}`);
    watch.unsubscribe();
  }

  it("messages and presence cross both the workers and the servers; a crashed worker's nodes go offline on B; A's close drains", async () => {
    const { a, aPort, b } = await workersAndSingle();
    expect(a.stats().bus).toMatchObject({ kind: "ipc+redis", health: { state: "ok" } });
    // Round-robin: x1 and x2 land on different workers of A.
    const x1 = await client(aPort, "x1");
    const x2 = await client(aPort, "x2");
    const y = await client(b.port, "y");
    await waitFor(() => a.count() === 3 && b.server.count() === 3, 3_000, "directory");
    expect(new Set([a.get("x1")?.serverId, a.get("x2")?.serverId])).toEqual(new Set(["w1", "w2"]));
    expect([b.server.get("x1")?.serverId, b.server.get("x2")?.serverId]).toEqual(["a", "a"]);
    expect(a.get("y")).toMatchObject({ serverId: "b", state: "online" });
    // The primary knowing them is not enough: each worker learns through the hub a moment later.
    await Promise.all([knows(x1, ["x2", "y"]), knows(x2, ["x1", "y"])]);

    const inbox = new Map<string, string[]>();
    for (const [id, c] of [["x1", x1], ["x2", x2], ["y", y]] as const) {
      inbox.set(id, []);
      c.on("message", (m) => inbox.get(id)?.push(`${m.from || "-"}: ${text(m)}`));
    }
    await y.send("x1", "y to x1");
    await y.send("x2", "y to x2");
    await x1.send("y", "x1 to y");
    await x2.send("y", "x2 to y");
    await x1.send("x2", "x1 to x2");
    b.server.send("x2", "b to x2");
    a.send("y", "a to y");
    await waitFor(() => inbox.get("x1")?.length === 1 && inbox.get("x2")?.length === 3 && inbox.get("y")?.length === 3, 3_000, "unicast");
    expect(inbox.get("x1")).toEqual(["y: y to x1"]);
    expect(inbox.get("x2")?.sort()).toEqual(["-: b to x2", "x1: x1 to x2", "y: y to x2"]);
    expect(inbox.get("y")?.sort()).toEqual(["-: a to y", "x1: x1 to y", "x2: x2 to y"]);

    const subs = [x1, x2, y].map((c) => c.subscribe("room.*"));
    const got = subs.map((s) => collect(s));
    await Promise.all(subs.map((s) => s.ready));
    await x1.publish("room.1", "from x1");
    await y.publish("room.2", "from y");
    a.publish("room.3", "from a");
    await waitFor(() => got.every((g) => g.length === 3), 3_000, "publish");
    for (const g of got) {
      expect(g.map((m) => `${m.subject} ${m.from || "-"} ${text(m)}`).sort()).toEqual([
        "room.1 x1 from x1",
        "room.2 y from y",
        "room.3 - from a",
      ]);
    }

    // kill -9 of the worker holding x1: B reports x1 offline at once (A's uplink announces it), x2 stays.
    const timeouts: NodeEvent[] = [];
    b.server.on("nodeTimeout", (e) => timeouts.push(e));
    const holder = Number(a.get("x1")?.serverId?.slice(1) ?? Number.NaN);
    const worker = cluster.workers?.[holder];
    expect(worker).toBeDefined();
    worker?.process.kill("SIGKILL");
    await waitFor(() => timeouts.length === 1, 3_000, "x1 offline on B");
    expect(timeouts[0]).toMatchObject({ nodeId: "x1", reason: "server_lost", serverId: "a" });
    expect(b.server.get("x2")?.serverId).toBe("a");

    const left: NodeEvent[] = [];
    b.server.on("nodeLeft", (e) => left.push(e));
    await a.close();
    await waitFor(() => left.some((e) => e.nodeId === "x2"), 3_000, "x2 left on B");
    expect(left.find((e) => e.nodeId === "x2")).toMatchObject({ reason: "server_shutdown", serverId: "a" });
    expect(ids(b.server)).toEqual(["y"]);
  }, 30_000);
  it("Redis restarted: A's primary reports degraded, then resyncs its workers' nodes under its own id", async () => {
    const { a, aPort, b } = await workersAndSingle();
    const onA = await Promise.all(["a1", "a2", "a3"].map((id) => client(aPort, id)));
    await client(b.port, "b1");
    const all = ["a1", "a2", "a3", "b1"];
    await waitFor(() => ids(a).join() === all.join() && ids(b.server).join() === all.join(), 3_000, "directory");

    await redis.kill();
    await waitFor(() => a.health().state === "degraded" && b.server.health().state === "degraded", 3_000, "degraded");
    await (onA[0] as HeartbeatClient).close();
    const a4 = await client(aPort, "a4");
    await redis.restart();
    const after = ["a2", "a3", "a4", "b1"];
    // Both links back (B's own resync too: a send before it is dropped and counted, by design).
    await waitFor(
      () => a.health().state === "ok" && b.server.health().state === "ok" && ids(b.server).join() === after.join(),
      5_000,
      "resynced",
    );
    expect(ids(a)).toEqual(after);
    for (const id of ["a2", "a3", "a4"]) expect(b.server.get(id)?.serverId).toBe("a");

    const got: Message[] = [];
    a4.on("message", (m) => got.push(m));
    b.server.send("a4", "after the restart");
    await waitFor(() => got.length === 1, 3_000, "message after restart");
  }, 30_000);
});
