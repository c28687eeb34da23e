import { toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode, FragmentAssembler, type Frame, FrameSchema, HbError, decodeFrame, makeFrame } from "@hb/codec";
import {
  FRAGMENT_THRESHOLD,
  LANE_DIRECT,
  LANE_PUBLISH,
  type Lane,
  Outbox,
  type OutboxLimits,
  type OutboxSink,
  SCHEDULER_HIGH_WATER,
} from "../src/outbox.js";

/** A sink that records what it is handed; `backlog` is settable. */
class Sink implements OutboxSink {
  readonly frames: Array<{ lane: Lane; frame: Frame }> = [];
  backlog = 0;
  data(lane: Lane, frame: Frame | Uint8Array): void {
    this.frames.push({ lane, frame: frame instanceof Uint8Array ? decodeFrame(frame) : frame });
  }
  /** Frames handed over, reassembled, as [lane, body case, payload length]. */
  messages(): Array<[Lane, string, number]> {
    const asm = new FragmentAssembler();
    const out: Array<[Lane, string, number]> = [];
    for (const { lane, frame } of this.frames) {
      const whole = frame.body.case === "fragment" ? asm.push(frame.body.value) : frame;
      if (whole === undefined) continue;
      const b = whole.body;
      const len = b.case === "publish" || b.case === "send" ? b.value.payload.length : -1;
      out.push([lane, b.case ?? "", len]);
    }
    return out;
  }
}

const limits = (o: Partial<OutboxLimits> = {}): OutboxLimits => ({
  maxFrameSize: 1024 * 1024,
  maxMessageSize: 64 * 1024 * 1024,
  window: 0,
  ...o,
});
const pub = (n: number, subject = "s") => makeFrame("publish", { subject, payload: new Uint8Array(n) });
const send = (n: number) => makeFrame("send", { nodeId: "x", payload: new Uint8Array(n) });
const tick = () => new Promise((r) => setImmediate(r));

describe("Outbox", () => {
  it("holds messages until a connection is attached, then hands them over in order", async () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const p1 = o.enqueue(LANE_PUBLISH, pub(10), 10).promise;
    const p2 = o.enqueue(LANE_DIRECT, send(20), 20).promise;
    expect(o.pendingBytes).toBe(30);
    expect(o.size).toBe(2);
    const sink = new Sink();
    o.attach(sink, limits());
    await Promise.all([p1, p2]);
    expect(sink.messages()).toEqual([
      [LANE_DIRECT, "send", 20],
      [LANE_PUBLISH, "publish", 10],
    ]);
    expect(o.pendingBytes).toBe(0);
    expect(o.sent).toBe(2);
  });

  it("waits for credit (FIFO across lanes) and continues after grant()", async () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const sink = new Sink();
    o.attach(sink, limits({ window: 100 }));
    o.enqueue(LANE_PUBLISH, pub(60), 60);
    o.enqueue(LANE_PUBLISH, pub(60), 60); // does not fit the 40 left
    o.enqueue(LANE_DIRECT, send(10), 10); // would fit, but waits its turn behind the blocked one
    expect(sink.frames.length).toBe(1);
    expect(o.credit).toBe(40);
    o.grant(20n);
    expect(sink.frames.length).toBe(2);
    expect(o.credit).toBe(0);
    o.grant(10n);
    expect(sink.messages().map((m) => m[1])).toEqual(["publish", "publish", "send"]);
    o.grant(0n);
    expect(o.credit).toBe(0);
  });

  it("fragments frames over 64 KiB into pieces of at most 64 KiB − 64, each costing its data length", () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const sink = new Sink();
    o.attach(sink, limits({ window: 1024 * 1024 }));
    const frame = pub(200_000, "big");
    o.enqueue(LANE_PUBLISH, frame, 200_000);
    const pieces = sink.frames.map((f) => f.frame);
    expect(pieces.every((f) => f.body.case === "fragment")).toBe(true);
    const data = pieces.map((f) => (f.body.case === "fragment" ? f.body.value : undefined));
    expect(data.every((d) => (d?.data.length ?? 0) <= FRAGMENT_THRESHOLD - 64)).toBe(true);
    expect(data[0]?.totalLength).toBe(BigInt(toBinary(FrameSchema, frame).length));
    expect(data.slice(1).every((d) => d?.totalLength === 0n)).toBe(true);
    expect(data.map((d) => d?.final)).toEqual([false, false, false, true]);
    const sent = data.reduce((n, d) => n + (d?.data.length ?? 0), 0);
    expect(sent).toBe(toBinary(FrameSchema, frame).length);
    expect(o.credit).toBe(1024 * 1024 - sent);
    expect(new Set(data.map((d) => d?.id)).size).toBe(1);
  });

  it("keeps frames at or below 64 KiB whole, and honours a smaller server max frame size", () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const sink = new Sink();
    o.attach(sink, limits({ maxFrameSize: 4096 }));
    o.enqueue(LANE_PUBLISH, pub(4000), 4000);
    o.enqueue(LANE_PUBLISH, pub(5000), 5000);
    const cases = sink.frames.map((f) => f.frame.body.case);
    expect(cases[0]).toBe("publish");
    expect(cases.slice(1).every((c) => c === "fragment")).toBe(true);
    for (const f of sink.frames) expect(toBinary(FrameSchema, f.frame).length).toBeLessThanOrEqual(4096);
  });

  it("cuts a payload larger than the window into pieces that fit it", () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const sink = new Sink();
    o.attach(sink, limits({ window: 1000 }));
    o.enqueue(LANE_PUBLISH, pub(5000), 5000);
    expect(sink.frames.length).toBe(1); // 1000 bytes of data, then out of credit
    for (let i = 0; i < 10 && o.size > 0; i++) o.grant(1000n);
    expect(o.size).toBe(0);
    for (const f of sink.frames) {
      expect(f.frame.body.case).toBe("fragment");
      if (f.frame.body.case === "fragment") expect(f.frame.body.value.data.length).toBeLessThanOrEqual(1000);
    }
    expect(sink.messages()).toEqual([[LANE_PUBLISH, "publish", 5000]]);
  });

  it("stops while the scheduler's backlog is high and goes on with pump()", () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const sink = new Sink();
    sink.backlog = SCHEDULER_HIGH_WATER;
    o.attach(sink, limits());
    o.enqueue(LANE_PUBLISH, pub(10), 10);
    expect(sink.frames.length).toBe(0);
    sink.backlog = 0;
    o.pump();
    expect(sink.frames.length).toBe(1);
  });

  it("starts a fragmented frame over on the next connection when the connection is lost midway", async () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const first = new Sink();
    o.attach(first, limits({ window: 70_000 })); // room for about one piece
    const p = o.enqueue(LANE_PUBLISH, pub(200_000), 200_000).promise;
    expect(first.frames.length).toBe(1);
    o.detach();
    o.grant(1_000_000n); // nothing happens without a connection
    const second = new Sink();
    o.attach(second, limits());
    await p;
    const ids = (s: Sink) => s.frames.map((f) => (f.frame.body.case === "fragment" ? f.frame.body.value.id : -1));
    expect(new Set(ids(second)).size).toBe(1);
    expect(ids(second)[0]).not.toBe(ids(first)[0]);
    expect(second.messages()).toEqual([[LANE_PUBLISH, "publish", 200_000]]);
  });

  it("refuses beyond maxPendingBytes with FLOW_CONTROL", () => {
    const o = new Outbox({ maxPendingBytes: 100 });
    o.enqueue(LANE_PUBLISH, pub(60), 60);
    expect(() => o.enqueue(LANE_PUBLISH, pub(60), 60)).toThrow(
      expect.objectContaining({ code: ErrorCode.FLOW_CONTROL }) as unknown as Error,
    );
    o.enqueue(LANE_DIRECT, send(40), 40);
    expect(o.pendingBytes).toBe(100);
  });

  it("rejects with MESSAGE_TOO_LARGE what the server cannot take", async () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const late = o.enqueue(LANE_PUBLISH, pub(100_000), 100_000).promise;
    const sink = new Sink();
    o.attach(sink, limits({ maxMessageSize: 0 })); // no fragments on this connection
    await expect(late).rejects.toMatchObject({ code: ErrorCode.MESSAGE_TOO_LARGE });
    o.enqueue(LANE_PUBLISH, pub(1000), 1000); // small frames still go
    expect(sink.frames.length).toBe(1);
    o.attach(sink, limits({ maxMessageSize: 50_000 }));
    // Limits known: refused at once.
    expect(() => o.enqueue(LANE_PUBLISH, pub(100_000), 100_000)).toThrow(HbError);
    expect(o.pendingBytes).toBe(0);
  });

  it("keeps the open fragmented frames within max_message_size", () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const sink = new Sink();
    o.attach(sink, limits({ maxMessageSize: 150_000 }));
    sink.backlog = SCHEDULER_HIGH_WATER; // hold everything while both are queued
    o.enqueue(LANE_PUBLISH, pub(100_000), 100_000);
    o.enqueue(LANE_DIRECT, send(100_000), 100_000);
    sink.backlog = 0;
    o.pump();
    // Both frames are 100 KB: the second may only start once the first is complete.
    const order = sink.frames.map((f) => (f.frame.body.case === "fragment" ? f.frame.body.value.id : 0));
    const firstDone = order.lastIndexOf(order[0] as number);
    expect(order.slice(0, firstDone + 1).every((id) => id === order[0])).toBe(true);
    expect(sink.messages().length).toBe(2);
  });

  it("cancel() withdraws a message that has not started; failAll() rejects the rest", async () => {
    const o = new Outbox({ maxPendingBytes: 1e9 });
    const a = o.enqueue(LANE_PUBLISH, pub(10), 10);
    const b = o.enqueue(LANE_PUBLISH, pub(20), 20);
    expect(o.cancel(a, new Error("gave up"))).toBe(true);
    await expect(a.promise).rejects.toThrow("gave up");
    expect(o.pendingBytes).toBe(20);
    o.failAll(new Error("closed"));
    await expect(b.promise).rejects.toThrow("closed");
    expect([o.size, o.pendingBytes]).toEqual([0, 0]);
    await tick();
  });

  it("property: whatever the sizes, window and grants, every message arrives whole, in lane order, within the window", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ lane: fc.constantFrom(LANE_DIRECT, LANE_PUBLISH), size: fc.integer({ min: 0, max: 200_000 }) }), {
          maxLength: 12,
        }),
        fc.oneof(fc.constant(0), fc.integer({ min: 1000, max: 200_000 })),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 40 }),
        (msgs, window, grants) => {
          const o = new Outbox({ maxPendingBytes: 1e9 });
          const sink = new Sink();
          o.attach(sink, limits({ window }));
          for (const m of msgs) {
            o.enqueue(m.lane, m.lane === LANE_PUBLISH ? pub(m.size) : send(m.size), m.size);
          }
          let granted = window;
          const spent = () =>
            sink.frames.reduce((n, f) => {
              const b = f.frame.body;
              if (b.case === "fragment") return n + b.value.data.length;
              if (b.case === "publish" || b.case === "send") return n + b.value.payload.length;
              return n;
            }, 0);
          for (const g of grants) {
            if (window > 0) expect(spent()).toBeLessThanOrEqual(granted);
            o.grant(BigInt(g));
            granted += g;
          }
          if (window > 0) expect(spent()).toBeLessThanOrEqual(granted);
          o.grant(10n ** 12n);
          expect(o.size).toBe(0);
          const got = sink.messages();
          for (const lane of [LANE_DIRECT, LANE_PUBLISH]) {
            expect(got.filter((g) => g[0] === lane).map((g) => g[2])).toEqual(
              msgs.filter((m) => m.lane === lane).map((m) => m.size),
            );
          }
          for (const f of sink.frames) expect(toBinary(FrameSchema, f.frame).length).toBeLessThanOrEqual(FRAGMENT_THRESHOLD);
        },
      ),
      { numRuns: 60 },
    );
  });
});
