import { toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  FrameSchema,
  DeliveryKind,
  FragmentAssembler,
  type Frame,
  PendingFrame,
  decodeFrame,
  deliveryPayloadOffset,
  encodeDelivery,
  fragmentFrame,
  makeFrame,
} from "../src/index.js";

const toBinaryFrame = (f: Frame): Uint8Array => toBinary(FrameSchema, f);

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

describe("reassembly and relay in steps", () => {
  it("add() returns a large message unjoined; joining it in steps gives the same frame as push()", () => {
    const payload = bytes(300_000);
    const whole = toBinaryFrame(makeFrame("publish", { subject: "a.b", payload }, 3));
    const frags = [...fragmentFrame(whole, { id: 9, maxFrameSize: 16 * 1024 })];
    const stepped = new FragmentAssembler({ joinStepBytes: 64 * 1024 });
    const plain = new FragmentAssembler();
    let pending: Frame | PendingFrame | undefined;
    let direct: Frame | undefined;
    for (const f of frags) {
      pending = stepped.add(f.body.value as never);
      direct = plain.push(f.body.value as never);
    }
    expect(pending).toBeInstanceOf(PendingFrame);
    const p = pending as PendingFrame;
    expect(p.length).toBe(whole.length);
    let steps = 0;
    while (!p.join(64 * 1024)) steps++;
    expect(steps).toBeGreaterThanOrEqual(3); // 300 KB in ≥ 4 steps of 64 KiB
    expect(p.frame()).toEqual(direct);
    expect(stepped.buffered).toBe(0);
  });

  it("fragments a [head, body] pair exactly as its concatenation, copying only the piece that straddles them", () => {
    const head = Uint8Array.of(0x08, 0x05, 0x62, 0x8a, 0x01); // channel 5, then a body field's tag and length
    const body = bytes(5000);
    const joined = new Uint8Array(head.length + body.length);
    joined.set(head, 0);
    joined.set(body, head.length);
    const a = [...fragmentFrame([head, body], { id: 1, maxFrameSize: 1024 })];
    const b = [...fragmentFrame(joined, { id: 1, maxFrameSize: 1024 })];
    expect(a).toEqual(b);
    expect(a[0]?.channel).toBe(5);
    // Later pieces are views of the body, not copies.
    const second = a[1]?.body.value as { data: Uint8Array };
    expect(second.data.buffer).toBe(body.buffer);
  });

  it("encodeDelivery without the payload, filled in at deliveryPayloadOffset, equals the one-go encoding", () => {
    const payload = bytes(10_000);
    const full = encodeDelivery(DeliveryKind.PUBLISH, "s.t", "node-1", payload, 42n, "");
    const shell = encodeDelivery(DeliveryKind.PUBLISH, "s.t", "node-1", payload, 42n, "", false);
    const at = deliveryPayloadOffset(DeliveryKind.PUBLISH, "s.t", "node-1", payload.length);
    shell.set(payload.subarray(0, 4000), at);
    shell.set(payload.subarray(4000), at + 4000);
    expect(Buffer.compare(Buffer.from(shell), Buffer.from(full))).toBe(0);
    expect(decodeFrame(toBinaryFrame(makeFrame("delivery", { payload })))).toBeTruthy();
  });
});
