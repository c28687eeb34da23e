import { describe, expect, it } from "vitest";
import { ChannelQueue, type Fragmenting } from "../src/channel-queue.js";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const started = (): Fragmenting => ({ fragments: (function* () {})(), total: 10, started: true });

/** Drains the queue: [head[0], body[0], body.length] of each frame in order. */
function drain(q: ChannelQueue): number[][] {
  const out: number[][] = [];
  while (q.length > 0) {
    out.push([q.firstHead()[0] ?? -1, q.firstBody()[0] ?? -1, q.firstBody().length]);
    q.shift();
  }
  return out;
}

describe("ChannelQueue (struct of arrays on a ring)", () => {
  it("keeps order across wrap-around and growth, and reports each frame's size as it leaves", () => {
    const q = new ChannelQueue(1, 1000, "drop-oldest", 1);
    expect(q.length).toBe(0);
    expect(q.shift()).toBe(0);
    expect(q.firstFragmenting()).toBeUndefined();
    // Fill, drain some, fill past the capacity so the ring wraps and then grows.
    for (let i = 0; i < 3; i++) q.push(bytes(1, i), bytes(2, i), undefined);
    expect(q.shift()).toBe(3);
    expect(q.shift()).toBe(3);
    for (let i = 3; i < 40; i++) q.push(bytes(1, i), bytes(2 + (i % 3), i), undefined);
    expect(q.length).toBe(38);
    expect(q.pop()).toBe(1 + 2 + (39 % 3)); // the last one
    const left = drain(q);
    expect(left.map((f) => f[0])).toEqual(Array.from({ length: 37 }, (_, k) => k + 2));
    expect(left.every((f) => f[0] === f[1])).toBe(true);
  });

  it("drops the oldest frame not started: a part-sent first frame stays first", () => {
    const q = new ChannelQueue(1, 3, "drop-oldest", 1);
    expect(q.dropOldest()).toBe(-1);
    q.push(bytes(1, 0), bytes(5, 0), started());
    expect(q.dropOldest()).toBe(-1); // only the started one
    q.push(bytes(1, 1), bytes(2, 1), undefined);
    q.push(bytes(1, 2), bytes(2, 2), undefined);
    expect(q.dropOldest()).toBe(3); // frame 1, not the started frame 0
    expect(q.firstFragmenting()?.started).toBe(true);
    expect(drain(q).map((f) => f[0])).toEqual([0, 2]);
    q.push(bytes(1, 7), bytes(2, 7), undefined);
    q.push(bytes(1, 8), bytes(2, 8), undefined);
    expect(q.dropOldest()).toBe(3);
    expect(drain(q).map((f) => f[0])).toEqual([8]);
  });
});
