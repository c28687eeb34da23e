import { equals, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  FRAGMENT_OVERHEAD,
  FragmentAssembler,
  type Frame,
  FrameDecoder,
  FrameEncoder,
  FrameSchema,
  HbError,
  fragmentFrame,
  makeFrame,
} from "../src/index.js";

const big = (n: number) => new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);

describe("fragments", () => {
  it("a 5 MB publish crosses a 64 KiB frame limit as fragments and comes back byte for byte", () => {
    const original = makeFrame("publish", { subject: "bulk.data", payload: big(5_000_000) }, 9);
    const max = 64 * 1024;
    const enc = new FrameEncoder();
    let n = 0;
    for (const f of fragmentFrame(original, { id: 3, maxFrameSize: max })) {
      expect(f.channel).toBe(9);
      enc.add(f);
      n++;
    }
    expect(n).toBe(Math.ceil(toBinary(FrameSchema, original).length / (max - FRAGMENT_OVERHEAD)));
    const decoder = new FrameDecoder({ maxFrameSize: max });
    const asm = new FragmentAssembler();
    const out: Frame[] = [];
    expect(decoder.push(enc.finish(), (f) => {
      if (f.body.case !== "fragment") throw new Error("expected fragments only");
      const whole = asm.push(f.body.value);
      if (whole) out.push(whole);
    })).toBeUndefined();
    expect(out).toHaveLength(1);
    expect(equals(FrameSchema, out[0] as Frame, original)).toBe(true);
    expect(asm.buffered).toBe(0);
  });

  it("interleaves two fragmented messages and other frames", () => {
    const a = [...fragmentFrame(makeFrame("publish", { payload: big(3000) }), { id: 1, maxFrameSize: 1064 })];
    const b = [...fragmentFrame(makeFrame("send", { nodeId: "n", payload: big(2500) }), { id: 2, maxFrameSize: 1064 })];
    const asm = new FragmentAssembler();
    const done: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      for (const f of [a[i], b[i]]) {
        if (f?.body.case !== "fragment") continue;
        const whole = asm.push(f.body.value);
        if (whole) done.push(whole.body.case ?? "");
      }
    }
    expect(done.sort()).toEqual(["publish", "send"]);
  });

  it("refuses a claimed size over the limit before buffering", () => {
    const asm = new FragmentAssembler({ maxMessageSize: 1000 });
    try {
      asm.push(makeFrame("fragment", { id: 1, totalLength: 4_000_000_000n, data: big(10) }).body.value as never);
      expect.unreachable();
    } catch (err) {
      expect((err as HbError).code).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    }
    expect(asm.buffered).toBe(0);
  });

  it("refuses more data than announced, and a short message at final", () => {
    const over = new FragmentAssembler();
    over.push(makeFrame("fragment", { id: 1, totalLength: 5n, data: big(4) }).body.value as never);
    expect(() => over.push(makeFrame("fragment", { id: 1, data: big(4) }).body.value as never)).toThrow(HbError);
    const short = new FragmentAssembler();
    short.push(makeFrame("fragment", { id: 1, totalLength: 50n, data: big(4) }).body.value as never);
    expect(() => short.push(makeFrame("fragment", { id: 1, data: big(4), final: true }).body.value as never)).toThrowError(
      expect.objectContaining({ code: ErrorCode.PROTOCOL_VIOLATION }),
    );
  });
});
