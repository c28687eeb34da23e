import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  type DisconnectInfo,
  ErrorCode,
  HbError,
  HeartbeatClient,
  type HeartbeatClientOptions,
  type HeartbeatInfo,
  type ReconnectingInfo,
} from "../src/index.js";
import { makeFrame } from "@hb/codec";
import { FakeServer, type FakeServerOptions } from "./fake-server.js";
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

function client(s: FakeServer | number, options: Partial<HeartbeatClientOptions> = {}): HeartbeatClient {
  const c = new HeartbeatClient({
    host: "127.0.0.1",
    port: typeof s === "number" ? s : s.port,
    reconnectInterval: 20,
    maxReconnectDelay: 100,
    connectTimeout: 2000,
    closeTimeout: 500,
    ...options,
  });
  clients.push(c);
  return c;
}

/** A port where nothing listens (just closed). */
async function deadPort(): Promise<number> {
  const s = await FakeServer.start();
  const port = s.port;
  await s.close();
  return port;
}

describe("connect", () => {
  it("sends Hello and resolves with the Welcome info; emits connect then welcome", async () => {
    const s = await server();
    const c = client(s, {
      nodeId: "sensor-1",
      metadata: { room: "lab" },
      token: "secret",
      heartbeatInterval: 75,
      will: { subject: "dead.sensor-1", payload: "bye" },
      clientName: "test/1",
    });
    const order: string[] = [];
    c.on("connect", () => order.push("connect"));
    c.on("welcome", () => order.push("welcome"));
    const info = await c.connect();
    expect(info).toMatchObject({
      nodeId: "sensor-1",
      heartbeatInterval: 50,
      heartbeatTimeout: 400,
      resumed: false,
      resumeGrace: 5000,
      serverId: "fake",
      protocolVersion: 1,
    });
    expect(info.sessionId).toMatch(/^[0-9a-f]{16}$/);
    expect(order).toEqual(["connect", "welcome"]);
    expect(c.status).toBe("connected");
    expect(c.nodeId).toBe("sensor-1");
    const hello = s.frames("hello")[0]?.value;
    expect(hello).toMatchObject({
      protocolVersion: 1,
      nodeId: "sensor-1",
      labels: { room: "lab" },
      token: "secret",
      heartbeatIntervalMs: 75,
      clientName: "test/1",
      maxFrameSize: 1024 * 1024,
    });
    expect(hello?.resumeToken.length).toBe(0);
    expect(hello?.will?.subject).toBe("dead.sensor-1");
    expect(new TextDecoder().decode(hello?.will?.payload)).toBe("bye");
    expect(s.received[0]?.frame.body.case).toBe("hello"); // Hello first
  });

  it("takes the node id the server assigns when none is asked", async () => {
    const s = await server();
    const c = client(s);
    expect((await c.connect()).nodeId).toBe("assigned-1");
    expect(c.stats().nodeId).toBe("assigned-1");
  });

  it.each([
    ["UNAUTHORIZED", ErrorCode.UNAUTHORIZED],
    ["SERVER_FULL", ErrorCode.SERVER_FULL],
    ["UNSUPPORTED_VERSION", ErrorCode.UNSUPPORTED_VERSION],
    ["INVALID_ARGUMENT", ErrorCode.INVALID_ARGUMENT],
  ])("rejects with HbError %s when the server refuses, without retrying", async (name, code) => {
    const s = await server();
    s.refuse = { code, message: `no: ${name}` };
    const c = client(s);
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HbError);
    expect((err as HbError).code).toBe(code);
    expect((err as HbError).codeName).toBe(name);
    expect((err as HbError).message).toBe(`no: ${name}`);
    expect(c.status).toBe("idle");
    await sleep(150);
    expect(s.connections.length).toBe(1);
  });

  it("can connect again after a refused first connect", async () => {
    const s = await server();
    s.refuse = { code: ErrorCode.SERVER_FULL };
    const c = client(s);
    await expect(c.connect()).rejects.toMatchObject({ code: ErrorCode.SERVER_FULL });
    s.refuse = undefined;
    await expect(c.connect()).resolves.toMatchObject({ resumed: false });
  });

  it("rejects at once (no hang, no retry) when the server is unreachable, even with autoReconnect", async () => {
    const c = client(await deadPort(), { autoReconnect: true });
    const reconnecting: ReconnectingInfo[] = [];
    c.on("reconnecting", (r) => reconnecting.push(r));
    await expect(c.connect()).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await sleep(100);
    expect(reconnecting).toEqual([]);
    expect(c.status).toBe("idle");
  });

  it("rejects with HANDSHAKE_TIMEOUT when no Welcome comes within connectTimeout", async () => {
    const s = await server();
    s.holdWelcome = true;
    const c = client(s, { connectTimeout: 150 });
    const t0 = performance.now();
    await expect(c.connect()).rejects.toMatchObject({ code: ErrorCode.HANDSHAKE_TIMEOUT });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    await s.until(() => s.last?.closed === true, 1000, "socket closed");
  });

  it("is cancelled by an AbortSignal: rejects with its reason and tears the socket down", async () => {
    const s = await server();
    s.holdWelcome = true;
    const c = client(s);
    const ac = new AbortController();
    const p = c.connect({ signal: ac.signal });
    await s.until(() => s.frames("hello").length === 1, 2000, "Hello");
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
    await s.until(() => s.last?.closed === true, 1000, "socket closed");
    expect(c.status).toBe("idle");

    const reason = new Error("changed my mind");
    await expect(c.connect({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(s.connections.length).toBe(1); // an aborted signal does not even dial
  });

  it("refuses a second connect() while connected", async () => {
    const s = await server();
    const c = client(s);
    await c.connect();
    await expect(c.connect()).rejects.toThrow(/while connected/);
  });
});

describe("TLS", () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

  it("connects with tls.connect when `tls` is set, and checks the certificate", async () => {
    const cert = fixture("cert.pem");
    const s = await server({ tls: { key: fixture("key.pem"), cert } });
    const c = client(s, { tls: { ca: cert } });
    const connected = next(c, "connect");
    const info = await c.connect();
    await connected;
    expect(info.resumed).toBe(false);
    await s.until(() => s.frames("heartbeat").length >= 1, 2000, "heartbeat over TLS");

    const untrusted = client(s, { host: "localhost", tls: {} }); // self-signed: refused
    await expect(untrusted.connect()).rejects.toMatchObject({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
  });
});

describe("heartbeats", () => {
  it("sends Heartbeat every negotiated interval with seq and send time, and measures RTT", async () => {
    const s = await server({ heartbeatIntervalMs: 50 });
    const c = client(s);
    const beats: HeartbeatInfo[] = [];
    c.on("heartbeat", (h) => beats.push(h));
    await c.connect();
    const welcomeAt = performance.now();
    await s.until(() => s.frames("heartbeat").length >= 6, 3000, "6 heartbeats");
    const hb = s.frames("heartbeat").slice(0, 6);
    expect(hb.map((h) => h.value.seq)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(hb[0]?.at ?? 0).toBeGreaterThanOrEqual(welcomeAt + 30); // first after one interval
    const gaps = hb.slice(1).map((h, i) => h.at - (hb[i]?.at ?? 0));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(40);
    expect(mean).toBeLessThan(75);
    for (const h of hb) expect(h.value.sendTimeUs).toBeGreaterThan(0n);

    await sleep(20);
    expect(beats.length).toBeGreaterThanOrEqual(5);
    expect(beats[0]?.seq).toBe(1);
    for (const b of beats) {
      expect(b.rtt).toBeGreaterThanOrEqual(0);
      expect(b.rtt).toBeLessThan(50);
    }
    const st = c.stats();
    expect(st.rtt.last).toBe(beats.at(-1)?.rtt);
    expect(st.rtt.mean).toBeGreaterThan(0);
    expect(st.heartbeatsAcked).toBe(beats.length);
    expect(st.heartbeatsSent).toBeGreaterThanOrEqual(st.heartbeatsAcked);
  });

  it("uses the interval the server negotiated, not the one asked for", async () => {
    const s = await server({ heartbeatIntervalMs: 120 });
    const c = client(s, { heartbeatInterval: 10 });
    await c.connect();
    await sleep(400);
    const n = s.frames("heartbeat").length;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(4);
  });
});

describe("dead server and reconnect", () => {
  it("drops a silent server after the negotiated timeout and comes back with its resume token", async () => {
    const s = await server({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 });
    const c = client(s, { nodeId: "n1" });
    const first = await c.connect();
    const token1 = s.tokens[0];
    const conn1 = s.last;
    if (conn1 === undefined) throw new Error("no connection");
    await sleep(120); // some acks first
    const silentAt = performance.now();
    conn1.silent = true;
    const disc = await next(c, "disconnect", 2000);
    const detectedAfter = performance.now() - silentAt;
    expect(disc.reason).toBe("heartbeat_timeout");
    expect((disc.error as HbError).code).toBe(ErrorCode.HEARTBEAT_TIMEOUT);
    expect(detectedAfter).toBeGreaterThan(200); // ≥ timeout minus the time since the last ack
    expect(detectedAfter).toBeLessThan(600);

    const again = await next(c, "welcome", 2000);
    expect(again.resumed).toBe(true);
    expect(again.sessionId).toBe(first.sessionId);
    expect(again.nodeId).toBe("n1");
    const hello2 = s.frames("hello")[1]?.value;
    expect(hello2?.resumeToken).toEqual(token1);
    expect(hello2?.nodeId).toBe("n1");
    expect(c.stats().reconnects).toBe(1);
    await s.until(() => conn1.closed, 1000, "old socket closed");
  });

  it("comes back by itself after a server restart on the same port, presenting its resume token", async () => {
    const s1 = await server();
    const c = client(s1);
    const first = await c.connect(); // server-assigned id must be kept too
    const token = s1.tokens[0];
    const events: string[] = [];
    c.on("disconnect", (d) => events.push(`disconnect:${d.reason}`));
    c.on("reconnecting", (r) => events.push(`reconnecting:${r.attempt}`));
    await s1.close();
    await sleep(250); // several refused attempts while the server is down
    const s2 = await FakeServer.restart(s1);
    servers.push(s2);
    const w = await next(c, "welcome", 3000);
    expect(w.resumed).toBe(true);
    expect(w.nodeId).toBe(first.nodeId);
    const hello = s2.frames("hello")[0]?.value;
    expect(hello?.resumeToken).toEqual(token);
    expect(hello?.nodeId).toBe(first.nodeId);
    expect(events[0]).toBe("disconnect:connection_closed");
    expect(events.filter((e) => e.startsWith("reconnecting")).length).toBeGreaterThanOrEqual(2);
    expect(c.stats()).toMatchObject({ connected: true, reconnects: 1 });
    // Heartbeats resume on the new connection, seq from 1 again.
    await s2.until(() => s2.frames("heartbeat").length >= 1, 1000, "heartbeat");
    expect(s2.frames("heartbeat")[0]?.value.seq).toBe(1n);
  });

  it("on GoAway closes the connection without Goodbye and reconnects", async () => {
    const s = await server();
    const c = client(s);
    await c.connect();
    s.send(makeFrame("goAway", { code: ErrorCode.SHUTTING_DOWN, reason: "deploy", drainMs: 5000 }));
    const d = await next(c, "disconnect");
    expect(d.reason).toBe("go_away");
    expect((d.error as HbError).code).toBe(ErrorCode.SHUTTING_DOWN);
    await next(c, "welcome");
    expect(s.connections.length).toBe(2);
    expect(s.connections[0]?.closed).toBe(true);
    expect(s.frames("goodbye")).toEqual([]);
  });

  it("on a fatal, non-permanent ProtocolError emits error, disconnects and reconnects", async () => {
    const s = await server();
    const c = client(s);
    const errors: HbError[] = [];
    c.on("error", (e) => errors.push(e));
    await c.connect();
    s.send(makeFrame("error", { code: ErrorCode.RATE_LIMITED, message: "slow down", fatal: true }));
    const d = await next(c, "disconnect");
    expect(d.reason).toBe("protocol_error");
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.RATE_LIMITED]);
    await next(c, "welcome");
  });

  it("does not crash when an error is emitted without a listener", async () => {
    const s = await server();
    const c = client(s);
    await c.connect();
    s.send(makeFrame("error", { code: ErrorCode.INTERNAL, message: "oops", ref: 99n, fatal: false }));
    s.send(makeFrame("error", { code: ErrorCode.RATE_LIMITED, message: "slow down", fatal: true }));
    await next(c, "disconnect");
    await next(c, "welcome");
  });

  it.each([
    ["DUPLICATE_NODE", ErrorCode.DUPLICATE_NODE],
    ["UNAUTHORIZED", ErrorCode.UNAUTHORIZED],
  ])("stops for good on a permanent fatal error (%s)", async (_name, code) => {
    const s = await server();
    const c = client(s);
    await c.connect();
    const closed = next(c, "close");
    s.send(makeFrame("error", { code, message: "go away", fatal: true }));
    const info = await closed;
    expect((info.error as HbError).code).toBe(code);
    expect(c.status).toBe("closed");
    await sleep(150);
    expect(s.connections.length).toBe(1);
  });

  it("stops when a reconnect is refused permanently", async () => {
    const s = await server();
    const c = client(s);
    const errors: HbError[] = [];
    c.on("error", (e) => errors.push(e));
    await c.connect();
    s.refuse = { code: ErrorCode.UNAUTHORIZED, message: "token revoked" };
    s.dropAll();
    const info = await next(c, "close");
    expect((info.error as HbError).code).toBe(ErrorCode.UNAUTHORIZED);
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.UNAUTHORIZED]);
    await sleep(150);
    expect(s.connections.length).toBe(2);
  });

  it("keeps retrying a refusal that is not permanent (SERVER_FULL)", async () => {
    const s = await server();
    const c = client(s);
    c.on("error", () => {});
    await c.connect();
    s.refuse = { code: ErrorCode.SERVER_FULL };
    s.dropAll();
    await s.until(() => s.connections.length >= 4, 3000, "retries");
    s.refuse = undefined;
    await next(c, "welcome");
  });

  it("gives up after maxReconnectAttempts", async () => {
    const s = await server();
    const c = client(s, { maxReconnectAttempts: 3 });
    await c.connect();
    const attempts: number[] = [];
    c.on("reconnecting", (r) => attempts.push(r.attempt));
    await s.close();
    const info = await next(c, "close", 3000);
    expect(info.error?.message).toMatch(/gave up after 3 reconnect attempts/);
    expect(attempts).toEqual([1, 2, 3]);
    expect(c.status).toBe("closed");
  });

  it("with autoReconnect off, a lost connection closes the client", async () => {
    const s = await server();
    const c = client(s, { autoReconnect: false });
    await c.connect();
    const seen: string[] = [];
    c.on("disconnect", (d) => seen.push(d.reason));
    c.on("reconnecting", () => seen.push("reconnecting"));
    const closed = next(c, "close");
    s.dropAll();
    await closed;
    expect(seen).toEqual(["connection_closed"]);
    expect(c.status).toBe("closed");
  });

  it("uses backoff delays within the configured bounds", async () => {
    const s = await server();
    // Connect to a live server first, then take it away.
    const c2 = client(s, { reconnectInterval: 10, maxReconnectDelay: 40, maxReconnectAttempts: 6 });
    await c2.connect();
    const delays: ReconnectingInfo[] = [];
    c2.on("reconnecting", (r) => delays.push(r));
    await s.close();
    await next(c2, "close", 3000);
    expect(delays.map((d) => d.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    delays.forEach((d, i) => {
      expect(d.delay).toBeGreaterThanOrEqual(0);
      expect(d.delay).toBeLessThan(Math.min(40, 10 * 2 ** i));
    });
    expect(delays[1]?.error).toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("close", () => {
  it("sends Goodbye, waits for the server to close, and never reconnects", async () => {
    const s = await server();
    const c = client(s, { closeTimeout: 2000 });
    await c.connect();
    const seen: Array<DisconnectInfo | string> = [];
    c.on("disconnect", (d) => seen.push(d));
    c.on("close", () => seen.push("close"));
    c.on("reconnecting", () => seen.push("reconnecting"));
    const t0 = performance.now();
    await c.close();
    expect(performance.now() - t0).toBeLessThan(1000); // the fake closes on Goodbye
    expect(s.frames("goodbye").length).toBe(1);
    expect(s.received.at(-1)?.frame.body.case).toBe("goodbye");
    expect(seen).toEqual([{ reason: "client_close" }, "close"]);
    expect(c.status).toBe("closed");
    await s.until(() => s.last?.closed === true, 1000, "closed");
    await sleep(150);
    expect(s.connections.length).toBe(1);
    await c.close(); // idempotent
    await expect(c.connect()).rejects.toThrow(/closed/);
  });

  it("gives up waiting after closeTimeout when the server does not close", async () => {
    const s = await server();
    const c = client(s, { closeTimeout: 100 });
    await c.connect();
    const conn = s.last;
    if (conn === undefined) throw new Error("no connection");
    conn.socket.allowHalfOpen = true;
    conn.socket.removeAllListeners("end");
    // The fake ends on Goodbye; make it ignore Goodbye by pausing reads.
    conn.socket.pause();
    const t0 = performance.now();
    await c.close();
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(1000);
  });

  it("stops a pending reconnect", async () => {
    const s = await server();
    const c = client(s, { reconnectInterval: 200, maxReconnectDelay: 200 });
    await c.connect();
    const r = next(c, "reconnecting");
    await s.close();
    await r;
    await c.close();
    expect(c.status).toBe("closed");
    const s2 = await FakeServer.start({ port: s.port });
    servers.push(s2);
    await sleep(300);
    expect(s2.connections.length).toBe(0);
  });

  it("from a disconnect listener stops the reconnect; status is already decided in the listener", async () => {
    const s = await server();
    const c = client(s);
    await c.connect();
    const statuses: string[] = [];
    c.on("disconnect", () => {
      statuses.push(c.status);
      void c.close();
    });
    c.on("reconnecting", () => statuses.push("reconnecting-event"));
    const closed = next(c, "close");
    s.dropAll();
    expect(await closed).toEqual({});
    await sleep(100);
    expect(statuses).toEqual(["reconnecting"]);
    expect(s.connections.length).toBe(1);

    const s2 = await server();
    const c2 = client(s2, { autoReconnect: false });
    await c2.connect();
    c2.on("disconnect", () => {
      statuses.push(c2.status);
      void c2.close();
    });
    const closed2 = next(c2, "close");
    s2.dropAll();
    expect((await closed2).error?.message).toMatch(/autoReconnect is off/);
    expect(statuses.at(-1)).toBe("closed");
  });

  it("rejects a pending connect()", async () => {
    const s = await server();
    s.holdWelcome = true;
    const c = client(s);
    const p = c.connect();
    await s.until(() => s.frames("hello").length === 1, 2000, "Hello");
    await c.close();
    await expect(p).rejects.toThrow(/client closed/);
    expect(c.status).toBe("closed");
  });
});

describe("stats", () => {
  it("counts frames, bytes and heartbeats in both directions", async () => {
    const s = await server({ heartbeatIntervalMs: 30 });
    const c = client(s);
    expect(c.stats()).toMatchObject({ status: "idle", connected: false, nodeId: undefined, framesIn: 0, framesOut: 0 });
    expect(c.stats().rtt).toEqual({ last: undefined, mean: undefined });
    await c.connect();
    await s.until(() => s.frames("heartbeat").length >= 3, 2000, "heartbeats");
    await c.close();
    const st = c.stats();
    const sent = s.received.length; // hello + heartbeats + goodbye
    expect(st.framesOut).toBe(sent);
    expect(st.heartbeatsSent).toBe(s.frames("heartbeat").length);
    expect(st.framesIn).toBe(1 + st.heartbeatsAcked); // welcome + acks
    expect(st.heartbeatsAcked).toBeGreaterThanOrEqual(2);
    expect(st.bytesOut).toBeGreaterThan(sent * 2);
    expect(st.bytesIn).toBeGreaterThan(st.framesIn * 2);
    expect(st).toMatchObject({ status: "closed", connected: false, reconnects: 0, attachedNodes: 0 });
  });
});
