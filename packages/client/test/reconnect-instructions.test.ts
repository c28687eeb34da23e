// A client told to wait does (PROTOCOL.md §5.5, §6.6): GoAway.reconnect_delay_ms
// and ProtocolError.retry_after_ms, over real loopback sockets.
import { makeFrame } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, HeartbeatClient, type HeartbeatClientOptions } from "../src/index.js";
import { FakeServer } from "./fake-server.js";
import { next } from "./helpers.js";

const servers: FakeServer[] = [];
const clients: HeartbeatClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(options: Partial<HeartbeatClientOptions> = {}) {
  const s = await FakeServer.start({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 5000 });
  servers.push(s);
  const c = new HeartbeatClient({ host: "127.0.0.1", port: s.port, nodeId: "drained-1", closeTimeout: 300, ...options });
  clients.push(c);
  await c.connect();
  return { s, c };
}

describe("GoAway with reconnect_delay_ms", () => {
  it("keeps heartbeating on the draining connection until the delay, then reconnects at once with its resume token", async () => {
    // A backoff window of an hour: a reconnect within a second can only be the server's instruction.
    const { s, c } = await setup({ reconnectInterval: 3_600_000, maxReconnectDelay: 3_600_000 });
    const first = s.last;
    const DELAY = 600;
    const sentAt = performance.now();
    s.send(makeFrame("goAway", { code: ErrorCode.SHUTTING_DOWN, drainMs: 5000, reconnectDelayMs: DELAY }));
    const beforeLeaving = s.frames("heartbeat").filter((r) => r.conn === first?.id).length;
    await s.until(() => s.connections.length === 2, 5000, "the reconnect");
    const second = s.connections[1];
    expect(second).toBeDefined();
    const reconnectedAfter = performance.now() - sentAt;
    expect(reconnectedAfter).toBeGreaterThanOrEqual(DELAY - 20);
    expect(reconnectedAfter).toBeLessThan(DELAY + 2000);
    // Heartbeats went on on the old connection meanwhile (interval 50 ms, 600 ms of delay).
    const onOld = s.frames("heartbeat").filter((r) => r.conn === first?.id).length;
    expect(onOld - beforeLeaving).toBeGreaterThanOrEqual(3);
    expect(s.frames("goodbye")).toHaveLength(0); // not leaving: no Goodbye
    await s.until(() => s.frames("hello").length === 2, 5000, "the second Hello");
    const hello = s.frames("hello")[1]?.value;
    expect(Buffer.from(hello?.resumeToken ?? []).equals(Buffer.from(s.tokens[0] ?? []))).toBe(true);
    await next(c, "welcome", 5000).catch(() => undefined);
    expect(c.status).toBe("connected");
  });

  it("holds new work for the next connection while it waits", async () => {
    const { s, c } = await setup({ reconnectInterval: 3_600_000, maxReconnectDelay: 3_600_000 });
    const first = s.last;
    const before = s.frames("heartbeat").length;
    s.send(makeFrame("goAway", { code: ErrorCode.SHUTTING_DOWN, drainMs: 5000, reconnectDelayMs: 400 }));
    await s.until(() => s.frames("heartbeat").filter((r) => r.conn === first?.id).length >= before + 2, 5000, "heartbeats");
    // Two heartbeats (50 ms apart) after the GoAway left: the loopback GoAway has been read; publish now.
    const published = c.publish("drain.test", "held");
    await s.until(() => s.connections.length === 2 && s.frames("publish").length === 1, 5000, "the publish");
    await published;
    const p = s.frames("publish")[0];
    expect(p?.conn).toBe(2);
    expect(new TextDecoder().decode(p?.value.payload)).toBe("held");
  });

  it("still waits out the delay when the server closes the connection first", async () => {
    const { s } = await setup({ reconnectInterval: 3_600_000, maxReconnectDelay: 3_600_000 });
    const sentAt = performance.now();
    const before = s.frames("heartbeat").length;
    s.send(makeFrame("goAway", { code: ErrorCode.SHUTTING_DOWN, drainMs: 5000, reconnectDelayMs: 700 }));
    await s.until(() => s.frames("heartbeat").length >= before + 2, 5000, "heartbeats after the GoAway");
    s.last?.socket.destroy();
    await s.until(() => s.connections.length === 2, 5000, "the reconnect");
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(700 - 20);
  });
});

describe("retry_after_ms", () => {
  it("waits at least retry_after_ms before the next attempt, whatever its own backoff says", async () => {
    const { s, c } = await setup({ reconnectInterval: 10, maxReconnectDelay: 20 });
    s.refuse = { code: ErrorCode.SERVER_FULL, message: "full", retryAfterMs: 800 };
    s.last?.socket.destroy();
    await s.until(() => s.connections.length === 2 && s.connections[1]?.closed === true, 5000, "the refused attempt");
    const refusedAt = performance.now();
    s.refuse = undefined;
    await s.until(() => s.connections.length === 3, 5000, "the attempt after the refusal");
    expect(performance.now() - refusedAt).toBeGreaterThanOrEqual(800 - 50);
    await next(c, "welcome", 5000).catch(() => undefined);
    expect(c.status).toBe("connected");
  });
});

describe("retry_after_ms on a first connect", () => {
  it("rejects connect() with an HbError that carries the server's retryAfterMs (undefined when it gave none)", async () => {
    const s = await FakeServer.start({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 5000 });
    servers.push(s);
    s.refuse = { code: ErrorCode.SERVER_FULL, message: "full", retryAfterMs: 1_500 };
    const c = new HeartbeatClient({ host: "127.0.0.1", port: s.port, nodeId: "refused-1", autoReconnect: false });
    c.on("error", () => {});
    clients.push(c);
    await expect(c.connect()).rejects.toMatchObject({ name: "HbError", code: ErrorCode.SERVER_FULL, retryAfterMs: 1_500 });
    s.refuse = { code: ErrorCode.SERVER_FULL, message: "full" };
    const d = new HeartbeatClient({ host: "127.0.0.1", port: s.port, nodeId: "refused-2", autoReconnect: false });
    d.on("error", () => {});
    clients.push(d);
    const err = await d.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: ErrorCode.SERVER_FULL });
    expect((err as { retryAfterMs?: number }).retryAfterMs).toBeUndefined();
  });
});
