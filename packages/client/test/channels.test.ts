import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { DeliveryKind, OverflowPolicy, makeFrame } from "@hb/codec";
import {
  ErrorCode,
  HbError,
  HeartbeatClient,
  type HeartbeatClientOptions,
  type HeartbeatInfo,
  type Message,
  type SendErrorInfo,
} from "../src/index.js";
import { FakeServer, type FakeServerOptions, PresenceKind } from "./fake-server.js";
import { next, sleep } from "./helpers.js";

const servers: FakeServer[] = [];
const clients: HeartbeatClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: FakeServerOptions = {}): Promise<FakeServer> {
  const s = await FakeServer.start(options);
  servers.push(s);
  return s;
}

function client(s: FakeServer, nodeId: string, options: Partial<HeartbeatClientOptions> = {}): HeartbeatClient {
  const c = new HeartbeatClient({
    host: "127.0.0.1",
    port: s.port,
    nodeId,
    reconnectInterval: 20,
    maxReconnectDelay: 50,
    closeTimeout: 300,
    ...options,
  });
  clients.push(c);
  return c;
}

async function connected(s: FakeServer, nodeId: string, options: Partial<HeartbeatClientOptions> = {}) {
  const c = client(s, nodeId, options);
  await c.connect();
  return c;
}

/** Resolves with the first `n` values an async iterable yields. */
async function take<T>(it: AsyncIterable<T>, n: number, timeoutMs = 3000): Promise<T[]> {
  const out: T[] = [];
  const timer = sleep(timeoutMs).then(() => {
    throw new Error(`only ${out.length} of ${n} items within ${timeoutMs} ms`);
  });
  const read = (async () => {
    for await (const v of it) {
      out.push(v);
      if (out.length === n) break;
    }
    return out;
  })();
  return Promise.race([read, timer]);
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

describe("subscribe", () => {
  it("sends Subscribe, becomes active on Subscribed, and routes deliveries to the right subscription", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const b = await connected(s, "b");
    const temps = a.subscribe("sensors.temp", { queueSize: 50, overflow: "drop-newest" });
    const doors = a.subscribe("sensors.door");
    expect(temps.state).toBe("pending");
    await Promise.all([temps.ready, doors.ready]);
    expect(temps.state).toBe("active");
    expect([temps.channel, doors.channel]).toEqual([1, 2]);

    const sub = s.frames("subscribe").map((f) => f.value);
    expect(sub[0]).toMatchObject({ subject: "sensors.temp", queueSize: 50, overflow: OverflowPolicy.DROP_NEWEST });
    expect(sub[1]).toMatchObject({ subject: "sensors.door", queueSize: 0, overflow: OverflowPolicy.UNSPECIFIED });
    // Subscribe ids never meet attach handles or request ids (PROTOCOL.md §13.2).
    expect(sub[0]?.requestId).toBeGreaterThanOrEqual(2 ** 31);
    expect(sub[1]?.requestId).toBe((sub[0]?.requestId ?? 0) + 1);

    const events: Message[] = [];
    doors.on("message", (m) => events.push(m));
    const gotTemps = take(temps, 2); // leaving the loop after 2 unsubscribes
    await b.publish("sensors.temp", "21.5");
    await b.publish("sensors.door", new Uint8Array([1]));
    await b.publish("sensors.temp", "22.0");
    const [t1, t2] = await gotTemps;
    expect([t1?.text(), t2?.text()]).toEqual(["21.5", "22.0"]);
    expect(t1).toMatchObject({ kind: "publish", subject: "sensors.temp", from: "b", requestId: undefined });
    await s.until(() => events.length === 1, 2000, "door event");
    expect(events[0]?.payload).toEqual(new Uint8Array([1]));
    expect(events[0]?.subject).toBe("sensors.door");
    expect(temps.state).toBe("closed");
    expect(a.stats()).toMatchObject({ subscriptions: 1, messagesIn: 3 });
    expect(b.stats().messagesOut).toBe(3);
  });

  it("a wildcard subscription receives the concrete subject; two matching subscriptions each get a copy", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const one = a.subscribe("config.*.fr");
    const many = a.subscribe("config.>");
    await Promise.all([one.ready, many.ready]);
    const gotOne = take(one, 1);
    const gotMany = take(many, 2);
    await a.publish("config.eu.fr", "x"); // own subscriptions receive it too
    await a.publish("config.fr", "y");
    expect((await gotOne).map((m) => m.subject)).toEqual(["config.eu.fr"]);
    expect((await gotMany).map((m) => [m.subject, m.text()])).toEqual([
      ["config.eu.fr", "x"],
      ["config.fr", "y"],
    ]);
  });

  it("checks subjects locally with the server's rules", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as HbError;
      }
      throw new Error("did not throw");
    };
    for (const [subject, why] of [
      ["", /empty/],
      ["a..b", /empty token/],
      ["a.>.b", /'>' must be the last token/],
      ["a*.b", /must stand alone/],
      ["a b", /space or a control character/],
      ["x".repeat(257), /longer than 256 bytes/],
      [Array(17).fill("t").join("."), /more than 16 tokens/],
    ] as const) {
      const e = bad(() => a.subscribe(subject));
      expect(e).toBeInstanceOf(HbError);
      expect(e.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(e.message).toMatch(why);
    }
    expect(bad(() => a.subscribe("$hb.presence")).message).toMatch(/watchPresence/);
    expect(bad(() => a.subscribe("$hb.other")).code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(() => a.subscribe("ok", { queueSize: 0 })).toThrow(RangeError);
    await expect(a.publish("a.*", "x")).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(a.publish("a.>", "x")).rejects.toThrow(/only allowed when subscribing/);
    await expect(a.publish("$hb.presence", "x")).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    await expect(a.send("", "x")).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(a.publish("ok", 42 as unknown as string)).rejects.toThrow(TypeError);
    expect(s.frames("subscribe")).toEqual([]);
    expect(s.frames("publish")).toEqual([]);
  });

  it("unsubscribe sends Unsubscribe on the channel, stops delivery and ends the iterator", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const sub = a.subscribe("t");
    await sub.ready;
    const got = new Promise<Message>((r) => sub.once("message", r));
    await a.publish("t", "1");
    expect((await got).text()).toBe("1");
    const closed = new Promise((r) => sub.once("close", r));
    sub.unsubscribe();
    sub.unsubscribe(); // idempotent
    expect(await closed).toEqual({});
    expect(sub.state).toBe("closed");
    await s.until(() => s.frames("unsubscribe").length === 1, 2000, "Unsubscribe");
    expect(s.frames("unsubscribe")[0]?.frame.channel).toBe(1);
    await a.publish("t", "2");
    // A delivery already in flight on the old channel (or any unknown one) is dropped quietly.
    s.send(makeFrame("delivery", { kind: DeliveryKind.PUBLISH, subject: "t", payload: new Uint8Array([9]) }, 1));
    await sleep(50);
    const rest: Message[] = [];
    for await (const m of sub) rest.push(m);
    expect(rest).toEqual([]); // "1" went to a listener and was not buffered; nothing came after
    expect(a.stats().subscriptions).toBe(0);
    expect(a.stats().connected).toBe(true);
  });

  it("breaking out of a for-await loop unsubscribes; an AbortSignal does too", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const sub = a.subscribe("t");
    await sub.ready;
    void a.publish("t", "1");
    for await (const _ of sub) break;
    expect(sub.state).toBe("closed");
    const ac = new AbortController();
    const sub2 = a.subscribe("u", { signal: ac.signal });
    await sub2.ready;
    ac.abort();
    expect(sub2.state).toBe("closed");
    await s.until(() => s.frames("unsubscribe").length === 2, 2000, "two Unsubscribes");
    expect(s.frames("unsubscribe").map((f) => f.frame.channel)).toEqual([1, 2]);
  });

  it("unsubscribing before Subscribed arrives unsubscribes the channel once it is known", async () => {
    const s = await server();
    const a = await connected(s, "a");
    let hold = true;
    s.onSubscribe = () => (hold ? null : undefined);
    const sub = a.subscribe("t");
    await s.until(() => s.frames("subscribe").length === 1, 2000, "Subscribe");
    sub.unsubscribe();
    await expect(sub.ready).rejects.toThrow(/before the server confirmed it/);
    hold = false;
    const req = s.frames("subscribe")[0]?.value;
    s.send(makeFrame("subscribed", { requestId: req?.requestId, channel: 7, subject: "t" }));
    await s.until(() => s.frames("unsubscribe").length === 1, 2000, "Unsubscribe of the late channel");
    expect(s.frames("unsubscribe")[0]?.frame.channel).toBe(7);
  });

  it("a refused Subscribe rejects ready with the server's code and makes the iterator throw", async () => {
    const s = await server();
    const a = await connected(s, "a");
    s.onSubscribe = (sub) => (sub.subject === "secret" ? ErrorCode.FORBIDDEN : undefined);
    const sub = a.subscribe("secret");
    const err = await sub.ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HbError);
    expect((err as HbError).code).toBe(ErrorCode.FORBIDDEN);
    await expect(take(sub, 1)).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    expect(sub.state).toBe("closed");
    expect(a.stats().subscriptions).toBe(0);
    // A refusal nobody awaits is not an unhandled rejection.
    a.subscribe("secret");
    await sleep(50);
  });

  it("buffers at most queueSize messages for the iterator, dropping the oldest and counting", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const sub = a.subscribe("t", { queueSize: 2 });
    await sub.ready;
    for (let i = 0; i < 5; i++) await a.publish("t", String(i));
    await s.until(() => sub.pending + sub.dropped === 5, 2000, "5 messages");
    expect(sub.dropped).toBe(3);
    expect(a.stats().dropped).toBe(3);
    expect((await take(sub, 2)).map((m) => m.text())).toEqual(["3", "4"]);

    // Only events, never iterated: nothing is buffered, nothing dropped.
    const ev = a.subscribe("e", { queueSize: 1 });
    let n = 0;
    ev.on("message", () => n++);
    await ev.ready;
    for (let i = 0; i < 4; i++) await a.publish("e", "x");
    await s.until(() => n === 4, 2000, "4 events");
    expect(ev.dropped).toBe(0);
    expect(ev.pending).toBe(0);
  });
});

describe("publish, send, broadcast on the wire", () => {
  it("writes exactly the frames DECISIONS.md describes", async () => {
    const s = await server();
    const a = await connected(s, "a");
    await connected(s, "b");
    await a.publish("news.eu", "héllo");
    await a.send("b", new Uint8Array([1, 2, 3]));
    await a.broadcast("all");
    await s.until(() => s.frames("broadcast").length === 1, 2000, "frames");
    const pub = s.frames("publish")[0];
    expect(pub?.frame.channel).toBe(0);
    expect(pub?.value).toMatchObject({ subject: "news.eu", requestId: 0n, fromHandle: 0 });
    expect(new Uint8Array(pub?.value.payload ?? [])).toEqual(new TextEncoder().encode("héllo"));
    const send = s.frames("send")[0];
    expect(send?.frame.channel).toBe(0);
    expect(send?.value).toMatchObject({ nodeId: "b", requestId: 0n, fromHandle: 0 });
    expect(new Uint8Array(send?.value.payload ?? [])).toEqual(new Uint8Array([1, 2, 3]));
    expect(s.frames("broadcast")[0]?.value).toMatchObject({ fromHandle: 0 });
    expect(text(s.frames("broadcast")[0]?.value.payload)).toBe("all");
  });

  it("delivers direct messages and broadcasts as `message` events and through messages()", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const b = await connected(s, "b");
    const c = await connected(s, "c");
    const events: Message[] = [];
    b.on("message", (m) => events.push(m));
    const iterated = take(b.messages(), 2);
    const cGot = take(c.messages(), 1);
    await a.send("b", "direct");
    await a.broadcast("to all");
    const [m1, m2] = await iterated;
    expect(m1).toMatchObject({ kind: "direct", from: "a", subject: "", requestId: undefined, to: undefined });
    expect(m1?.text()).toBe("direct");
    expect(m2).toMatchObject({ kind: "broadcast", from: "a" });
    expect(m2?.text()).toBe("to all");
    expect(events.map((m) => m.kind)).toEqual(["direct", "broadcast"]);
    expect((await cGot).map((m) => m.kind)).toEqual(["broadcast"]);
    await sleep(30);
    expect(a.stats().messagesIn).toBe(0); // a broadcast does not come back to its sender
  });

  it("reports server refusals as sendError (or error without a sendError listener), never crashing", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const sendErrors: SendErrorInfo[] = [];
    a.on("sendError", (e) => sendErrors.push(e));
    await a.send("nobody", "x");
    s.authorizeBroadcast = false;
    await a.broadcast("x");
    await s.until(() => sendErrors.length === 2, 2000, "two sendErrors");
    expect(sendErrors.map((e) => e.error.code)).toEqual([ErrorCode.UNKNOWN_NODE, ErrorCode.FORBIDDEN]);
    expect(sendErrors[0]?.ref).toBe(0n);
    a.removeAllListeners("sendError");
    const errors: HbError[] = [];
    a.on("error", (e) => errors.push(e));
    await a.send("nobody", "x");
    await s.until(() => errors.length === 1, 2000, "error");
    expect(errors[0]?.code).toBe(ErrorCode.UNKNOWN_NODE);
    a.removeAllListeners("error");
    await a.send("nobody", "x"); // nobody listens: ignored
    await sleep(30);
    expect(a.status).toBe("connected");
  });
});

describe("request / reply", () => {
  it("asks a node; its onRequest handler answers (sync, async, or by throwing)", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const b = await connected(s, "b");
    b.onRequest(async (m) => {
      if (m.text() === "boom") throw new Error("handler failed");
      await sleep(5);
      return `echo:${m.text()}:${m.from}`;
    });
    const r = await a.request({ node: "b" }, "hi", { timeout: 2000 });
    expect(r.text()).toBe("echo:hi:a");
    expect(r.from).toBe("b");
    expect(r.requestId).toBeGreaterThanOrEqual(2n ** 32n);
    const send = s.frames("send").at(-1)?.value;
    expect(send).toMatchObject({ nodeId: "b", requestId: r.requestId });
    const reply = s.frames("reply").at(-1)?.value;
    expect(reply).toMatchObject({ nodeId: "a", requestId: r.requestId, errorCode: ErrorCode.UNSPECIFIED, fromHandle: 0 });

    const err = await a.request({ node: "b" }, "boom").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HbError);
    expect((err as HbError).code).toBe(ErrorCode.INTERNAL);
    expect((err as HbError).message).toMatch(/handler failed/);

    // Without a handler, direct requests are `message` events with respond().
    b.onRequest(undefined);
    b.on("message", (m) => void m.respond(new Uint8Array([m.payload.length])));
    expect((await a.request({ node: "b" }, "four")).payload).toEqual(new Uint8Array([4]));
    expect(a.stats().pendingRequests).toBe(0);
  });

  it("asks a subject: a subscriber answers with respond() and the first reply wins", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const b = await connected(s, "b");
    const c = await connected(s, "c");
    const sb = b.subscribe("svc.time");
    const sc = c.subscribe("svc.*");
    await Promise.all([sb.ready, sc.ready]);
    sb.on("message", (m) => void m.respond("from b"));
    sc.on("message", (m) => {
      expect(m.isRequest).toBe(true);
      setTimeout(() => void m.respond("from c"), 30);
    });
    const r = await a.request({ subject: "svc.time" }, "now?");
    expect([r.from, r.text()]).toEqual(["b", "from b"]);
    expect(s.frames("publish").at(-1)?.value).toMatchObject({ subject: "svc.time", requestId: r.requestId });
    await s.until(() => s.frames("reply").length === 2, 2000, "second reply");
    await sleep(20); // the late reply is ignored
    expect(a.stats().pendingRequests).toBe(0);
    // A message that is not a request cannot be answered.
    const plain = take(sb, 1);
    await a.publish("svc.time", "x");
    await expect((await plain)[0]?.respond("no")).rejects.toThrow(/not a request/);
  });

  it("rejects with REQUEST_TIMEOUT when nobody answers, and with the Reply's error_code", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const b = await connected(s, "b");
    b.on("message", () => {}); // takes the request, never answers
    const t0 = performance.now();
    const p = a.request({ node: "b" }, "?", { timeout: 150 });
    expect(a.stats().pendingRequests).toBe(1);
    const err = await p.catch((e: unknown) => e);
    expect((err as HbError).code).toBe(ErrorCode.REQUEST_TIMEOUT);
    expect((err as HbError).message).toMatch(/no reply from node "b" within 150 ms/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(a.stats().pendingRequests).toBe(0);

    const gone = await a.request({ node: "ghost" }, "?").catch((e: unknown) => e);
    expect((gone as HbError).code).toBe(ErrorCode.UNKNOWN_NODE);
    expect((gone as HbError).message).toMatch(/ghost/);

    // An application error sent by the replier.
    b.removeAllListeners("message");
    b.on("message", (m) => void m.respondError(ErrorCode.FORBIDDEN, "not for you"));
    await expect(a.request({ node: "b" }, "?")).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN, message: "not for you (b)" });

    // A ProtocolError with ref = the request id settles it too.
    s.onSubscribe = () => undefined;
    await expect(a.request({ subject: "$hb.x" }, "?")).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
  });

  it("is cancelled by an AbortSignal", async () => {
    const s = await server();
    const a = await connected(s, "a");
    await connected(s, "b");
    const ac = new AbortController();
    const p = a.request({ node: "b" }, "?", { signal: ac.signal, timeout: 5000 });
    ac.abort(new Error("no longer needed"));
    await expect(p).rejects.toThrow("no longer needed");
    await expect(a.request({ node: "b" }, "?", { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(a.stats().pendingRequests).toBe(0);
  });

  it("gateway: a reply to a request for an attached node carries its handle", async () => {
    const s = await server();
    const gw = await connected(s, "gw");
    const a = await connected(s, "a");
    await gw.attach("lamp-1");
    gw.onRequest((m) => `${m.to} says hi`);
    const r = await a.request({ node: "lamp-1" }, "?");
    expect(r.text()).toBe("lamp-1 says hi");
    expect(r.from).toBe("lamp-1");
    expect(s.frames("reply").at(-1)?.value.fromHandle).toBe(1);
  });
});

describe("presence", () => {
  it("watchPresence subscribes to $hb.presence with a label filter and yields typed events", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const watch = a.watchPresence({ labels: { room: "lab" } });
    await watch.ready;
    expect(s.frames("subscribe")[0]?.value).toMatchObject({ subject: "$hb.presence", labelFilter: { room: "lab" } });
    const got = take(watch, 2);
    s.presence({ kind: PresenceKind.JOINED, nodeId: "x", labels: { room: "hall" }, reason: "hello" }); // filtered out
    s.presence({ kind: PresenceKind.JOINED, nodeId: "y", labels: { room: "lab" }, reason: "hello" });
    s.presence({ kind: 42 as PresenceKind, nodeId: "y", labels: { room: "lab", k: "v" }, reason: "future" });
    const [e1, e2] = await got;
    expect(e1).toMatchObject({ kind: "joined", nodeId: "y", labels: { room: "lab" }, reason: "hello", serverId: "fake" });
    expect(Math.abs((e1?.time ?? 0) - Date.now())).toBeLessThan(5000);
    expect(e2?.kind).toBe("unknown");
    expect(() => a.watchPresence({ labels: { "": "x" } })).toThrow(HbError);
  });
});

describe("flow control", () => {
  it("stops at the window and continues after WindowUpdate", async () => {
    const s = await server({ initialWindow: 1000 });
    s.autoCredit = false;
    const a = await connected(s, "a");
    expect(a.welcome?.initialWindow).toBe(1000);
    const payload = new Uint8Array(400);
    const resolved: number[] = [];
    const sends = [0, 1, 2].map((i) => a.publish("t", payload).then(() => resolved.push(i)));
    await s.until(() => s.frames("publish").length === 2, 2000, "two publishes");
    await sleep(50);
    expect(s.frames("publish").length).toBe(2);
    expect(resolved).toEqual([0, 1]);
    expect(a.stats().pendingBytes).toBe(400);
    s.grant(300); // 200 left + 300 = 500: room for the third
    await Promise.all(sends);
    await s.until(() => s.frames("publish").length === 3, 2000, "third publish");
    expect(a.stats().pendingBytes).toBe(0);
    // Exhaust again: 100 left; a 150-byte send waits for the next grant.
    const later = a.send("a", new Uint8Array(150));
    await sleep(50);
    expect(s.frames("send").length).toBe(0);
    s.grant(1000);
    await later;
    await s.until(() => s.frames("send").length === 1, 2000, "send");
    expect(s.frames("error")).toEqual([]);
  });

  it("cuts a payload larger than the window into fragments that each fit it", async () => {
    const s = await server({ initialWindow: 4096 });
    const a = await connected(s, "a");
    const payload = randomBytes(20_000);
    await a.publish("big", payload);
    await s.until(() => s.received.some((r) => r.reassembled), 3000, "reassembled publish");
    const pieces = s.frames("fragment").map((f) => f.value.data.length);
    expect(Math.max(...pieces)).toBeLessThanOrEqual(4096);
    expect(Buffer.from(s.frames("publish")[0]?.value.payload ?? []).equals(payload)).toBe(true);
    expect(a.stats().connected).toBe(true); // never FLOW_CONTROL
  });

  it("holds sends while disconnected, sends them after the reconnect, and refuses beyond maxPendingBytes", async () => {
    const s = await server();
    const a = await connected(s, "a", { maxPendingBytes: 1000 });
    s.dropAll();
    await next(a, "disconnect");
    const queued = a.publish("t", new Uint8Array(600));
    await expect(a.publish("t", new Uint8Array(600))).rejects.toMatchObject({ code: ErrorCode.FLOW_CONTROL });
    expect(a.stats().pendingBytes).toBe(600);
    await queued;
    await s.until(() => s.frames("publish").length === 1, 2000, "publish after reconnect");
    expect(s.frames("publish")[0]?.conn).toBe(2);

    s.dropAll();
    await next(a, "disconnect");
    const pending = a.publish("t", "never sent");
    const req = a.request({ node: "x" }, "?");
    await a.close();
    await expect(pending).rejects.toThrow(/client closed/);
    await expect(req).rejects.toThrow(/client closed/);
    await expect(a.publish("t", "x")).rejects.toThrow(/client closed/);
    expect(() => a.subscribe("t")).toThrow(/client is closed/);
  });
});

describe("large messages", () => {
  it("a 50 MB publish leaves as ≤ 64 KiB fragments, reassembled byte for byte, while heartbeats keep flowing", async () => {
    const s = await server({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 2000, initialWindow: 8 * 1024 * 1024 });
    const a = await connected(s, "a", { heartbeatInterval: 20 });
    const payload = randomBytes(50 * 1024 * 1024);
    const beats: Array<HeartbeatInfo & { at: number }> = [];
    a.on("heartbeat", (h) => beats.push({ ...h, at: performance.now() }));
    const t0 = performance.now();
    const big = a.publish("blob", payload);
    const small = a.publish("blob", "after"); // same lane: must arrive after the big one
    await big;
    await s.until(() => s.frames("publish").length === 2, 20_000, "both publishes");
    const t1 = performance.now();

    const fragments = s.frames("fragment");
    expect(fragments.length).toBeGreaterThan(800);
    for (const f of fragments) expect(f.value.data.length).toBeLessThanOrEqual(64 * 1024 - 64);
    expect(fragments[0]?.value.totalLength).toBeGreaterThan(50 * 1024 * 1024);
    expect(fragments.at(-1)?.value.final).toBe(true);
    const [whole, after] = s.frames("publish");
    expect(whole?.reassembled).toBe(true);
    expect(whole?.value.subject).toBe("blob");
    expect(Buffer.from(whole?.value.payload ?? []).equals(payload)).toBe(true);
    expect(text(after?.value.payload)).toBe("after");
    await small;

    // Heartbeats acked during the transfer, with a small RTT.
    const during = beats.filter((b) => b.at > t0 && b.at <= t1 + 5).map((b) => b.rtt);
    expect(during.length).toBeGreaterThanOrEqual(1);
    const sorted = [...during].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    if (process.env.HB_DEBUG_RTT) console.log({ ms: t1 - t0, rtts: during.map((r) => r.toFixed(1)).join(" ") });
    expect(median).toBeLessThan(50);
    expect(s.frames("error")).toEqual([]);
    expect(a.stats().messagesOut).toBe(2);
  }, 30_000);

  it("reassembles a fragmented 5 MB delivery", async () => {
    const s = await server();
    const a = await connected(s, "a");
    const b = await connected(s, "b");
    const sub = a.subscribe("files.>");
    await sub.ready;
    const payload = randomBytes(5 * 1024 * 1024);
    const got = take(sub, 1, 10_000);
    await b.publish("files.x", payload); // the fake sends the 5 MB Delivery as 64 KiB fragments
    const [m] = await got;
    expect(m?.subject).toBe("files.x");
    expect(Buffer.from(m?.payload ?? []).equals(payload)).toBe(true);
    expect(a.stats().framesIn).toBeGreaterThan(80);
  });

  it("closes the connection with MESSAGE_TOO_LARGE when a fragmented message exceeds max_message_size", async () => {
    const s = await server({ maxMessageSize: 1000 });
    const a = await connected(s, "a");
    const errors: HbError[] = [];
    a.on("error", (e) => errors.push(e));
    s.send(makeFrame("fragment", { id: 1, totalLength: 5000n, data: new Uint8Array(10), final: false }));
    const d = await next(a, "disconnect");
    expect(d.reason).toBe("decode_error");
    expect((d.error as HbError).code).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(errors[0]?.code).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    await s.until(() => s.frames("error").length === 1, 2000, "error frame");
    expect(s.frames("error")[0]?.value).toMatchObject({ code: ErrorCode.MESSAGE_TOO_LARGE, fatal: true });
    await next(a, "welcome"); // and reconnects
  });
});

describe("reconnect", () => {
  it("re-subscribes everything on a fresh session; the Subscription objects keep working", async () => {
    const s = await server();
    s.resume = false;
    const a = await connected(s, "a");
    const b = await connected(s, "b");
    const x = a.subscribe("x");
    const y = a.subscribe("y.*");
    await Promise.all([x.ready, y.ready]);
    const first = s.frames("subscribe").map((f) => f.value.requestId);
    s.connections[0]?.socket.destroy();
    const w = await next(a, "welcome");
    expect(w.resumed).toBe(false);
    await s.until(() => s.frames("subscribe").length === 4, 2000, "Subscribe again");
    const again = s.frames("subscribe").slice(2);
    expect(again.map((f) => f.value.subject)).toEqual(["x", "y.*"]);
    expect(again.every((f) => f.conn === 3)).toBe(true);
    expect(again.map((f) => f.value.requestId)).not.toEqual(first);
    expect(s.frames("unsubscribe")).toEqual([]); // nothing to clean up on a fresh session
    await s.until(() => x.state === "active" && y.state === "active", 2000, "active again");
    const got = take(y, 1);
    await b.publish("y.1", "again");
    expect((await got)[0]?.text()).toBe("again");
  });

  it("on a resumed session unsubscribes the old channels and subscribes again (no duplicates either way)", async () => {
    for (const keep of [false, true]) {
      const s = await server();
      s.keepSubscriptionsOnResume = keep;
      const a = await connected(s, "a");
      const sub = a.subscribe("x");
      const gone = a.subscribe("gone");
      await Promise.all([sub.ready, gone.ready]);
      s.dropAll();
      await next(a, "disconnect");
      gone.unsubscribe(); // while disconnected
      const w = await next(a, "welcome");
      expect(w.resumed).toBe(true);
      await s.until(() => sub.state === "active", 2000, "active again");
      const unsub = s.frames("unsubscribe").filter((f) => f.conn === 2).map((f) => f.frame.channel);
      expect(unsub.sort()).toEqual([1, 2]);
      expect(s.frames("subscribe").filter((f) => f.conn === 2).map((f) => f.value.subject)).toEqual(["x"]);
      const received: Message[] = [];
      sub.on("message", (m) => received.push(m));
      await a.publish("x", "once");
      await a.publish("gone", "nobody");
      await s.until(() => received.length >= 1, 2000, "delivery");
      await sleep(30);
      expect(received.map((m) => m.text())).toEqual(["once"]);
      // The server's UNKNOWN_CHANNEL answers (when it kept nothing) are expected, not errors.
      expect(a.stats().connected).toBe(true);
      await a.close();
    }
  });
});
