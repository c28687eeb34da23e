import { create, toBinary } from "@bufbuild/protobuf";
import { DeliveryKind, DeliverySchema, type Frame, FrameDecoder, FrameSchema, makeFrame, sizeDelimit, varintSize } from "@hb/codec";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeDelivery, withToNodeId } from "../src/encode-delivery.js";
import { DELIVERY_FIELD, PRESENCE_FIELD, REPLY_FIELD, joinRelayFrame, relayFrameLength, relayHead } from "../src/relay-head.js";

const delivery = fc.record({
  kind: fc.constantFrom(DeliveryKind.UNSPECIFIED, DeliveryKind.PUBLISH, DeliveryKind.DIRECT, DeliveryKind.BROADCAST, 7),
  subject: fc.string({ unit: "grapheme", maxLength: 40 }),
  fromNodeId: fc.string({ unit: "grapheme", maxLength: 40 }),
  payload: fc.uint8Array({ maxLength: 300 }),
  requestId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  toNodeId: fc.string({ unit: "grapheme", maxLength: 40 }),
});

describe("the relay encoding", () => {
  it("encodeDelivery writes exactly what toBinary(DeliverySchema) writes", () => {
    fc.assert(
      fc.property(delivery, (d) => {
        const mine = encodeDelivery(d.kind, d.subject, d.fromNodeId, d.payload, d.requestId, d.toNodeId);
        expect(Buffer.from(mine).equals(Buffer.from(toBinary(DeliverySchema, create(DeliverySchema, d))))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("relayHead + the shared body is the wire form of the Frame { channel, body }", () => {
    fc.assert(
      fc.property(
        delivery,
        fc.constantFrom(0, 1, 127, 128, 300, 16_384, 2 ** 31, 2 ** 32 - 1),
        fc.constantFrom(DELIVERY_FIELD, REPLY_FIELD, PRESENCE_FIELD),
        (d, channel, field) => {
          const body = encodeDelivery(d.kind, d.subject, d.fromNodeId, d.payload, d.requestId, d.toNodeId);
          const head = relayHead(channel, field, body.length);
          expect(head.length).toBeLessThanOrEqual(18);
          const wire = Buffer.concat([head, body]);
          const len = relayFrameLength(channel, field, body.length);
          expect(wire.length).toBe(varintSize(len) + len); // length prefix + frame
          if (field === DELIVERY_FIELD) {
            const expected = sizeDelimit(
              toBinary(FrameSchema, makeFrame("delivery", create(DeliverySchema, d), channel)),
            );
            expect(wire.equals(Buffer.from(expected))).toBe(true);
          }
          if (field === DELIVERY_FIELD) {
            const frames: Frame[] = [];
            expect(new FrameDecoder({ maxFrameSize: 64 * 2 ** 20 }).push(wire, (f) => frames.push(f))).toBeUndefined();
            expect(frames.map((f) => [f.channel, f.body.case])).toEqual([[channel, "delivery"]]);
          }
          expect(Buffer.from(joinRelayFrame(head, body, len)).equals(wire.subarray(wire.length - len))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("withToNodeId appends to_node_id exactly as encodeDelivery would have written it", () => {
    fc.assert(
      fc.property(delivery, fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }), (d, to) => {
        const without = encodeDelivery(d.kind, d.subject, d.fromNodeId, d.payload, d.requestId, "");
        const expected = encodeDelivery(d.kind, d.subject, d.fromNodeId, d.payload, d.requestId, to);
        expect(Buffer.from(withToNodeId(without, to))).toEqual(Buffer.from(expected));
      }),
      { numRuns: 200 },
    );
  });
});
