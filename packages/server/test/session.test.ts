import { ErrorCode, FrameEncoder, encodeFrame, makeFrame } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import {
  HeartbeatServer,
  type HeartbeatServerOptions,
  type Session,
  type SessionTransport,
  WRITE_HIGH_WATER,
} from "../src/internal.js";
import { FAST } from "./helpers.js";
import { MemoryTransport } from "./memory-transport.js";
import { sleep, waitFor } from "./raw-peer.js";

const servers: HeartbeatServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function open(options: HeartbeatServerOptions = {}): { server: HeartbeatServer; connect: (ip?: string) => [Session, MemoryTransport] } {
  const server = new HeartbeatServer({ ...FAST, closeTimeout: 0, ...options });
  servers.push(server);
  return {
    server,
    connect: (ip?: string) => {
      const t = new MemoryTransport(ip);
      const s = server.accept(t);
      if (!s) throw new Error("refused");
      t.session = s;
      return [s, t];
    },
  };
}

const hello = (nodeId: string) => encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId }));

describe("Session without sockets", () => {
  it("handshakes and batches the replies of one turn into one write", async () => {
    const { server, connect } = open();
    const [session, t] = connect();
    const enc = new FrameEncoder().add(makeFrame("hello", { protocolVersion: 1, nodeId: "mem" }));
    for (let i = 1; i <= 3; i++) enc.add(makeFrame("heartbeat", { seq: BigInt(i) }));
    session.receive(enc.finish());
    expect(t.writes).toBe(0); // nothing written synchronously
    await sleep(5);
    expect(t.writes).toBe(1);
    expect(t.kinds()).toEqual(["welcome", "heartbeatAck", "heartbeatAck", "heartbeatAck"]);
    expect(session.nodeId).toBe("mem");
    expect(server.get("mem")).toMatchObject({ remoteAddress: "10.0.0.1", heartbeats: 3 });
  });

  it("decodes frames split into single bytes", async () => {
    const { server, connect } = open();
    const [session, t] = connect();
    for (const b of hello("bytewise")) session.receive(new Uint8Array([b]));
    await sleep(5);
    expect(t.kinds()).toEqual(["welcome"]);
    expect(server.get("bytewise")?.state).toBe("online");
  });

  it("answers a fatal error, ends the transport and ignores later input", async () => {
    const { server, connect } = open();
    const [session, t] = connect();
    session.receive(encodeFrame(makeFrame("heartbeat", {})));
    expect(t.ended).toBe(true);
    expect(session.closed).toBe(true);
    session.receive(hello("late"));
    await sleep(5);
    expect(t.kinds()).toEqual(["error"]);
    expect(server.get("late")).toBeUndefined();
    expect(server.stats().errors).toEqual({ PROTOCOL_VIOLATION: 1 });
  });

  it("stops writing while the transport is backed up, resumes on drain, and closes with SLOW_CONSUMER a peer that leaves 1 MiB of control frames unread", async () => {
    const { server, connect } = open({ rateLimit: { framesPerSecond: 1_000_000, burst: 1_000_000 } });
    const [session, t] = connect();
    session.receive(hello("slow-reader"));
    await sleep(5);
    t.writableLength = WRITE_HIGH_WATER + 1; // the Welcome and more are still unread
    session.receive(encodeFrame(makeFrame("heartbeat", { seq: 1n })));
    await sleep(5);
    expect(t.kinds()).toEqual(["welcome", "heartbeatAck"]); // written, then paused
    session.receive(encodeFrame(makeFrame("heartbeat", { seq: 2n })));
    await sleep(5);
    expect(t.writes).toBe(2); // the second ack waits
    t.writableLength = 0;
    session.transportDrained();
    await sleep(5);
    expect(t.kinds()).toEqual(["welcome", "heartbeatAck", "heartbeatAck"]);
    expect(server.stats().queuedBytes).toBe(0);
    // Backed up again, and ~60 000 acks (> 1 MiB) pile up unread.
    t.writableLength = WRITE_HIGH_WATER + 1;
    session.receive(encodeFrame(makeFrame("heartbeat", { seq: 3n })));
    await sleep(5);
    const enc = new FrameEncoder();
    for (let i = 0; i < 60_000; i++) enc.add(makeFrame("heartbeat", { seq: BigInt(i + 4), sendTimeUs: 1_000_000_000n }));
    session.receive(enc.finish());
    // 60 000 frames are handled in slices of the event loop's budget, over several turns.
    await waitFor(() => t.ended, 10_000, "the slow reader disconnected");
    expect(t.frames.at(-1)?.body.value).toMatchObject({ code: ErrorCode.SLOW_CONSUMER, fatal: true });
    expect(server.stats().errors.SLOW_CONSUMER).toBe(1);
    await sleep(5);
    expect(server.get("slow-reader")).toBeUndefined();
  });

  it("serves a client that announces the smallest max_frame_size (1024)", async () => {
    const { server, connect } = open();
    const [session, t] = connect();
    session.receive(encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId: "tiny", maxFrameSize: 1024 })));
    const id = "x".repeat(128);
    // Every frame the server sends fits; one that did not would be dropped and counted.
    session.receive(encodeFrame(makeFrame("attach", { handle: 1, nodeId: id })));
    await sleep(5);
    expect(t.kinds()).toEqual(["welcome", "attached"]);
    expect(server.stats().framesDropped).toBe(0);
  });

  it("closes the connection with INTERNAL when a handler throws, and keeps serving others", async () => {
    const { server, connect } = open({
      authenticate: (h) => {
        if (h.nodeId === "boom") return { then: () => { throw new Error("bad thenable"); } } as never;
        return true;
      },
    });
    const [s1, t1] = connect();
    s1.receive(hello("boom"));
    await sleep(5);
    expect(t1.frames[0]?.body.value).toMatchObject({ code: ErrorCode.INTERNAL, fatal: true });
    const [s2, t2] = connect();
    s2.receive(hello("fine"));
    await sleep(5);
    expect(t2.kinds()).toEqual(["welcome"]);
    expect(server.stats().errors.INTERNAL).toBe(1);
  });

  it("refuses over maxConnections with SERVER_FULL through any transport", async () => {
    const { server } = open({ maxConnections: 1 });
    expect(server.accept(new MemoryTransport())).toBeDefined();
    const t = new MemoryTransport();
    expect(server.accept(t)).toBeUndefined();
    expect(t.frames[0]?.body.value).toMatchObject({ code: ErrorCode.SERVER_FULL, fatal: true });
    expect(t.ended).toBe(true);
  });
});
