import { ErrorCode, FrameSchema } from "@hb/codec";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HeartbeatServer, type HeartbeatServerOptions } from "../src/index.js";
import { FAST } from "./helpers.js";
import { type Opened, open, stories, uid, watch, watchEveryWorker, type Watcher } from "./presence-watchers.js";
import type { RawPeer } from "./raw-peer.js";

// Issue 15: a server of several worker processes behaves on the wire like
// one process. Every test runs over real TCP against a 2-worker server,
// places the connections on different workers (told apart by
// Welcome.server_id) and asserts the whole presence sequence every watcher
// sees, one watcher on each worker.

const ATTACH = FrameSchema.field.attach?.number as number;
const SEND = FrameSchema.field.send?.number as number;

const servers: HeartbeatServer[] = [];
const peers: RawPeer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));
afterEach(() => {
  for (const p of peers.splice(0)) p.destroy();
});

async function serve(options: HeartbeatServerOptions = {}): Promise<number> {
  const server = new HeartbeatServer({ ...FAST, workerCount: 2, port: 0, ...options });
  servers.push(server);
  const { port } = await server.listen();
  return port;
}

// node:cluster shares a listening handle per address and port, port 0
// included: one worker pool per test process, with resume grace for the
// tests that need it.
let sharedPort: Promise<number> | undefined;
function shared(): Promise<number> {
  sharedPort ??= serve({ resumeGrace: 10_000 });
  return sharedPort;
}

async function opened(port: number, hello: Parameters<typeof open>[1] = {}): Promise<Opened> {
  const o = await open(port, hello);
  peers.push(o.peer);
  return o;
}

async function watchers(port: number, filter: Record<string, string> = {}): Promise<Watcher[]> {
  const ws = await watchEveryWorker(port, 2, filter);
  for (const w of ws) peers.push(w.opened.peer);
  return ws;
}

describe("one server, one truth: presence across 2 worker processes", { timeout: 30_000 }, () => {
  let port = 0;

  beforeAll(async () => {
    port = await shared();
  }, 30_000);

  it("duplicate node id across workers: every watcher sees JOINED hello, LEFT replaced, JOINED replaced", async () => {
    const ws = await watchers(port);
    const id = uid("dup");
    let current = await opened(port, { nodeId: id });
    const expected = ["JOINED hello"];
    let crossed = false;
    for (let i = 0; i < 10 && !crossed; i++) {
      const next = await opened(port, { nodeId: id });
      expected.push("LEFT replaced", "JOINED replaced");
      const err = await current.peer.error();
      expect(err.code).toBe(ErrorCode.DUPLICATE_NODE);
      expect(err.fatal).toBe(true);
      crossed = next.welcome.serverId !== current.welcome.serverId;
      current = next;
    }
    expect(crossed).toBe(true);
    // Routing goes to the newest connection, from every worker.
    for (const w of ws) w.opened.peer.send("send", { nodeId: id, payload: new Uint8Array([1]) });
    for (let i = 0; i < ws.length; i++) await current.peer.next("delivery");
    current.peer.send("goodbye", { reason: "done" });
    expected.push("LEFT goodbye");
    for (const story of await stories(ws, id, expected)) expect(story).toEqual(expected);
  });

  it("gateway takeover across workers: LEFT replaced then JOINED replaced; the gateway gets DUPLICATE_NODE naming the node", async () => {
    const ws = await watchers(port);
    const gw = await opened(port, { nodeId: uid("gw") });
    const id = uid("attached");
    const expected: string[] = [];
    let crossed = false;
    for (let handle = 1; handle <= 10 && !crossed; handle++) {
      gw.peer.send("attach", { handle, nodeId: id });
      await gw.peer.next("attached");
      expected.push("JOINED attach");
      const taker = await opened(port, { nodeId: id });
      expected.push("LEFT replaced", "JOINED replaced");
      const err = await gw.peer.error();
      expect(err).toMatchObject({ code: ErrorCode.DUPLICATE_NODE, fatal: false, ref: BigInt(handle), refBody: ATTACH, nodeId: id });
      crossed = taker.welcome.serverId !== gw.welcome.serverId;
      taker.peer.send("goodbye", { reason: "next round" });
      expected.push("LEFT goodbye");
      await stories(ws, id, expected);
    }
    expect(crossed).toBe(true);
    for (const story of await stories(ws, id, expected)) expect(story).toEqual(expected);
  });

  it("takeover of a session in its resume grace across workers: SUSPECT connection_closed, LEFT replaced, JOINED replaced", async () => {
    const ws = await watchers(port);
    const id = uid("grace");
    let current = await opened(port, { nodeId: id });
    const expected = ["JOINED hello"];
    let crossed = false;
    for (let i = 0; i < 10 && !crossed; i++) {
      current.peer.destroy();
      expected.push("SUSPECT connection_closed");
      await stories(ws, id, expected);
      const next = await opened(port, { nodeId: id });
      expected.push("LEFT replaced", "JOINED replaced");
      crossed = next.welcome.serverId !== current.welcome.serverId;
      current = next;
    }
    expect(crossed).toBe(true);
    current.peer.send("goodbye", { reason: "done" });
    expected.push("LEFT goodbye");
    for (const story of await stories(ws, id, expected)) expect(story).toEqual(expected);
  });

  it("a Send right after the target's Welcome is delivered, whatever worker sender and target are on (50 trials)", async () => {
    const sender = await opened(port, { nodeId: uid("sender") });
    let cross = 0;
    for (let i = 0; i < 50; i++) {
      const id = uid("target");
      const target = await opened(port, { nodeId: id });
      if (target.welcome.serverId !== sender.welcome.serverId) cross++;
      sender.peer.send("send", { nodeId: id, payload: new Uint8Array([i]) });
      const d = await target.peer.next("delivery");
      expect(d.fromNodeId).toBe(sender.welcome.nodeId);
      target.peer.destroy();
    }
    expect(cross).toBeGreaterThanOrEqual(10);
    expect(sender.peer.drain("error")).toEqual([]);
  });

  it("a Send to an id no worker holds gets UNKNOWN_NODE naming the target (ref_body 17), from every worker", async () => {
    const ws = await watchers(port);
    for (const w of ws) {
      w.opened.peer.send("send", { nodeId: "nobody-here", payload: new Uint8Array([1]) });
      const err = await w.opened.peer.error();
      expect(err).toMatchObject({ code: ErrorCode.UNKNOWN_NODE, fatal: false, ref: 0n, refBody: SEND, nodeId: "nobody-here" });
    }
  });
});

describe("label changes are presence events (PROTOCOL.md §7.5)", () => {
  for (const workerCount of [1, 2]) {
    it(`resume with other labels: each filter sees the transition true for it (${workerCount} worker${workerCount > 1 ? "s" : ""})`, async () => {
      const p = workerCount === 1 ? await serve({ workerCount, resumeGrace: 10_000 }) : await shared();
      const filters = { old: { role: "old" }, new: { role: "new" }, zone: { zone: "z" } };
      const byFilter: Record<string, Watcher[]> = {};
      for (const [name, filter] of Object.entries(filters)) {
        byFilter[name] = workerCount === 1 ? [await watch(p, filter)] : await watchers(p, filter);
        for (const w of byFilter[name] as Watcher[]) peers.push(w.opened.peer);
      }
      const id = uid("relabel");
      const first = await opened(p, { nodeId: id, labels: { role: "old", zone: "z" } });
      const expected = { old: [] as string[], new: [] as string[], zone: [] as string[] };
      // What each filter's watchers are told of the next step.
      const told = (step: Partial<Record<keyof typeof expected, string>>) => {
        for (const name of ["old", "new", "zone"] as const) if (step[name] !== undefined) expected[name].push(step[name]);
      };
      told({ old: "JOINED hello", zone: "JOINED hello" });
      await stories(byFilter.zone as Watcher[], id, expected.zone);
      // Lost, in its grace: suspect.
      first.peer.destroy();
      told({ old: "SUSPECT connection_closed", zone: "SUSPECT connection_closed" });
      await stories(byFilter.zone as Watcher[], id, expected.zone);
      // Resumed with other labels: one transition per filter.
      const second = await opened(p, { nodeId: id, resumeToken: first.welcome.resumeToken, labels: { role: "new", zone: "z" } });
      expect(second.welcome.resumed).toBe(true);
      told({ old: "LEFT labels_changed", new: "JOINED labels_changed", zone: "RECOVERED resumed" });
      await stories(byFilter.zone as Watcher[], id, expected.zone);
      // A resume of the live session with the first labels again: no suspect before, so UPDATED.
      const third = await opened(p, { nodeId: id, resumeToken: second.welcome.resumeToken, labels: { role: "old", zone: "z" } });
      expect(third.welcome.resumed).toBe(true);
      told({ old: "JOINED labels_changed", new: "LEFT labels_changed", zone: "UPDATED labels_changed" });
      await stories(byFilter.zone as Watcher[], id, expected.zone);
      third.peer.send("goodbye", { reason: "done" });
      told({ old: "LEFT goodbye", zone: "LEFT goodbye" });
      for (const name of ["zone", "old", "new"] as const) {
        for (const story of await stories(byFilter[name] as Watcher[], id, expected[name])) expect(story).toEqual(expected[name]);
      }
    }, 30_000);
  }
});
