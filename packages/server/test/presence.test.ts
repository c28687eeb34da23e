import { ErrorCode } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import type { HeartbeatServer } from "../src/index.js";
import { FAST, record, start, story } from "./helpers.js";
import { RawPeer, sleep, waitFor } from "./raw-peer.js";

const will = { subject: "nodes.lost", payload: new Uint8Array([1, 2, 3]) };
let servers: HeartbeatServer[] = [];
const peers: RawPeer[] = [];

async function setup(options = {}) {
  const s = await start(options);
  servers.push(s.server);
  return { ...s, log: record(s.server) };
}
async function peer(port: number): Promise<RawPeer> {
  const p = await RawPeer.connect(port);
  peers.push(p);
  return p;
}

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe("presence", () => {
  it("registers a node on Hello and answers with a full Welcome", async () => {
    const { server, port, log } = await setup();
    const p = await peer(port);
    const w = await p.hello({ nodeId: "n1", labels: { zone: "eu" }, heartbeatIntervalMs: 10_000, clientName: "t" });
    expect(w).toMatchObject({
      nodeId: "n1",
      heartbeatIntervalMs: 500, // clamped to timeout / 2
      heartbeatTimeoutMs: 1_000,
      maxFrameSize: 1024 * 1024,
      resumed: false,
      protocolVersion: 1,
      serverId: server.options.serverId,
      resumeGraceMs: 0,
    });
    expect(w.resumeToken).toHaveLength(16);
    expect(w.sessionId.length).toBeGreaterThan(8);
    expect(Math.abs(Number(w.serverTimeMs) - Date.now())).toBeLessThan(1_000);
    expect(story(log, "n1")).toEqual(["nodeJoined hello"]);
    expect(log[0]).toMatchObject({ labels: { zone: "eu" }, handle: 0, sessionId: w.sessionId });
    const info = server.get("n1");
    expect(info).toMatchObject({ nodeId: "n1", state: "online", labels: { zone: "eu" }, connected: true, handle: 0 });
    expect(server.count()).toBe(1);
    expect(server.count({ labels: { zone: "eu" } })).toBe(1);
    expect(server.list({ state: "online" }).map((n) => n.nodeId)).toEqual(["n1"]);
  });

  it("assigns a node id when Hello leaves it empty", async () => {
    const { server, port } = await setup();
    const w = await (await peer(port)).hello();
    expect(w.nodeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(server.get(w.nodeId)?.state).toBe("online");
  });

  it("acks every heartbeat at once, echoing seq and send time", async () => {
    const { server, port } = await setup();
    const p = await peer(port);
    await p.hello({ nodeId: "hb" });
    p.send("heartbeat", { seq: 41n, sendTimeUs: 123456789n });
    const ack = await p.next("heartbeatAck");
    expect(ack.seq).toBe(41n);
    expect(ack.sendTimeUs).toBe(123456789n);
    expect(server.get("hb")?.heartbeats).toBe(1);
  });

  it("reports a graceful leave on Goodbye, without will, and closes the connection", async () => {
    const { server, port, log } = await setup();
    const p = await peer(port);
    await p.hello({ nodeId: "bye", will });
    p.send("goodbye", { reason: "maintenance" });
    await p.closed;
    await waitFor(() => server.get("bye") === undefined);
    expect(story(log, "bye")).toEqual(["nodeJoined hello", "nodeLeft goodbye"]);
  });

  it("times out a silent peer (socket left open) within timeout + check interval, and publishes its will", async () => {
    const { server, port, log } = await setup();
    const p = await peer(port);
    const sent = performance.now();
    await p.hello({ nodeId: "silent", will });
    const err = await p.error(3_000);
    expect(err).toMatchObject({ code: ErrorCode.HEARTBEAT_TIMEOUT, fatal: true });
    await p.closed;
    const timeout = log.find((e) => e.name === "nodeTimeout" && e.nodeId === "silent");
    expect(timeout?.reason).toBe("heartbeat_timeout");
    const delay = (timeout?.at as number) - sent;
    expect(delay).toBeGreaterThanOrEqual(FAST.heartbeatTimeout);
    expect(delay).toBeLessThanOrEqual(FAST.heartbeatTimeout + FAST.heartbeatCheckInterval + 150);
    expect(story(log, "silent")).toEqual([
      "nodeJoined hello",
      "nodeSuspect heartbeat_missed",
      "nodeTimeout heartbeat_timeout",
      "willPublished heartbeat_timeout",
    ]);
    const published = log.find((e) => e.name === "willPublished");
    expect(published).toMatchObject({ subject: "nodes.lost", payload: new Uint8Array([1, 2, 3]) });
    expect(server.get("silent")).toBeUndefined();
    expect(server.stats()).toMatchObject({ timedOut: 1, willsPublished: 1, errors: { HEARTBEAT_TIMEOUT: 1 } });
  });

  it("marks a quiet node suspect after 1.5 × interval and recovered when heard again", async () => {
    const { server, port, log } = await setup();
    const p = await peer(port);
    const w = await p.hello({ nodeId: "flaky", heartbeatIntervalMs: 200 });
    expect(w.heartbeatIntervalMs).toBe(200);
    const t0 = performance.now();
    await waitFor(() => server.get("flaky")?.state === "suspect", 2_000);
    const suspectAt = log.find((e) => e.name === "nodeSuspect")?.at as number;
    expect(suspectAt - t0).toBeGreaterThanOrEqual(300 - 20);
    expect(suspectAt - t0).toBeLessThanOrEqual(300 + FAST.heartbeatCheckInterval + 100);
    p.heartbeat();
    await waitFor(() => server.get("flaky")?.state === "online");
    expect(story(log, "flaky")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeRecovered heartbeat"]);
    expect(server.stats()).toMatchObject({ suspected: 1, recovered: 1 });
  });

  it("stays online while heartbeating at the negotiated interval", async () => {
    const { server, port, log } = await setup();
    const p = await peer(port);
    await p.hello({ nodeId: "steady" });
    const timer = setInterval(() => p.heartbeat(), 200);
    await sleep(1_500);
    clearInterval(timer);
    expect(story(log, "steady")).toEqual(["nodeJoined hello"]);
    expect(server.get("steady")?.state).toBe("online");
  });

  it("publishes the will when the connection is lost, and reports connection_closed", async () => {
    const { server, port, log } = await setup();
    const p = await peer(port);
    await p.hello({ nodeId: "crash", will });
    p.destroy();
    await waitFor(() => server.get("crash") === undefined);
    expect(story(log, "crash")).toEqual(["nodeJoined hello", "nodeLeft connection_closed", "willPublished connection_closed"]);
  });

  it("lets the newer connection win a duplicate id: older gets DUPLICATE_NODE", async () => {
    const { server, port, log } = await setup();
    const older = await peer(port);
    const w1 = await older.hello({ nodeId: "dup", will });
    const newer = await peer(port);
    const w2 = await newer.hello({ nodeId: "dup" });
    const err = await older.error();
    expect(err).toMatchObject({ code: ErrorCode.DUPLICATE_NODE, fatal: true, ref: 0n });
    await older.closed;
    expect(w2.sessionId).not.toBe(w1.sessionId);
    expect(story(log, "dup")).toEqual(["nodeJoined hello", "nodeLeft replaced", "nodeJoined replaced"]);
    expect(server.get("dup")?.sessionId).toBe(w2.sessionId);
    newer.heartbeat();
    await newer.next("heartbeatAck");
  });

  it("resumes within the grace period: never offline, nodeRecovered, same session", async () => {
    const { server, port, log } = await setup({ resumeGrace: 2_000 });
    const p1 = await peer(port);
    const w1 = await p1.hello({ nodeId: "mobile", will });
    expect(w1.resumeGraceMs).toBe(2_000);
    p1.destroy();
    await waitFor(() => server.get("mobile")?.state === "suspect");
    expect(server.get("mobile")?.connected).toBe(false);
    await sleep(1_200); // longer than the heartbeat timeout: grace governs a lost session
    const p2 = await peer(port);
    const w2 = await p2.hello({ nodeId: "mobile", resumeToken: w1.resumeToken, will });
    expect(w2).toMatchObject({ resumed: true, nodeId: "mobile", sessionId: w1.sessionId });
    expect(w2.resumeToken).not.toEqual(w1.resumeToken);
    expect(story(log, "mobile")).toEqual([
      "nodeJoined hello",
      "nodeSuspect connection_closed",
      "nodeRecovered resumed",
    ]);
    expect(server.get("mobile")).toMatchObject({ state: "online", connected: true });
    // The old token is dead now.
    const p3 = await peer(port);
    const w3 = await p3.hello({ nodeId: "other", resumeToken: w1.resumeToken });
    expect(w3.resumed).toBe(false);
  });

  it("times the session out when the grace runs out, publishing the will", async () => {
    const { server, port, log } = await setup({ resumeGrace: 300 });
    const p = await peer(port);
    await p.hello({ nodeId: "gone", will });
    p.destroy();
    await waitFor(() => server.get("gone") === undefined, 3_000);
    expect(story(log, "gone")).toEqual([
      "nodeJoined hello",
      "nodeSuspect connection_closed",
      "nodeTimeout connection_closed",
      "willPublished connection_closed",
    ]);
  });

  it("takes a live session over on resume: the old connection gets DUPLICATE_NODE, no presence events", async () => {
    const { port, log } = await setup();
    const p1 = await peer(port);
    const w1 = await p1.hello({ nodeId: "roam" });
    const p2 = await peer(port);
    const w2 = await p2.hello({ resumeToken: w1.resumeToken });
    expect(w2).toMatchObject({ resumed: true, nodeId: "roam", sessionId: w1.sessionId });
    expect(await p1.error()).toMatchObject({ code: ErrorCode.DUPLICATE_NODE, fatal: true });
    await p1.closed;
    await sleep(50);
    expect(story(log, "roam")).toEqual(["nodeJoined hello"]);
  });

  it("starts a fresh session for an unknown resume token", async () => {
    const { port } = await setup({ resumeGrace: 1_000 });
    const w = await (await peer(port)).hello({ nodeId: "fresh", resumeToken: new Uint8Array(16).fill(7) });
    expect(w.resumed).toBe(false);
  });

  it("treats a fatal ProtocolError from the client as a lost connection (will published)", async () => {
    const { server, port, log } = await setup();
    const p = await peer(port);
    await p.hello({ nodeId: "confused", will });
    p.send("error", { code: ErrorCode.MALFORMED_FRAME, message: "server sent garbage", fatal: true });
    await p.closed;
    await waitFor(() => server.get("confused") === undefined);
    expect(story(log, "confused")).toEqual([
      "nodeJoined hello",
      "nodeLeft connection_closed",
      "willPublished connection_closed",
    ]);
  });

  it("keeps working when an event listener throws", async () => {
    const { server, port } = await setup();
    server.on("nodeJoined", () => {
      throw new Error("listener bug");
    });
    const p = await peer(port);
    await p.hello({ nodeId: "robust" });
    p.heartbeat();
    await p.next("heartbeatAck");
    expect(server.stats().listenerErrors).toBe(1);
    expect(server.get("robust")?.state).toBe("online");
  });
});

describe("close()", () => {
  it("sends GoAway SHUTTING_DOWN with drain_ms, waits for clients, reports nodes left (server_shutdown)", async () => {
    const { server, port, log } = await setup({ closeTimeout: 2_000 });
    const a = await peer(port);
    const b = await peer(port);
    await a.hello({ nodeId: "a", will });
    await b.hello({ nodeId: "b" });
    for (const p of [a, b]) {
      p.next("goAway").then(() => p.end());
    }
    const t0 = performance.now();
    await server.close();
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect(a.received.find((f) => f.body.case === "goAway")?.body.value).toMatchObject({
      code: ErrorCode.SHUTTING_DOWN,
      drainMs: 2_000,
    });
    expect(story(log, "a")).toEqual(["nodeJoined hello", "nodeLeft server_shutdown"]);
    expect(server.count()).toBe(0);
    expect(server.stats().connections).toBe(0);
  });

  it("keeps serving while draining, refuses Attach, and closes the rest at the deadline with SHUTTING_DOWN", async () => {
    const { server, port, log } = await setup({ closeTimeout: 400 });
    const p = await peer(port);
    await p.hello({ nodeId: "stubborn", will });
    const handshaking = await peer(port);
    const t0 = performance.now();
    const closed = server.close();
    expect(await handshaking.error()).toMatchObject({ code: ErrorCode.SHUTTING_DOWN, fatal: true });
    const goAway = await p.next("goAway");
    expect(goAway).toMatchObject({ code: ErrorCode.SHUTTING_DOWN, drainMs: 400 });
    p.heartbeat();
    await p.next("heartbeatAck"); // still served
    p.send("attach", { handle: 1, nodeId: "late" });
    expect(await p.error()).toMatchObject({ code: ErrorCode.SHUTTING_DOWN, fatal: false, ref: 1n });
    expect(await p.error()).toMatchObject({ code: ErrorCode.SHUTTING_DOWN, fatal: true });
    await closed;
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1_500);
    await p.closed;
    // (It went quiet while draining, so it may have been reported suspect first.)
    expect(story(log, "stubborn").at(-1)).toBe("nodeLeft server_shutdown");
    expect(log.some((e) => e.name === "willPublished")).toBe(false);
    await server.close(); // idempotent
  });

  it("refuses new connections while draining", async () => {
    const { server, port } = await setup({ closeTimeout: 300 });
    const p = await peer(port);
    await p.hello({ nodeId: "keeps-open" });
    const closed = server.close();
    await p.next("goAway");
    await expect(RawPeer.connect(port)).rejects.toThrow();
    await closed;
  });
});
