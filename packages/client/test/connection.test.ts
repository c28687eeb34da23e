import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { ErrorCode, type Frame, HbError, decodeFrames, encodeFrame, fragmentFrame, makeFrame } from "@hb/codec";
import { Connection, type TrafficCounters } from "../src/connection.js";
import { LANE_PUBLISH } from "../src/outbox.js";

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

function open(extra: { onWritable?: () => void } = {}) {
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
      ...extra,
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

  it("writes control frames before data queued earlier", async () => {
    const t = open();
    t.conn.data(LANE_PUBLISH, makeFrame("publish", { subject: "s", payload: new Uint8Array(10) }));
    t.conn.send(makeFrame("heartbeat", { seq: 1n }));
    await tick();
    const frames = decodeFrames(Buffer.concat(t.writes));
    expect(frames.map((f) => f.body.case)).toEqual(["heartbeat", "publish"]);
  });

  it("tells the client when it may queue more data", async () => {
    let writable = 0;
    const t = open({ onWritable: () => writable++ });
    t.conn.send(makeFrame("heartbeat", { seq: 1n }));
    await tick();
    await tick();
    expect(writable).toBe(1);
  });

  it("reassembles fragments once configured; the reassembled frame keeps its channel", async () => {
    const t = open();
    t.conn.configure({ maxFrameSize: 0, maxMessageSize: 100_000 });
    const big = makeFrame("delivery", { subject: "x", payload: new Uint8Array(5000).fill(7) }, 3);
    const wire = Buffer.concat([...fragmentFrame(big, { id: 9, maxFrameSize: 1000 })].map(encodeFrame));
    t.feed(wire);
    await tick();
    expect(t.frames.length).toBe(1);
    expect(t.frames[0]?.channel).toBe(3);
    expect(t.frames[0]?.body.case).toBe("delivery");
    expect(t.counters.framesIn).toBeGreaterThan(5); // every fragment counts
  });

  it("refuses fragments before configure (or with max_message_size 0) with MESSAGE_TOO_LARGE, reading nothing after", async () => {
    const t = open();
    const frag = makeFrame("fragment", { id: 1, totalLength: 10n, data: new Uint8Array(10), final: true });
    t.feed(Buffer.concat([encodeFrame(frag), encodeFrame(makeFrame("heartbeatAck", { seq: 1n }))]));
    await tick();
    expect(t.decodeErrors.map((e) => e.code)).toEqual([ErrorCode.MESSAGE_TOO_LARGE]);
    expect(t.frames).toEqual([]);
  });

  it("end() writes the last frame after what was queued, then half-closes", async () => {
    const t = open();
    t.conn.send(makeFrame("heartbeat", { seq: 1n }));
    t.conn.end(makeFrame("goodbye", { reason: "bye" }));
    await tick();
    const frames = decodeFrames(Buffer.concat(t.writes));
    expect(frames.map((f) => f.body.case)).toEqual(["heartbeat", "goodbye"]);
    expect(t.socket.writableEnded).toBe(true);
  });
});
