import { describe, expect, it } from "vitest";
import { type Frame, FrameDecoder, FrameScheduler, type FrameSchedulerOptions, makeFrame } from "../src/index.js";

/** A scheduler whose flushes run when the test says, writing into `writes`. */
function harness(opts: Partial<FrameSchedulerOptions> = {}) {
  const writes: Uint8Array[] = [];
  let pending: (() => void) | undefined;
  let accept = true;
  const s = new FrameScheduler({
    write: (c) => {
      writes.push(c);
      return accept;
    },
    schedule: (f) => {
      pending = f;
    },
    ...opts,
  });
  const decode = (chunks = writes) => {
    const d = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });
    const out: Frame[] = [];
    for (const c of chunks) d.push(c, (f) => out.push(f));
    return out;
  };
  return {
    s,
    writes,
    decode,
    tick() {
      const f = pending;
      pending = undefined;
      f?.();
    },
    setAccept(v: boolean) {
      accept = v;
    },
  };
}

const data = (n: number, i: number) => makeFrame("delivery", { payload: new Uint8Array(n).fill(i) });

describe("FrameScheduler", () => {
  it("writes everything queued in one turn in one write, control frames first", () => {
    const h = harness();
    h.s.data(1, data(10, 1));
    h.s.data(2, data(10, 2));
    h.s.control(makeFrame("heartbeatAck", { seq: 5n }));
    h.tick();
    expect(h.writes).toHaveLength(1);
    expect(h.decode().map((f) => f.body.case)).toEqual(["heartbeatAck", "delivery", "delivery"]);
  });

  it("shares the link fairly between channels, by weight", () => {
    const h = harness({ quantum: 1000, maxBatchBytes: 30_000 });
    h.s.configureChannel(2, { weight: 2 });
    for (let i = 0; i < 100; i++) {
      h.s.data(1, data(990, 1));
      h.s.data(2, data(990, 2));
    }
    h.tick();
    const first = h.decode(h.writes.slice(0, 1));
    const ones = first.filter((f) => f.body.case === "delivery" && f.body.value.payload[0] === 1).length;
    const twos = first.length - ones;
    expect(ones).toBeGreaterThan(5);
    expect(twos / ones).toBeGreaterThan(1.7);
    expect(twos / ones).toBeLessThan(2.3);
  });

  it("sends a large frame as fragments with control frames between them", () => {
    const h = harness({ maxFrameSize: 1 << 20, fragmentSize: 16 * 1024, maxBatchBytes: 20 * 1024 });
    h.s.data(3, makeFrame("publish", { subject: "bulk", payload: new Uint8Array(5 * 1024 * 1024) }, 3));
    h.tick();
    h.s.control(makeFrame("heartbeatAck", { seq: 1n }));
    h.tick();
    const frames = h.decode();
    expect(frames[0]?.body.case).toBe("fragment");
    expect(frames[0]?.channel).toBe(3);
    // The ack waited for at most the batch in flight, not for 5 MiB.
    const ackAt = frames.findIndex((f) => f.body.case === "heartbeatAck");
    expect(ackAt).toBeGreaterThan(0);
    expect(ackAt).toBeLessThanOrEqual(2);
    while (h.s.stats().queuedMessages > 0) h.tick();
    const all = h.decode();
    const last = all[all.length - 1];
    expect(last?.body.case === "fragment" && last.body.value.final).toBe(true);
  });

  it("a synchronous flush never leaves a second deferred flush queued: one batch per turn stays one", () => {
    const queued: (() => void)[] = [];
    const writes: Uint8Array[] = [];
    const s = new FrameScheduler({ write: (c) => (writes.push(c), true), schedule: (f) => queued.push(f), maxBatchBytes: 1000 });
    for (let i = 0; i < 50; i++) s.data(1, data(90, i)); // ≈ 5 batches
    expect(queued).toHaveLength(1);
    // A heartbeat ack goes out at once, alone: no batch of data rides along.
    s.control(makeFrame("heartbeatAck", { seq: 1n }));
    s.flushControl();
    expect(writes).toHaveLength(1);
    const first: Frame[] = [];
    new FrameDecoder().push(writes[0] as Uint8Array, (f) => first.push(f));
    expect(first.map((f) => f.body.case)).toEqual(["heartbeatAck"]);
    s.flushNow(); // e.g. before a close: a batch of data now…
    expect(writes).toHaveLength(2);
    expect(queued).toHaveLength(1); // …and still one deferred flush, not two
    let turns = 0;
    while (queued.length > 0) {
      expect(queued).toHaveLength(1);
      (queued.shift() as () => void)();
      turns++;
    }
    expect(s.stats().queuedMessages).toBe(0);
    expect(writes).toHaveLength(2 + turns);
  });

  it.each([
    ["drop-oldest", [3, 4, 5]],
    ["drop-newest", [1, 2, 3]],
  ] as const)("%s keeps the queue bounded and counts every drop", (overflow, kept) => {
    const drops: number[] = [];
    const h = harness({ queueLimit: 3, overflow, onDrop: (c) => drops.push(c) });
    for (let i = 1; i <= 5; i++) h.s.data(7, data(4, i));
    expect(h.s.stats().queuedMessages).toBe(3);
    expect(h.s.droppedOn(7)).toBe(2);
    expect(drops).toEqual([7, 7]);
    h.tick();
    expect(h.decode().map((f) => (f.body.case === "delivery" ? f.body.value.payload[0] : -1))).toEqual(kept);
  });

  it("disconnect policy reports the channel and stops writing", () => {
    const overflowed: number[] = [];
    const h = harness({ queueLimit: 2, overflow: "disconnect", onOverflow: (c) => overflowed.push(c) });
    for (let i = 0; i < 3; i++) h.s.data(4, data(4, i));
    expect(overflowed).toEqual([4]);
    h.tick();
    expect(h.writes).toHaveLength(0);
    expect(h.s.data(4, data(4, 9))).toBe(false);
  });

  it("waits for resume when the transport is full, holding only the bounded queues", () => {
    const h = harness({ queueLimit: 10, maxBatchBytes: 100 });
    h.setAccept(false);
    for (let i = 0; i < 50; i++) h.s.data(1, data(50, i));
    h.tick();
    expect(h.writes).toHaveLength(1);
    h.tick();
    expect(h.writes).toHaveLength(1);
    expect(h.s.stats().queuedMessages).toBeLessThanOrEqual(10);
    h.setAccept(true);
    h.s.resume();
    for (let i = 0; i < 20; i++) h.tick();
    expect(h.s.stats().queuedMessages).toBe(0);
  });

  it("sends a control frame larger than the peer's limit as fragments, never as raw bytes", () => {
    const h = harness({ maxFrameSize: 2048, fragmentSize: 1024 });
    h.s.control(makeFrame("error", { message: "x".repeat(5000), fatal: false }));
    for (let i = 0; i < 20; i++) h.tick();
    const frames = h.decode();
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.every((f) => f.body.case === "fragment")).toBe(true);
  });

  it("keeps at most 16 fragmented messages part-sent at once", () => {
    const h = harness({ maxFrameSize: 4096, fragmentSize: 1024, quantum: 1 });
    for (let ch = 1; ch <= 20; ch++) h.s.data(ch, makeFrame("publish", { subject: "s", payload: new Uint8Array(8000) }, ch));
    for (let i = 0; i < 400 && h.s.stats().queuedMessages > 0; i++) h.tick();
    const open = new Set<number>();
    let most = 0;
    for (const f of h.decode()) {
      if (f.body.case !== "fragment") continue;
      open.add(f.body.value.id);
      most = Math.max(most, open.size);
      if (f.body.value.final) open.delete(f.body.value.id);
    }
    expect(most).toBe(16);
    expect(open.size).toBe(0);
  });

  it("keeps the fragmented messages part-sent at once within maxMessageSize bytes together, across channels", () => {
    const max = 20_000;
    const h = harness({ maxFrameSize: 4096, fragmentSize: 1024, quantum: 1, maxMessageSize: max });
    for (let ch = 1; ch <= 6; ch++) h.s.data(ch, makeFrame("publish", { subject: "s", payload: new Uint8Array(8000) }, ch));
    for (let i = 0; i < 400 && h.s.stats().queuedMessages > 0; i++) h.tick();
    const open = new Map<number, bigint>();
    let mostBytes = 0n;
    let mostOpen = 0;
    let finished = 0;
    for (const f of h.decode()) {
      if (f.body.case !== "fragment") continue;
      const { id, totalLength, final } = f.body.value;
      if (!open.has(id)) open.set(id, totalLength);
      const sum = [...open.values()].reduce((a, b) => a + b, 0n);
      if (sum > mostBytes) mostBytes = sum;
      mostOpen = Math.max(mostOpen, open.size);
      if (final) {
        open.delete(id);
        finished++;
      }
    }
    expect(finished).toBe(6);
    expect(mostBytes).toBeLessThanOrEqual(BigInt(max));
    expect(mostOpen).toBe(2); // each is just over 8000 bytes: a third would exceed 20 000
  });

  it("starts a fragmented message larger than maxMessageSize when nothing else is open (never deadlocks)", () => {
    const h = harness({ maxFrameSize: 4096, fragmentSize: 1024, maxMessageSize: 5000 });
    h.s.data(1, makeFrame("publish", { subject: "s", payload: new Uint8Array(4500) }, 1));
    h.s.data(2, makeFrame("publish", { subject: "s", payload: new Uint8Array(4500) }, 2));
    for (let i = 0; i < 100 && h.s.stats().queuedMessages > 0; i++) h.tick();
    const finals = h.decode().filter((f) => f.body.case === "fragment" && f.body.value.final);
    expect(finals).toHaveLength(2);
  });
});
