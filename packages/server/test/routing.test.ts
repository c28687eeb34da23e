import { ErrorCode, HbError, type Message, type SendErrorInfo } from "@hb/client";
import { DeliveryKind } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { collect, useChannelFixture, utf8 } from "./channel-helpers.js";
import { sleep, waitFor } from "./raw-peer.js";

const fx = useChannelFixture();
const text = (m: { payload: Uint8Array }) => new TextDecoder().decode(m.payload);

describe("routing between real clients", () => {
  it("unicast: send() reaches exactly its target, from the sender; server.send() too", async () => {
    const { server, port } = await fx.server();
    const a = await fx.client(port, "a");
    const b = await fx.client(port, "b");
    const c = await fx.client(port, "c");
    const atB: Message[] = [];
    const atC: Message[] = [];
    b.on("message", (m) => atB.push(m));
    c.on("message", (m) => atC.push(m));
    await a.send("b", "hello b");
    await waitFor(() => atB.length === 1);
    expect(server.send("b", "from the server")).toBe(true);
    await waitFor(() => atB.length === 2);
    expect(atB.map((m) => [m.kind, m.from, text(m)])).toEqual([
      ["direct", "a", "hello b"],
      ["direct", "", "from the server"],
    ]);
    expect(server.send("nobody", "x")).toBe(false);
    await sleep(20);
    expect(atC).toEqual([]);
    const s = server.stats();
    expect(s.routed.send).toBe(3);
    expect(s.dropped.unknownNode).toBe(1);
  });

  it("a Send without request id to an offline node: non-fatal UNKNOWN_NODE", async () => {
    const { port } = await fx.server();
    const a = await fx.client(port, "a");
    const errors: SendErrorInfo[] = [];
    a.on("sendError", (e) => errors.push(e));
    await a.send("ghost", "boo");
    await waitFor(() => errors.length === 1);
    expect(errors[0]?.error.code).toBe(ErrorCode.UNKNOWN_NODE);
    expect(a.status).toBe("connected");
  });

  it("a subject with several subscribers: each gets one copy, the publisher's own subscription included", async () => {
    const { server, port } = await fx.server();
    const pub = await fx.client(port, "pub");
    const subs = await Promise.all(["s1", "s2", "s3"].map((id) => fx.client(port, id)));
    const got = subs.map((c) => {
      const sub = c.subscribe("news.eu");
      return { ready: sub.ready, list: collect(sub) };
    });
    const own = pub.subscribe("news.eu");
    const ownList = collect(own);
    await Promise.all([...got.map((g) => g.ready), own.ready]);
    // Two subscriptions of one connection matching the same subject: one delivery each.
    const twice = subs[0]?.subscribe("news.*");
    const twiceList = collect(twice as NonNullable<typeof twice>);
    await twice?.ready;
    await pub.publish("news.eu", "extra!");
    await waitFor(() => got.every((g) => g.list.length === 1) && ownList.length === 1 && twiceList.length === 1);
    for (const g of got) expect(g.list[0]).toMatchObject({ kind: "publish", subject: "news.eu", from: "pub" });
    expect(text(got[0]?.list[0] as Message)).toBe("extra!");
    const s = server.stats();
    expect(s).toMatchObject({ subscriptions: 5, channels: 2, deliveries: 5 });
    expect(s.routed.publish).toBe(1);
    expect(server.subscriptions("s1").map((x) => [x.channel, x.subject, x.delivered])).toEqual([
      [1, "news.eu", 1],
      [2, "news.*", 1],
    ]);
  });

  it("wildcards: `*` matches one token, `>` one or more; non-matches get nothing; $hb. is never matched", async () => {
    const { server, port } = await fx.server();
    const pub = await fx.client(port, "pub");
    const sub = await fx.client(port, "sub");
    const patterns = ["config.*.fr", "config.>", ">", "config.eu", "*"];
    const lists = await Promise.all(
      patterns.map(async (p) => {
        const s = sub.subscribe(p);
        await s.ready;
        return collect(s);
      }),
    );
    for (const subject of ["config.eu.fr", "config.fr", "config", "config.eu", "other.eu.fr"]) await pub.publish(subject, subject);
    await sleep(50);
    const seen = lists.map((l) => l.map((m) => m.subject));
    expect(seen).toEqual([
      ["config.eu.fr"],
      ["config.eu.fr", "config.fr", "config.eu"],
      ["config.eu.fr", "config.fr", "config", "config.eu", "other.eu.fr"],
      ["config.eu"],
      ["config"],
    ]);
    expect(server.publish("nothing.here", "x")).toBe(1); // only `>`
    expect(() => server.publish("$hb.presence", "x")).toThrow(HbError);
    expect(() => server.publish("a.*", "x")).toThrow(/wildcards/);
  });

  it("broadcast: refused from nodes by default; allowed by authorizeBroadcast; reaches every other connection once", async () => {
    const { server, port } = await fx.server({ authorizeBroadcast: (node) => node.labels.role === "admin" });
    const admin = await fx.client(port, "admin", { metadata: { role: "admin" } });
    const user = await fx.client(port, "user");
    const gw = await fx.client(port, "gw");
    await gw.attach("dev-1");
    await gw.attach("dev-2");
    const inbox = new Map<string, Message[]>();
    for (const [id, c] of [["admin", admin], ["user", user], ["gw", gw]] as const) {
      inbox.set(id, []);
      c.on("message", (m) => inbox.get(id)?.push(m));
    }
    const refused: SendErrorInfo[] = [];
    user.on("sendError", (e) => refused.push(e));
    await user.broadcast("spam");
    await waitFor(() => refused.length === 1);
    expect(refused[0]?.error.code).toBe(ErrorCode.FORBIDDEN);
    await admin.broadcast("maintenance at noon");
    await waitFor(() => inbox.get("gw")?.length === 1);
    expect(server.broadcast("from the server")).toBe(3);
    await waitFor(() => inbox.get("gw")?.length === 2 && inbox.get("user")?.length === 2);
    expect(inbox.get("gw")?.map((m) => [m.kind, m.from, text(m), m.to])).toEqual([
      ["broadcast", "admin", "maintenance at noon", undefined],
      ["broadcast", "", "from the server", undefined],
    ]);
    expect(inbox.get("admin")?.map(text)).toEqual(["from the server"]); // not its own broadcast
    expect(server.stats().routed.broadcast).toBe(2);
  });

  it("request / reply to a node and to a subject; request ids pass through; a request to an offline node gets UNKNOWN_NODE", async () => {
    const { port } = await fx.server();
    const asker = await fx.client(port, "asker");
    const responder = await fx.client(port, "responder");
    responder.onRequest((m) => `pong to ${m.from}: ${text(m)}`);
    const r1 = await asker.request({ node: "responder" }, "ping", { timeout: 2_000 });
    expect(r1.from).toBe("responder");
    expect(r1.text()).toBe("pong to asker: ping");
    // A subject request: answered by a subscriber with respond().
    const sub = responder.subscribe("svc.time");
    sub.on("message", (m) => void m.respond(`it is ${text(m)} o'clock`));
    await sub.ready;
    const r2 = await asker.request({ subject: "svc.time" }, "noon", { timeout: 2_000 });
    expect([r2.from, r2.text()]).toEqual(["responder", "it is noon o'clock"]);
    await expect(asker.request({ node: "ghost" }, "?", { timeout: 2_000 })).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_NODE,
    });
    // An application error travels back in the Reply.
    responder.onRequest(() => {
      throw new Error("no can do");
    });
    await expect(asker.request({ node: "responder" }, "?", { timeout: 2_000 })).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringContaining("no can do"),
    });
  });

  it("gateway: a Send to an attached node reaches its gateway with to_node_id; its replies come from the attached node", async () => {
    const { server, port } = await fx.server();
    const gw = await fx.client(port, "hub");
    await gw.attach("dev-1", { kind: "sensor" });
    gw.onRequest((m) => `${m.to} says hi`);
    const direct: Message[] = [];
    gw.on("message", (m) => direct.push(m));
    const asker = await fx.client(port, "asker");
    const r = await asker.request({ node: "dev-1" }, "hello", { timeout: 2_000 });
    expect([r.from, r.text()]).toEqual(["dev-1", "dev-1 says hi"]);
    expect(server.send("dev-1", "plain")).toBe(true);
    await waitFor(() => direct.length === 1);
    expect(direct[0]).toMatchObject({ kind: "direct", to: "dev-1", from: "" });
    // Subscriptions belong to the connection: the attached node's id finds its gateway's.
    await gw.subscribe("x").ready;
    expect(server.subscriptions("dev-1").map((x) => [x.nodeId, x.subject])).toEqual([["hub", "x"]]);
  });

  it("a request nobody answers times out at the requester (REQUEST_TIMEOUT)", async () => {
    const { port } = await fx.server();
    const asker = await fx.client(port, "asker");
    const silent = await fx.client(port, "silent");
    silent.on("message", () => {}); // receives the request, never answers
    const t0 = performance.now();
    await expect(asker.request({ node: "silent" }, "hello?", { timeout: 150 })).rejects.toMatchObject({
      code: ErrorCode.REQUEST_TIMEOUT,
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("a reply to a requester that is gone (or to the server, node_id empty) is dropped and counted", async () => {
    const { server, port } = await fx.server();
    const asker = await fx.client(port, "asker");
    const responder = await fx.client(port, "responder");
    const pending: Message[] = [];
    responder.onRequest((m) => {
      pending.push(m);
      return new Promise(() => {}); // answered by hand below
    });
    void asker.request({ node: "responder" }, "slow question", { timeout: 5_000 }).catch(() => {});
    await waitFor(() => pending.length === 1);
    await asker.close();
    await waitFor(() => server.get("asker") === undefined);
    await (pending[0] as Message).respond("too late");
    const raw = await fx.raw(port);
    await raw.hello({ nodeId: "raw" });
    raw.send("reply", { nodeId: "", requestId: 1n, payload: utf8("to the server") });
    await waitFor(() => server.stats().repliesDropped === 2);
    expect(server.stats().routed.reply).toBe(2);
  });

  it("keeps one publisher's order: 10 000 messages arrive in order", async () => {
    const N = 10_000;
    const { server, port } = await fx.server({ rateLimit: { framesPerSecond: 1_000_000, burst: 1_000_000 } });
    const pub = await fx.client(port, "pub");
    const sub = await fx.client(port, "sub");
    const s = sub.subscribe("seq.>", { queueSize: N });
    const got = collect(s);
    await s.ready;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      const p = new Uint8Array(4);
      new DataView(p.buffer).setUint32(0, i);
      sends.push(pub.publish(i % 2 === 0 ? "seq.even" : "seq.odd", p));
    }
    await Promise.all(sends);
    await waitFor(() => got.length === N, 20_000, "10 000 deliveries");
    const order = got.map((m) => new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0));
    expect(order).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(server.stats().dropped.dropOldest).toBe(0);
  });

  it("publish by channel on an exact subscription; a pattern channel is INVALID_ARGUMENT", async () => {
    const { port } = await fx.server();
    const p = await fx.raw(port);
    await p.hello({ nodeId: "raw" });
    p.send("subscribe", { requestId: 1, subject: "room.42" });
    p.send("subscribe", { requestId: 2, subject: "room.*" });
    const exact = await p.next("subscribed");
    const pattern = await p.next("subscribed");
    expect([exact.channel, pattern.channel]).toEqual([1, 2]);
    p.send("publish", { payload: utf8("by channel") }, exact.channel);
    const d1 = await p.nextOf(["delivery"]);
    const d2 = await p.nextOf(["delivery"]);
    expect([d1.channel, d2.channel].sort()).toEqual([1, 2]);
    expect(d1.body.value).toMatchObject({ kind: DeliveryKind.PUBLISH, subject: "room.42", fromNodeId: "raw" });
    p.send("publish", { payload: utf8("x"), requestId: 5n }, pattern.channel);
    const err = await p.nextOf(["error"]);
    expect(err.channel).toBe(2);
    expect(err.body.value).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, ref: 5n, fatal: false });
    // After Unsubscribe the channel is gone, and its number is never reused.
    p.send("unsubscribe", {}, exact.channel);
    p.send("subscribe", { requestId: 3, subject: "room.42" });
    expect((await p.next("subscribed")).channel).toBe(3);
  });

  it("hooks: authorizeSubscribe and authorizePublish refuse with FORBIDDEN; a throwing hook refuses too", async () => {
    const { server, port } = await fx.server({
      authorizeSubscribe: (node, subject) => !subject.startsWith("secret") || node.labels.clearance === "top",
      authorizePublish: (node, subject) => {
        if (subject === "boom") throw new Error("hook bug");
        return node.nodeId !== "mallory" || !subject.startsWith("orders.");
      },
    });
    const mallory = await fx.client(port, "mallory");
    const spy = await fx.client(port, "spy", { metadata: { clearance: "top" } });
    await expect(mallory.subscribe("secret.plans").ready).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    const ok = spy.subscribe("secret.plans");
    await ok.ready;
    const orders = spy.subscribe("orders.>");
    const got = collect(orders);
    await orders.ready;
    const refused: SendErrorInfo[] = [];
    mallory.on("sendError", (e) => refused.push(e));
    await mallory.publish("orders.new", "fake order");
    await mallory.publish("boom", "x");
    await waitFor(() => refused.length === 2);
    expect(refused.map((e) => e.error.code)).toEqual([ErrorCode.FORBIDDEN, ErrorCode.FORBIDDEN]);
    await expect(mallory.request({ subject: "orders.x" }, "?", { timeout: 2_000 })).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await spy.publish("orders.new", "real order");
    await waitFor(() => got.length === 1);
    expect(got[0]?.from).toBe("spy");
    expect(server.stats().listenerErrors).toBe(1);
  });

  it("a will is published to subscribers when its node is lost, not after Goodbye", async () => {
    const { server, port } = await fx.server();
    const watcher = await fx.client(port, "watcher");
    const wills = watcher.subscribe("wills.>");
    const got = collect(wills);
    await wills.ready;
    const events: string[] = [];
    server.on("willPublished", (e) => events.push(e.nodeId));
    const polite = await fx.client(port, "polite", { will: { subject: "wills.polite", payload: "bye?" } });
    await polite.close(); // Goodbye: no will
    const lost = await fx.raw(port);
    await lost.hello({ nodeId: "lost", will: { subject: "wills.lost", payload: utf8("I was lost") } });
    lost.destroy(); // no Goodbye
    await waitFor(() => got.length === 1);
    await sleep(50);
    expect(got.map((m) => [m.subject, m.from, text(m), m.requestId])).toEqual([["wills.lost", "lost", "I was lost", undefined]]);
    expect(events).toEqual(["lost"]);
    expect(server.stats().willsPublished).toBe(1);
  });
});
