import { describe, expect, it } from "vitest";
import { ErrorCode, FrameDecoder, FrameEncoder, type Frame, HbError, encodeFrame, makeFrame } from "../src/index.js";

const collect = (d: FrameDecoder, chunk: Uint8Array, out: Frame[]) => d.push(chunk, (f) => out.push(f));

describe("FrameDecoder", () => {
  it("decodes frames split one byte at a time", () => {
    const wire = new FrameEncoder()
      .add(makeFrame("heartbeat", { seq: 7n, sendTimeUs: 99n }))
      .add(makeFrame("publish", { subject: "a.b", payload: new Uint8Array([1, 2, 3]) }, 4))
      .finish();
    const d = new FrameDecoder();
    const out: Frame[] = [];
    for (const b of wire) expect(collect(d, new Uint8Array([b]), out)).toBeUndefined();
    expect(d.end()).toBeUndefined();
    expect(out.map((f) => f.body.case)).toEqual(["heartbeat", "publish"]);
    expect(out[1]?.channel).toBe(4);
  });

  it("hands payloads out as views of the input chunk", () => {
    const wire = encodeFrame(makeFrame("publish", { subject: "x", payload: new Uint8Array(100).fill(9) }));
    const out: Frame[] = [];
    new FrameDecoder().push(wire, (f) => out.push(f));
    const body = out[0]?.body;
    if (body?.case !== "publish") throw new Error("expected publish");
    expect(body.value.payload.buffer).toBe(wire.buffer);
  });

  it("rejects a 4 GB length prefix before buffering anything", () => {
    const d = new FrameDecoder({ maxFrameSize: 1024 });
    const err = d.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), () => {});
    expect(err).toBeInstanceOf(HbError);
    expect(err?.code).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(d.buffered).toBe(0);
  });

  it("allocates for the bytes received, not for the length declared", () => {
    const payload = new Uint8Array(1_000_000).map((_, i) => i % 251);
    const wire = encodeFrame(makeFrame("publish", { subject: "big", payload }));
    const d = new FrameDecoder();
    // A 1 MB frame announced, 4 bytes sent: 4 KiB set aside, not 1 MB.
    expect(d.push(wire.subarray(0, 4), () => {})).toBeUndefined();
    expect(d.allocated).toBe(4 * 1024);
    // Then 1 000 bytes at a time: the buffer never holds more than twice what arrived (or 4 KiB).
    const out: Frame[] = [];
    for (let at = 4; at < wire.length; at += 1_000) {
      expect(collect(d, wire.subarray(at, Math.min(at + 1_000, wire.length)), out)).toBeUndefined();
      if (out.length === 0) expect(d.allocated).toBeLessThanOrEqual(Math.max(4 * 1024, 2 * d.buffered));
    }
    expect(d.allocated).toBe(0);
    const body = out[0]?.body;
    if (body?.case !== "publish") throw new Error("expected publish");
    expect(body.value.payload).toEqual(payload);
  });

  it("reports TRUNCATED when the stream ends inside a frame", () => {
    const wire = encodeFrame(makeFrame("heartbeat", { seq: 1n }));
    const d = new FrameDecoder();
    expect(d.push(wire.subarray(0, wire.length - 1), () => {})).toBeUndefined();
    expect(d.end()?.code).toBe(ErrorCode.TRUNCATED);
  });
});
