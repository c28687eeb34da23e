import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { ErrorCode, type Frame, HbError, encodeFrame, makeFrame } from "@hb/codec";
import { Connection, type TrafficCounters } from "../src/connection.js";

/** An in-memory socket: records writes; `feed` plays bytes from the server. */
function memorySocket() {
  const writes: Uint8Array[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Uint8Array, _enc, cb) {
      writes.push(chunk);
      cb();
    },
  });
  return { socket, writes, feed: (b: Uint8Array | null) => socket.push(b) };
}

function open() {
  const mem = memorySocket();
  const counters: TrafficCounters = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
  const frames: Frame[] = [];
  const decodeErrors: HbError[] = [];
  const closes: Array<Error | undefined> = [];
  const conn = new Connection(
    mem.socket,
    undefined,
    {
      onOpen: () => {},
      onFrame: (f) => frames.push(f),
      onDecodeError: (e) => decodeErrors.push(e),
      onClose: (e) => closes.push(e),
    },
    { maxFrameSize: 1024, counters },
  );
  return { ...mem, conn, counters, frames, decodeErrors, closes };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("Connection (no sockets)", () => {
  it("writes every frame sent in one tick with a single socket write", async () => {
    const t = open();
    t.conn.send(makeFrame("heartbeat", { seq: 1n }));
    t.conn.send(makeFrame("batchHeartbeat", { all: true }));
    t.conn.send(makeFrame("detach", { handles: [3] }));
    expect(t.writes.length).toBe(0);
    await tick();
    expect(t.writes.length).toBe(1);
    expect(t.counters.framesOut).toBe(3);
    expect(t.counters.bytesOut).toBe(t.writes[0]?.length);
    t.conn.send(makeFrame("heartbeat", { seq: 2n }));
    await tick();
    expect(t.writes.length).toBe(2);
  });

  it("decodes frames split across chunks and counts them", async () => {
    const t = open();
    const wire = new Uint8Array([
      ...encodeFrame(makeFrame("heartbeatAck", { seq: 1n })),
      ...encodeFrame(makeFrame("attached", { handle: 1, nodeId: "a" })),
    ]);
    t.feed(wire.subarray(0, 3));
    t.feed(wire.subarray(3));
    await tick();
    expect(t.frames.map((f) => f.body.case)).toEqual(["heartbeatAck", "attached"]);
    expect(t.counters).toMatchObject({ framesIn: 2, bytesIn: wire.length });
  });

  it("reports a decode error once the server sends garbage", async () => {
    const t = open();
    t.feed(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    await tick();
    expect(t.decodeErrors.map((e) => e.code)).toEqual([ErrorCode.FRAME_TOO_LARGE]);
  });

  it("reports TRUNCATED when the stream ends inside a frame", async () => {
    const t = open();
    const wire = encodeFrame(makeFrame("heartbeatAck", { seq: 1n }));
    t.feed(wire.subarray(0, wire.length - 1));
    t.feed(null);
    t.socket.end();
    await t.conn.closed;
    expect(t.closes.length).toBe(1);
    expect(t.closes[0]).toBeInstanceOf(HbError);
    expect((t.closes[0] as HbError).code).toBe(ErrorCode.TRUNCATED);
  });

  it("calls no handler after destroy and drops later sends", async () => {
    const t = open();
    t.conn.send(makeFrame("heartbeat", { seq: 1n }));
    t.conn.destroy();
    t.conn.send(makeFrame("heartbeat", { seq: 2n }));
    await t.conn.closed;
    expect(t.closes).toEqual([]);
    expect(t.writes.length).toBe(0);
    expect(t.conn.isClosed).toBe(true);
  });
});
