import { ErrorCode, Role } from "@hb/codec";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HeartbeatServer } from "../src/index.js";
import { FAST, record, story } from "./helpers.js";
import { type Opened, open, stories, uid, type Watcher, watch, watchEveryWorker } from "./presence-watchers.js";
import { RawPeer, waitFor } from "./raw-peer.js";

// PROTOCOL.md §5.7: an observer (Hello.role = ROLE_OBSERVER) is routable under
// its id but is not a node: never in presence, snapshots, node counts or the
// server's node events. Over real TCP, against one process and against two
// worker processes (where the observer and the node it talks to land on
// different workers, told apart by Welcome.server_id).

const peers: RawPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.destroy();
});

async function opened(port: number, hello: Parameters<typeof open>[1] = {}): Promise<Opened> {
  const o = await open(port, hello);
  peers.push(o.peer);
  return o;
}

async function observer(port: number, hello: Parameters<typeof open>[1] = {}): Promise<Opened> {
  return opened(port, { nodeId: uid("obs"), role: Role.OBSERVER, ...hello });
}

// A watcher subscribed with snapshot: every node already online is reported JOINED snapshot.
async function snapshotWatcher(port: number): Promise<{ peer: RawPeer; seen: string[] }> {
  const o = await opened(port, { nodeId: uid("snap") });
  const seen: string[] = [];
  o.peer.onFrame = (f) => {
    if (f.body.case === "presence") seen.push(f.body.value.nodeId);
  };
  o.peer.send("subscribe", { subject: "$hb.presence", requestId: 1, snapshot: true, undamped: true });
  await o.peer.next("subscribed");
  return { peer: o.peer, seen };
}

// Opens connections with `hello` until one lands on a worker other than `serverId` (2 workers), or the first (1).
async function elsewhere(port: number, serverId: string | undefined, make: () => Promise<Opened>): Promise<Opened> {
  for (let i = 0; i < 30; i++) {
    const o = await make();
    if (serverId === undefined || o.welcome.serverId !== serverId) return o;
    o.peer.destroy();
  }
  throw new Error(`no connection landed on a worker other than ${serverId}`);
}

for (const workerCount of [1, 2]) {
  describe(`observers (§5.7), workerCount ${workerCount}`, { timeout: 30_000 }, () => {
    let server: HeartbeatServer;
    let port = 0;
    const multi = workerCount > 1;

    beforeAll(async () => {
      server = new HeartbeatServer({ ...FAST, workerCount, port: 0, resumeGrace: 5_000 });
      ({ port } = await server.listen());
    }, 30_000);
    afterAll(() => server.close());

    async function watchers(): Promise<Watcher[]> {
      const ws = multi ? await watchEveryWorker(port, 2) : [await watch(port)];
      for (const w of ws) peers.push(w.opened.peer);
      return ws;
    }

    it("is welcomed as ROLE_OBSERVER and is in no presence event, snapshot, node count or node event", async () => {
      const ws = await watchers();
      const events: string[] = [];
      const onJoined = (e: { nodeId: string }): void => {
        events.push(e.nodeId);
      };
      server.on("nodeJoined", onJoined);
      server.on("nodeLeft", onJoined);
      try {
        const nodesBefore = server.count();
        const o = await observer(port);
        const id = o.welcome.nodeId;
        expect(o.welcome.role).toBe(Role.OBSERVER);
        // An ordinary node connected after it: its JOINED shows the watchers are live.
        const marker = await opened(port);
        for (const story of await stories(ws, marker.welcome.nodeId, ["JOINED hello"])) expect(story).toEqual(["JOINED hello"]);
        // Counted as an observer, never as a node.
        await waitFor(() => server.stats().observers === 1, 5_000, "stats().observers = 1");
        expect(server.count()).toBe(nodesBefore + 1);
        expect(server.get(id)).toBeUndefined();
        const snap = await snapshotWatcher(port);
        await waitFor(() => snap.seen.includes(marker.welcome.nodeId), 5_000, "the snapshot");
        expect(snap.seen).not.toContain(id);
        // Heartbeats acked; Goodbye silent.
        o.peer.send("heartbeat", { seq: 1_000_000n });
        // (open() heartbeats too: wait for this one's ack.)
        await waitFor(() => o.peer.drain("heartbeatAck").some((a) => a.seq === 1_000_000n), 5_000, "the heartbeat's ack");
        o.peer.send("goodbye", { reason: "done" });
        await o.peer.closed;
        marker.peer.send("goodbye", { reason: "done" });
        for (const story of await stories(ws, marker.welcome.nodeId, ["JOINED hello", "LEFT goodbye"])) {
          expect(story).toEqual(["JOINED hello", "LEFT goodbye"]);
        }
        await waitFor(() => server.stats().observers === 0, 5_000, "stats().observers = 0");
        for (const w of ws) expect(w.story(id)).toEqual([]);
        expect(snap.seen).not.toContain(id);
        expect(events).not.toContain(id);
      } finally {
        server.off("nodeJoined", onJoined);
        server.off("nodeLeft", onJoined);
      }
    });

    it("is routable: a node's Send and a Reply reach it, and what it sends comes from its id", async () => {
      const o = await observer(port);
      const id = o.welcome.nodeId;
      const node = await elsewhere(port, multi ? o.welcome.serverId : undefined, () => opened(port));
      node.peer.send("send", { nodeId: id, payload: new Uint8Array([1, 2]) });
      const d = await o.peer.next("delivery");
      expect(d.fromNodeId).toBe(node.welcome.nodeId);
      expect([...d.payload]).toEqual([1, 2]);
      // The server application reaches it too (from the primary with workers).
      expect(server.send(id, "from the server")).toBe(true);
      expect((await o.peer.next("delivery")).fromNodeId).toBe("");
      // A request from the observer, answered by the node: the Reply reaches the observer.
      o.peer.send("send", { nodeId: node.welcome.nodeId, payload: new Uint8Array([3]), requestId: 42n });
      const req = await node.peer.next("delivery").catch((e) => { throw new Error(`request: ${e} ${JSON.stringify([...node.peer.counts])}`); });
      expect(req.fromNodeId).toBe(id);
      expect(req.requestId).toBe(42n);
      node.peer.send("reply", { requestId: req.requestId, nodeId: id, payload: new Uint8Array([4]) });
      const reply = await o.peer.next("reply");
      expect(reply.requestId).toBe(42n);
      expect([...reply.payload]).toEqual([4]);
    });

    it("is refused with a will (INVALID_ARGUMENT, fatal)", async () => {
      const peer = await RawPeer.connect(port);
      peers.push(peer);
      peer.send("hello", {
        protocolVersion: 1,
        nodeId: uid("obs"),
        role: Role.OBSERVER,
        will: { subject: "wills.x", payload: new Uint8Array([1]) },
      });
      const err = await peer.error();
      expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(err.fatal).toBe(true);
      await peer.closed;
    });

    it("takes a node's id over (LEFT replaced, no JOINED) and loses its id to a node (JOINED hello), across workers", async () => {
      const ws = await watchers();
      const id = uid("shared");
      let node = await opened(port, { nodeId: id });
      const expected = ["JOINED hello"];
      let observerCrossed = false;
      let nodeCrossed = false;
      // Where a connection lands is up to the OS: take the id back and forth until both directions crossed workers.
      for (let i = 0; i < 12 && !(observerCrossed && nodeCrossed); i++) {
        const obs = await observer(port, { nodeId: id });
        const err = await node.peer.error();
        expect(err.code).toBe(ErrorCode.DUPLICATE_NODE);
        expect(err.fatal).toBe(true);
        expected.push("LEFT replaced");
        if (obs.welcome.serverId !== node.welcome.serverId) observerCrossed = true;
        // The observer holds the id: messages to it reach the observer.
        const sender = await opened(port);
        sender.peer.send("send", { nodeId: id, payload: new Uint8Array([9]) });
        expect((await obs.peer.next("delivery")).fromNodeId).toBe(sender.welcome.nodeId);
        // A node takes it back: the observer gets DUPLICATE_NODE, presence says JOINED hello (nothing was replaced there).
        const back = await opened(port, { nodeId: id });
        const err2 = await obs.peer.error();
        expect(err2.code).toBe(ErrorCode.DUPLICATE_NODE);
        expect(err2.fatal).toBe(true);
        expected.push("JOINED hello");
        if (back.welcome.serverId !== obs.welcome.serverId) nodeCrossed = true;
        node = back;
        for (const story of await stories(ws, id, expected)) expect(story).toEqual(expected);
      }
      if (multi) expect([observerCrossed, nodeCrossed]).toEqual([true, true]);
      node.peer.send("goodbye", { reason: "done" });
      expected.push("LEFT goodbye");
      for (const story of await stories(ws, id, expected)) expect(story).toEqual(expected);
    });

    it("an observer takes another observer's id over: the older one gets DUPLICATE_NODE, across workers", async () => {
      const id = uid("obs");
      let holder = await observer(port, { nodeId: id });
      let crossed = false;
      for (let i = 0; i < 12 && !crossed; i++) {
        const next = await observer(port, { nodeId: id });
        const err = await holder.peer.error();
        expect(err.code).toBe(ErrorCode.DUPLICATE_NODE);
        expect(err.fatal).toBe(true);
        crossed = next.welcome.serverId !== holder.welcome.serverId;
        holder = next;
      }
      if (multi) expect(crossed).toBe(true);
      const sender = await opened(port);
      sender.peer.send("send", { nodeId: id, payload: new Uint8Array([5]) });
      expect((await holder.peer.next("delivery")).fromNodeId).toBe(sender.welcome.nodeId);
    });

    it("a silent observer gets HEARTBEAT_TIMEOUT and is closed, with no presence event", async () => {
      const ws = await watchers();
      const peer = await RawPeer.connect(port);
      peers.push(peer);
      const id = uid("silent");
      const welcome = await peer.hello({ nodeId: id, role: Role.OBSERVER });
      expect(welcome.role).toBe(Role.OBSERVER);
      const err = await peer.error(10_000);
      expect(err.code).toBe(ErrorCode.HEARTBEAT_TIMEOUT);
      expect(err.fatal).toBe(true);
      await peer.closed;
      // A node joining and leaving after it shows the watchers saw everything up to then.
      const marker = await opened(port);
      marker.peer.send("goodbye", { reason: "done" });
      await stories(ws, marker.welcome.nodeId, ["JOINED hello", "LEFT goodbye"]);
      for (const w of ws) expect(w.story(id)).toEqual([]);
    });

    it("resumes silently as an observer; its token presented as a node is a fresh session", async () => {
      const ws = await watchers();
      const peer = await RawPeer.connect(port);
      peers.push(peer);
      const id = uid("resume");
      const w1 = await peer.hello({ nodeId: id, role: Role.OBSERVER });
      peer.destroy();
      const again = await RawPeer.connect(port);
      peers.push(again);
      const w2 = await again.hello({ nodeId: id, role: Role.OBSERVER, resumeToken: w1.resumeToken });
      expect(w2.resumed).toBe(true);
      expect(w2.role).toBe(Role.OBSERVER);
      expect(w2.sessionId).toBe(w1.sessionId);
      // The observer's token presented by a node: a fresh node session.
      const node = await RawPeer.connect(port);
      peers.push(node);
      const w3 = await node.hello({ nodeId: id, resumeToken: w2.resumeToken });
      expect(w3.resumed).toBe(false);
      expect(w3.role).toBe(Role.NODE);
      expect((await again.error()).code).toBe(ErrorCode.DUPLICATE_NODE);
      for (const story of await stories(ws, id, ["JOINED hello"])) expect(story).toEqual(["JOINED hello"]);
    });
  });
}

describe("observers in one process: gateway, hooks and drain", { timeout: 30_000 }, () => {
  it("an observer attaches ordinary nodes; from_handle 0 is the observer's id; its Goodbye says nothing about it", async () => {
    const server = new HeartbeatServer({ ...FAST, port: 0 });
    const log = record(server);
    try {
      const { port } = await server.listen();
      const gw = await observer(port);
      const id = gw.welcome.nodeId;
      const attached = uid("att");
      gw.peer.send("attach", { handle: 1, nodeId: attached, labels: { kind: "sensor" } });
      expect(await gw.peer.next("attached")).toMatchObject({ handle: 1, nodeId: attached });
      expect(server.count()).toBe(1);
      expect(server.get(attached)?.gatewayNodeId).toBe(id);
      const target = await opened(port);
      gw.peer.send("send", { nodeId: target.welcome.nodeId, payload: new Uint8Array([1]), fromHandle: 1 });
      expect((await target.peer.next("delivery")).fromNodeId).toBe(attached);
      gw.peer.send("send", { nodeId: target.welcome.nodeId, payload: new Uint8Array([2]) });
      expect((await target.peer.next("delivery")).fromNodeId).toBe(id);
      gw.peer.send("goodbye", { reason: "done" });
      await gw.peer.closed;
      await waitFor(() => story(log, attached).length === 2, 5_000, "the attached node's LEFT");
      expect(story(log, attached)).toEqual(["nodeJoined attach", "nodeLeft goodbye"]);
      expect(story(log, id)).toEqual([]);
      expect(server.stats().observers).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("the authorization hooks see an observer as its id and Hello labels", async () => {
    const seen: string[] = [];
    const server = new HeartbeatServer({
      ...FAST,
      port: 0,
      authorizeSubscribe: (node, subject) => {
        seen.push(`subscribe ${node.nodeId} ${node.labels.tool} ${subject}`);
        return true;
      },
      authorizeSend: (node, target) => {
        seen.push(`send ${node.nodeId} ${node.labels.tool} ${target}`);
        return node.labels.tool === "cli";
      },
    });
    try {
      const { port } = await server.listen();
      const o = await observer(port, { labels: { tool: "cli" } });
      const id = o.welcome.nodeId;
      o.peer.send("subscribe", { subject: "a.b", requestId: 1 });
      await o.peer.next("subscribed");
      const target = await opened(port);
      o.peer.send("send", { nodeId: target.welcome.nodeId, payload: new Uint8Array([1]) });
      expect((await target.peer.next("delivery")).fromNodeId).toBe(id);
      expect(seen).toEqual([`subscribe ${id} cli a.b`, `send ${id} cli ${target.welcome.nodeId}`]);
    } finally {
      await server.close();
    }
  });

  it("a draining server says nothing about its observers", async () => {
    const server = new HeartbeatServer({ ...FAST, port: 0 });
    const log = record(server);
    const { port } = await server.listen();
    const o = await observer(port);
    const node = await opened(port);
    expect(server.stats().observers).toBe(1);
    await server.close();
    await o.peer.closed;
    expect(story(log, node.welcome.nodeId)).toEqual(["nodeJoined hello", "nodeLeft server_shutdown"]);
    expect(story(log, o.welcome.nodeId)).toEqual([]);
  });
});

