import { equals } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  type Frame,
  FrameDecoder,
  FrameEncoder,
  FrameSchema,
  HbError,
  makeFrame,
} from "../src/index.js";

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const text = fc.string({ unit: "grapheme", maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 300 });
const labels = fc.dictionary(fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }), text, { maxKeys: 5 });

/** Random frames over every body type, with edge values in every field. */
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ nodeId: text, labels, token: text, heartbeatIntervalMs: u32, resumeToken: bytes, protocolVersion: u32,
    will: fc.option(fc.record({ subject: text, payload: bytes }), { nil: undefined }) })
    .map((v) => makeFrame("hello", v)),
  fc.record({ nodeId: text, sessionId: text, heartbeatIntervalMs: u32, heartbeatTimeoutMs: u32, maxFrameSize: u32,
    serverTimeMs: u64, resumeToken: bytes, resumed: fc.boolean(), initialWindow: u64 })
    .map((v) => makeFrame("welcome", v)),
  fc.record({ code: fc.integer({ min: 0, max: 23 }), message: text, ref: u64, fatal: fc.boolean() })
    .map((v) => makeFrame("error", v)),
  fc.record({ seq: u64, sendTimeUs: u64 }).map((v) => makeFrame("heartbeat", v)),
  fc.record({ seq: u64, sendTimeUs: u64, serverTimeMs: u64 }).map((v) => makeFrame("heartbeatAck", v)),
  fc.record({ handles: fc.array(u32, { maxLength: 50 }), all: fc.boolean() }).map((v) => makeFrame("batchHeartbeat", v)),
  fc.record({ handle: u32, nodeId: text, labels }).map((v) => makeFrame("attach", v)),
  fc.record({ subject: text, payload: bytes, requestId: u64 }).map((v) => makeFrame("publish", v)),
  fc.tuple(u32, fc.record({ kind: fc.integer({ min: 0, max: 3 }), subject: text, fromNodeId: text, payload: bytes }))
    .map(([ch, v]) => makeFrame("delivery", v, ch)),
  fc.record({ kind: fc.integer({ min: 0, max: 5 }), nodeId: text, labels, timeMs: u64, reason: text })
    .map((v) => makeFrame("presence", v)),
  fc.record({ id: u32, totalLength: u64, data: bytes, final: fc.boolean() }).map((v) => makeFrame("fragment", v)),
  fc.record({ reason: text }).map((v) => makeFrame("goodbye", v)),
  fc.constant(makeFrame("unsubscribe", {}, 3)),
);

/** Cuts `wire` at random points into consecutive chunks. */
function chunk(wire: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, wire.length]) {
    out.push(wire.subarray(prev, p));
    prev = p;
  }
  return out;
}

const DECODE_CODES = new Set([
  ErrorCode.BAD_VARINT,
  ErrorCode.FRAME_TOO_LARGE,
  ErrorCode.MALFORMED_FRAME,
  ErrorCode.EMPTY_FRAME,
  ErrorCode.TRUNCATED,
]);

describe("frame codec properties", () => {
  it("decode(encode(frames)) == frames under random chunking", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const enc = new FrameEncoder();
        for (const f of frames) enc.add(f);
        const wire = enc.finish();
        const decoder = new FrameDecoder();
        const out: Frame[] = [];
        for (const c of chunk(wire, cuts)) expect(decoder.push(c, (f) => out.push(f))).toBeUndefined();
        expect(decoder.end()).toBeUndefined();
        expect(out.length).toBe(frames.length);
        frames.forEach((f, i) => expect(equals(FrameSchema, out[i] as Frame, f)).toBe(true));
      }),
      { numRuns: 300 },
    );
  });

  it("random garbage only ever yields typed decode errors", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 2048 }), (garbage, cuts, max) => {
        const decoder = new FrameDecoder({ maxFrameSize: max });
        let err: HbError | undefined;
        for (const c of chunk(garbage, cuts)) {
          err = decoder.push(c, () => {});
          if (err) break;
        }
        err ??= decoder.end();
        if (err !== undefined) {
          expect(err).toBeInstanceOf(HbError);
          expect(DECODE_CODES.has(err.code)).toBe(true);
        }
        expect(decoder.buffered).toBeLessThanOrEqual(max);
      }),
      { numRuns: 2000 },
    );
  });
});
