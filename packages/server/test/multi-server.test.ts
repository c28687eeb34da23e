import { fromBinary } from "@bufbuild/protobuf";
import { HeartbeatClient, type Message, type PresenceNotice } from "@hb/client";
import { DeliveryKind, ErrorCode, ReplySchema, encodeDelivery } from "@hb/codec";
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { IpcBusHub } from "../src/workers/ipc-bus-hub.js";
import { IpcBusLink } from "../src/workers/ipc-bus-link.js";
import type { IpcPort } from "../src/workers/ipc-port.js";
import { HeartbeatServer, type NodeEvent } from "../src/index.js";
import { type MemoryLink, MemoryBus } from "../src/memory.js";
import type { BusEnvelope, BusPresence } from "../src/bus.js";
import { collect, utf8 } from "./channel-helpers.js";
import { start } from "./helpers.js";
import { sleep, waitFor } from "./raw-peer.js";

const text = (m: { payload: Uint8Array }) => new TextDecoder().decode(m.payload);

const servers: HeartbeatServer[] = [];
const clients: HeartbeatClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

// Two servers, "a" and "b", on one in-process bus.
async function pair(options: { authorizeBroadcast?: () => boolean } = {}) {
  const bus = new MemoryBus();
  const a = await start({ serverId: "a", bus: bus.link(), ...options });
  const b = await start({ serverId: "b", bus: bus.link(), ...options });
  servers.push(a.server, b.server);
  return { bus, a, b };
}

async function client(port: number, nodeId: string, metadata?: Record<string, string>): Promise<HeartbeatClient> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, autoReconnect: false, ...(metadata ? { metadata } : {}) });
  c.on("error", () => {});
  clients.push(c);
  await c.connect();
  return c;
}

describe("several servers on one bus (MemoryBus)", () => {
  it("unicast crosses servers both ways; server.send reaches a remote node; unknown nodes stay UNKNOWN_NODE", async () => {
    const { a, b } = await pair();
    const x = await client(a.port, "x");
    const y = await client(b.port, "y");
    await waitFor(() => a.server.get("y") !== undefined && b.server.get("x") !== undefined);
    const atX: Message[] = [];
    const atY: Message[] = [];
    x.on("message", (m) => atX.push(m));
    y.on("message", (m) => atY.push(m));
    await x.send("y", "hello y");
    await waitFor(() => atY.length === 1);
    await y.send("x", "hello x");
    await waitFor(() => atX.length === 1);
    expect(a.server.send("y", "from server a")).toBe(true);
    await waitFor(() => atY.length === 2);
    expect(atY.map((m) => [m.kind, m.from, text(m), m.to])).toEqual([
      ["direct", "x", "hello y", undefined],
      ["direct", "", "from server a", undefined],
    ]);
    expect(atX.map((m) => [m.kind, m.from, text(m)])).toEqual([["direct", "y", "hello x"]]);
    expect(a.server.send("ghost", "?")).toBe(false);
    expect(a.server.stats().bus).toMatchObject({ kind: "memory", health: { state: "ok" } });
    expect(a.server.health()).toEqual({ state: "ok" });
  });

  it("a direct message for an attached node on another server carries to_node_id", async () => {
    const { a, b } = await pair();
    const gw = await client(b.port, "gw");
    await gw.attach("dev-1");
    gw.onRequest((m) => `${m.to} says hi`);
    const asker = await client(a.port, "asker");
    await waitFor(() => a.server.get("dev-1") !== undefined);
    const r = await asker.request({ node: "dev-1" }, "hello", { timeout: 2_000 });
    expect([r.from, r.text()]).toEqual(["dev-1", "dev-1 says hi"]);
  });

  it("publish reaches subscribers on both servers once; a subject request is answered across servers", async () => {
    const { a, b } = await pair();
    const pub = await client(a.port, "pub");
    const sa = await client(a.port, "sa");
    const sb = await client(b.port, "sb");
    const subA = sa.subscribe("news.*");
    const subB = sb.subscribe("news.eu");
    const gotA = collect(subA);
    const gotB = collect(subB);
    await Promise.all([subA.ready, subB.ready]);
    await pub.publish("news.eu", "extra!");
    await waitFor(() => gotA.length === 1 && gotB.length === 1);
    expect(gotB[0]).toMatchObject({ kind: "publish", subject: "news.eu", from: "pub" });
    expect(text(gotB[0] as Message)).toBe("extra!");
    expect(b.server.publish("news.eu", "from b")).toBe(1);
    await waitFor(() => gotA.length === 2 && gotB.length === 2);
    expect(text(gotA[1] as Message)).toBe("from b");
    await sleep(30);
    expect([gotA.length, gotB.length]).toEqual([2, 2]);

    const svc = sb.subscribe("svc.time");
    svc.on("message", (m) => void m.respond(`it is ${text(m)} o'clock`));
    await svc.ready;
    const r = await pub.request({ subject: "svc.time" }, "noon", { timeout: 2_000 });
    expect([r.from, r.text()]).toEqual(["sb", "it is noon o'clock"]);
    sb.onRequest((m) => `pong ${text(m)}`);
    const r2 = await pub.request({ node: "sb" }, "ping", { timeout: 2_000 });
    expect([r2.from, r2.text()]).toEqual(["sb", "pong ping"]);
  });

  it("broadcast crosses servers, not back to its sender", async () => {
    const { a, b } = await pair({ authorizeBroadcast: () => true });
    const admin = await client(a.port, "admin");
    const other = await client(a.port, "other");
    const far = await client(b.port, "far");
    const inbox = new Map<string, string[]>();
    for (const [id, c] of [["admin", admin], ["other", other], ["far", far]] as const) {
      inbox.set(id, []);
      c.on("message", (m) => inbox.get(id)?.push(`${m.kind} ${m.from} ${text(m)}`));
    }
    await admin.broadcast("noon");
    await waitFor(() => inbox.get("far")?.length === 1 && inbox.get("other")?.length === 1);
    expect(b.server.broadcast("from b")).toBe(1);
    await waitFor(() => inbox.get("admin")?.length === 1 && inbox.get("far")?.length === 2);
    await sleep(30);
    expect(inbox.get("far")).toEqual(["broadcast admin noon", "broadcast  from b"]);
    expect(inbox.get("admin")).toEqual(["broadcast  from b"]);
    expect(inbox.get("other")).toEqual(["broadcast admin noon", "broadcast  from b"]);
  });

  it("presence: a node on A is visible via B's get/count/list, its events and a $hb.presence watcher on B", async () => {
    const { a, b } = await pair();
    const seen: NodeEvent[] = [];
    b.server.on("nodeJoined", (e) => seen.push(e));
    b.server.on("nodeLeft", (e) => seen.push(e));
    const early = await client(a.port, "early", { room: "lab" });
    const watcher = await client(b.port, "watcher");
    const watch = watcher.watchPresence({ snapshot: true });
    const events = collect<PresenceNotice>(watch);
    await watch.ready;
    await waitFor(() => events.some((e) => e.nodeId === "early"));
    expect(events.find((e) => e.nodeId === "early")).toMatchObject({ kind: "joined", serverId: "a" });

    const n = await client(a.port, "n1", { room: "lab" });
    await waitFor(() => b.server.get("n1") !== undefined);
    expect(b.server.get("n1")).toMatchObject({ nodeId: "n1", state: "online", labels: { room: "lab" }, serverId: "a" });
    expect(a.server.get("n1")?.serverId).toBeUndefined();
    expect(b.server.count()).toBe(3);
    expect(a.server.count()).toBe(3);
    expect(b.server.count({ state: "online" })).toBe(3);
    expect(b.server.count({ labels: { room: "lab" } })).toBe(2);
    expect(b.server.list().map((x) => x.nodeId).sort()).toEqual(["early", "n1", "watcher"]);
    await waitFor(() => events.some((e) => e.nodeId === "n1" && e.kind === "joined"));
    expect(seen.find((e) => e.nodeId === "n1")).toMatchObject({ reason: "hello", serverId: "a", remote: true });

    await n.close();
    await waitFor(() => b.server.get("n1") === undefined);
    await waitFor(() => events.some((e) => e.nodeId === "n1" && e.kind === "left"));
    expect(events.filter((e) => e.nodeId === "n1").map((e) => `${e.kind} ${e.reason} ${e.serverId}`)).toEqual([
      "joined hello a",
      "left goodbye a",
    ]);
    expect(b.server.count()).toBe(2);
  });

  it("the bus option is validated; without it nothing changes", async () => {
    expect(() => new HeartbeatServer({ bus: {} as never })).toThrow(/bus must be a BusLink/);
    expect(() => new HeartbeatServer({ bus: { kind: "x", start: () => {} } as never })).toThrow(/bus\.send is not a function/);
    const plain = new HeartbeatServer({ workerCount: 1 });
    expect(plain.options.bus).toBeUndefined();
    expect(plain.stats().bus).toBeUndefined();
    expect(plain.health()).toEqual({ state: "ok" });
  });

  it("a server cut off from the bus is degraded, keeps serving locally, and resyncs when back", async () => {
    const { bus, a, b } = await pair();
    const link = a.server.options.bus as MemoryLink;
    await client(a.port, "before");
    await waitFor(() => b.server.get("before") !== undefined);
    link.cutOff("redis down");
    expect(a.server.health()).toEqual({ state: "degraded", detail: "redis down" });
    expect(a.server.stats().bus).toMatchObject({ kind: "memory", health: { state: "degraded" } });
    const during = await client(a.port, "during");
    const local: Message[] = [];
    during.on("message", (m) => local.push(m));
    expect(a.server.send("during", "local still works")).toBe(true);
    await waitFor(() => local.length === 1);
    expect(b.server.get("during")).toBeUndefined();
    link.reconnect();
    await bus.flush();
    await waitFor(() => b.server.get("during") !== undefined);
    expect(b.server.list().map((n) => n.nodeId).sort()).toEqual(["before", "during"]);
    expect(a.server.health().state).toBe("ok");
  });

  it("a relayed request for a node that is gone meanwhile is answered UNKNOWN_NODE over the bus", async () => {
    const { bus, a } = await pair();
    const got: BusEnvelope[] = [];
    const fake = bus.link();
    await fake.start("f", {
      deliver: (e) => got.push(e),
      presence: () => {},
      memberLost: () => {},
      localNodes: () => [],
    });
    const body = encodeDelivery(DeliveryKind.DIRECT, "", "asker", utf8("?"), 42n, "");
    fake.send({ type: "direct", nodeId: "gone", body }, "a");
    await bus.flush();
    expect(got).toHaveLength(1);
    const e = got[0] as BusEnvelope & { type: "reply" };
    expect([e.type, e.nodeId]).toEqual(["reply", "asker"]);
    expect(fromBinary(ReplySchema, e.body)).toMatchObject({ nodeId: "gone", requestId: 42n, errorCode: ErrorCode.UNKNOWN_NODE });
    expect(a.server.stats().dropped.unknownNode).toBe(1);
    await fake.close();
  });

  it("a server that is gone: its nodes are reported offline (server_lost) on the others", async () => {
    const { bus, a, b } = await pair();
    const timeouts: NodeEvent[] = [];
    b.server.on("nodeTimeout", (e) => timeouts.push(e));
    await client(a.port, "doomed");
    await waitFor(() => b.server.get("doomed") !== undefined);
    (a.server.options.bus as ReturnType<MemoryBus["link"]>).kill();
    await bus.flush();
    expect(b.server.get("doomed")).toBeUndefined();
    expect(b.server.count()).toBe(0);
    expect(timeouts).toMatchObject([{ nodeId: "doomed", reason: "server_lost", serverId: "a", remote: true }]);
  });

  it("a takeover is announced as newer than the old holder's join, even when the old holder's clock is ahead", async () => {
    const { bus, a } = await pair();
    const seen: BusPresence[] = [];
    const ahead = bus.link();
    await ahead.start("f", { deliver: () => {}, presence: (e) => seen.push(e), memberLost: () => {}, localNodes: () => [] });
    // Member f's clock runs a minute ahead: its registration of "skewed" looks later than any made now.
    const fTime = Date.now() + 60_000;
    ahead.announce({ kind: "joined", nodeId: "skewed", labels: {}, reason: "hello", time: fTime, memberId: "f" });
    await bus.flush();
    await waitFor(() => a.server.get("skewed") !== undefined);
    await client(a.port, "skewed");
    await bus.flush();
    const takeover = seen.find((e) => e.nodeId === "skewed" && e.kind === "joined" && e.memberId === "a");
    // Later than f's, so f (comparing time, then member id) lets its registration go.
    expect(takeover?.time).toBeGreaterThan(fTime);
    await ahead.close();
  });

  it("a node id taking over from A to B: the newer wins, A's connection gets DUPLICATE_NODE", async () => {
    const { a, b } = await pair();
    const left: NodeEvent[] = [];
    a.server.on("nodeLeft", (e) => left.push(e));
    const first = await client(a.port, "n1");
    await waitFor(() => b.server.get("n1") !== undefined);
    const second = await client(b.port, "n1");
    await waitFor(() => a.server.get("n1")?.serverId === "b");
    await waitFor(() => first.status !== "connected");
    expect(second.status).toBe("connected");
    expect(left).toMatchObject([{ nodeId: "n1", reason: "replaced" }]);
    expect(a.server.count()).toBe(1);
    expect(b.server.count()).toBe(1);
    expect(b.server.get("n1")?.serverId).toBeUndefined();
    // Messages for n1 now go to B.
    const got: Message[] = [];
    second.on("message", (m) => got.push(m));
    expect(a.server.send("n1", "to the new one")).toBe(true);
    await waitFor(() => got.length === 1);
  });
});

// One end of an in-process IPC channel: copies each message (structured clone) and delivers it on a later turn.
class FakeEnd extends EventEmitter implements IpcPort {
  peer: FakeEnd | undefined;
  send(message: unknown, callback: (error: Error | null) => void): boolean {
    const copy = structuredClone(message);
    const peer = this.peer as FakeEnd;
    setImmediate(() => peer.emit("message", copy));
    process.nextTick(callback, null);
    return true;
  }
}

describe("servers as workers of one primary (IpcBusLink through an IpcBusHub, in process)", () => {
  it("unicast, publish and presence cross the IPC bus", async () => {
    const hub = new IpcBusHub();
    const link = () => {
      const primary = new FakeEnd();
      const worker = new FakeEnd();
      primary.peer = worker;
      worker.peer = primary;
      hub.attach(primary);
      return new IpcBusLink({ port: worker });
    };
    try {
      const a = await start({ serverId: "w1", bus: link() });
      servers.push(a.server);
      const b = await start({ serverId: "w2", bus: link() });
      servers.push(b.server);
      const x = await client(a.port, "x");
      const y = await client(b.port, "y");
      await waitFor(() => a.server.get("y")?.serverId === "w2" && b.server.get("x")?.serverId === "w1");
      const atY: Message[] = [];
      y.on("message", (m) => atY.push(m));
      const sub = y.subscribe("t");
      const got = collect(sub);
      await sub.ready;
      await x.send("y", "direct");
      await x.publish("t", "published");
      await waitFor(() => atY.length === 1 && got.length === 1);
      expect([text(atY[0] as Message), text(got[0] as Message)]).toEqual(["direct", "published"]);
      expect(a.server.stats().bus?.kind).toBe("ipc");
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await Promise.all(servers.splice(0).map((s) => s.close()));
    } finally {
      await hub.close();
    }
  });
});
