import { afterEach, describe, expect, it } from "vitest";
import { makeFrame } from "@hb/codec";
import { type AttachedTimeoutInfo, ErrorCode, HbError, HeartbeatClient } from "../src/index.js";
import { FakeServer } from "./fake-server.js";
import { next, sleep } from "./helpers.js";

const servers: FakeServer[] = [];
const clients: HeartbeatClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(intervalMs = 40): Promise<{ s: FakeServer; c: HeartbeatClient }> {
  const s = await FakeServer.start({ heartbeatIntervalMs: intervalMs });
  servers.push(s);
  const c = new HeartbeatClient({
    host: "127.0.0.1",
    port: s.port,
    nodeId: "gw",
    reconnectInterval: 20,
    maxReconnectDelay: 50,
    closeTimeout: 200,
  });
  clients.push(c);
  return { s, c };
}

describe("gateway mode", () => {
  it("attaches with client-chosen handles, detaches, and reuses freed handles", async () => {
    const { s, c } = await setup();
    await c.connect();
    const a = await c.attach("dev-a", { kind: "lamp" }, { will: { subject: "dead.dev-a", payload: "x" } });
    const b = await c.attach("dev-b");
    expect(a).toEqual({ nodeId: "dev-a", handle: 1 });
    expect(b).toEqual({ nodeId: "dev-b", handle: 2 });
    const attach = s.frames("attach")[0]?.value;
    expect(attach).toMatchObject({ handle: 1, nodeId: "dev-a", labels: { kind: "lamp" } });
    expect(attach?.will?.subject).toBe("dead.dev-a");
    expect(c.stats().attachedNodes).toBe(2);

    expect(c.detach("dev-a")).toBe(true);
    expect(c.detach("dev-a")).toBe(false);
    await s.until(() => s.frames("detach").length === 1, 1000, "Detach");
    expect(s.frames("detach")[0]?.value.handles).toEqual([1]);
    expect((await c.attach("dev-c")).handle).toBe(1);
    expect(c.attachedNodes().map((n) => [n.nodeId, n.handle, n.state])).toEqual([
      ["dev-b", 2, "attached"],
      ["dev-c", 1, "attached"],
    ]);
  });

  it("sends BatchHeartbeat{all} with each Heartbeat, then only the alive handles", async () => {
    const { s, c } = await setup(40);
    await c.connect();
    await Promise.all([c.attach("a"), c.attach("b"), c.attach("c")]);
    await s.until(() => s.frames("batchHeartbeat").length >= 2, 2000, "batches");
    const all = s.frames("batchHeartbeat")[0]?.value;
    expect(all?.all).toBe(true);
    // Each BatchHeartbeat travels right after a Heartbeat, in the same write.
    const cases = s.received.map((r) => r.frame.body.case);
    const i = cases.indexOf("batchHeartbeat");
    expect(cases[i - 1]).toBe("heartbeat");

    expect(c.setAttachedAlive("b", false)).toBe(true);
    expect(c.setAttachedAlive("nope", false)).toBe(false);
    const before = s.frames("batchHeartbeat").length;
    await s.until(() => s.frames("batchHeartbeat").length >= before + 2, 2000, "more batches");
    const last = s.frames("batchHeartbeat").at(-1)?.value;
    expect(last?.all).toBe(false);
    expect(last?.handles).toEqual([1, 3]);

    c.setAttachedAlive("a", false);
    c.setAttachedAlive("c", false);
    await sleep(60);
    const n = s.frames("batchHeartbeat").length;
    const hb = s.frames("heartbeat").length;
    await sleep(150);
    expect(s.frames("batchHeartbeat").length).toBe(n); // nothing left to refresh
    expect(s.frames("heartbeat").length).toBeGreaterThan(hb); // own node still refreshed
  });

  it("rejects attach with the server's HbError and forgets the node", async () => {
    const { s, c } = await setup();
    await c.connect();
    s.onAttach = (a) => (a.nodeId === "bad" ? ErrorCode.INVALID_ARGUMENT : undefined);
    const err = await c.attach("bad").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HbError);
    expect((err as HbError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(c.attachedNodes()).toEqual([]);
    expect((await c.attach("good")).handle).toBe(1); // the refused handle is free again
  });

  it("checks node ids and labels locally with INVALID_ARGUMENT", async () => {
    const { s, c } = await setup();
    await c.connect();
    await expect(c.attach("")).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(c.attach("x\u0000")).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(c.attach("ok", { "": "v" })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(c.attach("gw")).rejects.toThrow(/own node/);
    await c.attach("dup");
    await expect(c.attach("dup")).rejects.toThrow(/already attached/);
    expect(s.frames("attach").length).toBe(1);
  });

  it("emits attachedTimeout on the server's HEARTBEAT_TIMEOUT for a handle and frees it", async () => {
    const { s, c } = await setup();
    await c.connect();
    await c.attach("a");
    await c.attach("b");
    c.setAttachedAlive("b", false);
    const timedOut = next(c, "attachedTimeout");
    s.last?.session?.handles.delete(2); // what the server does when it times the node out
    s.send(makeFrame("error", { code: ErrorCode.HEARTBEAT_TIMEOUT, message: "timed out", ref: 2n, fatal: false }));
    expect(await timedOut).toEqual<AttachedTimeoutInfo>({ nodeId: "b", handle: 2 });
    expect(c.attachedNodes().map((n) => n.nodeId)).toEqual(["a"]);
    expect(c.status).toBe("connected");
    expect((await c.attach("b")).handle).toBe(2);
  });

  it("attaches every node again after a reconnect to a fresh session, with the same handles", async () => {
    const { s, c } = await setup();
    s.resume = false;
    await c.connect();
    await c.attach("a", { k: "1" });
    await c.attach("b");
    c.setAttachedAlive("b", false);
    s.dropAll();
    await next(c, "welcome");
    await s.until(() => s.frames("attach").filter((f) => f.conn === 2).length === 2, 2000, "re-attach");
    const again = s.frames("attach").filter((f) => f.conn === 2);
    expect(again.map((f) => [f.value.handle, f.value.nodeId, f.value.labels])).toEqual([
      [1, "a", { k: "1" }],
      [2, "b", {}],
    ]);
    await s.until(() => c.attachedNodes().every((n) => n.state === "attached"), 1000, "attached");
    expect(c.attachedNodes().map((n) => n.alive)).toEqual([true, false]); // liveness flags survive
  });

  it("on a resumed session attaches every node again, as the server keeps no handles across a resume", async () => {
    const { s, c } = await setup();
    await c.connect();
    await c.attach("a");
    await c.attach("b");
    s.onAttach = (x) => (x.nodeId === "c" ? null : undefined); // c: registered, never confirmed
    const pc = c.attach("c");
    await s.until(() => s.frames("attach").length === 3, 1000, "Attach c");
    s.onAttach = () => undefined;
    const events: string[] = [];
    c.on("attachFailed", (f) => events.push(`failed:${f.nodeId}`));
    c.once("disconnect", () => {
      // While the connection is down: detach b (its Detach cannot be sent) and attach d (reuses b's handle).
      c.detach("b");
      c.attach("d").catch(() => {});
    });
    s.dropAll();
    const w = await next(c, "welcome");
    expect(w.resumed).toBe(true);
    await s.until(() => c.attachedNodes().every((n) => n.state === "attached"), 2000, "all attached");
    expect(await pc).toEqual({ nodeId: "c", handle: 3 });
    const second = s.received.filter((r) => r.conn === 2).map((r) => r.frame.body);
    expect(second.some((b) => b.case === "detach")).toBe(false);
    const attaches = second.filter((b) => b.case === "attach").map((b) => (b.case === "attach" ? [b.value.handle, b.value.nodeId] : []));
    expect(attaches.sort()).toEqual([[1, "a"], [2, "d"], [3, "c"]]);
    expect([...(s.last?.session?.handles ?? [])].sort()).toEqual([[1, "a"], [2, "d"], [3, "c"]]);
    expect(events).toEqual([]);
    expect(c.attachedNodes().map((n) => [n.nodeId, n.handle])).toEqual([["a", 1], ["c", 3], ["d", 2]]);
  });

  it("reports a refused re-attach with attachFailed", async () => {
    const { s, c } = await setup();
    s.resume = false;
    await c.connect();
    await c.attach("a");
    s.onAttach = () => ErrorCode.FORBIDDEN;
    s.dropAll();
    const failed = await next(c, "attachFailed");
    expect(failed.nodeId).toBe("a");
    expect(failed.error.code).toBe(ErrorCode.FORBIDDEN);
    expect(c.attachedNodes()).toEqual([]);
  });

  it("sends Attach for nodes attached before connect() once the Welcome arrives", async () => {
    const { s, c } = await setup();
    const p = c.attach("early");
    await sleep(20);
    expect(s.connections.length).toBe(0);
    await c.connect();
    expect(await p).toEqual({ nodeId: "early", handle: 1 });
    const cases = s.received.map((r) => r.frame.body.case);
    expect(cases.slice(0, 2)).toEqual(["hello", "attach"]);
  });

  it("aborting a pending attach sends Detach and holds the handle until the answer", async () => {
    const { s, c } = await setup();
    await c.connect();
    s.onAttach = () => null; // never answer
    const ac = new AbortController();
    const p = c.attach("slow", {}, { signal: ac.signal });
    await s.until(() => s.frames("attach").length === 1, 1000, "Attach");
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    await s.until(() => s.frames("detach").length === 1, 1000, "Detach");
    expect(s.frames("detach")[0]?.value.handles).toEqual([1]);
    s.onAttach = () => undefined;
    expect((await c.attach("next")).handle).toBe(2); // 1 is still awaiting its answer
  });

  it("rejects pending attaches on close and refuses new ones", async () => {
    const { s, c } = await setup();
    await c.connect();
    s.onAttach = () => null;
    const p = c.attach("x").catch((e: unknown) => e);
    await s.until(() => s.frames("attach").length === 1, 1000, "Attach");
    await c.close();
    expect(await p).toMatchObject({ message: "client closed" });
    await expect(c.attach("y")).rejects.toThrow(/client is closed/);
  });
});
