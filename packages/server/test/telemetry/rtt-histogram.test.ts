import { describe, expect, it } from "vitest";
import { RTT_BUCKETS, RttHistogram, addRtt, emptyRtt } from "../../src/telemetry/rtt-histogram.js";

describe("RttHistogram", () => {
  it("counts each round trip in the first bucket whose bound is not below it (le semantics)", () => {
    const h = new RttHistogram();
    h.observe(0.0005); // exactly on the first bound
    h.observe(0.003); // (0.0025, 0.005]
    h.observe(7); // above every bound
    const s = h.snapshot();
    expect(s.bounds).toBe(RTT_BUCKETS);
    expect(s.counts).toHaveLength(RTT_BUCKETS.length + 1);
    expect(s.counts[0]).toBe(1);
    expect(s.counts[RTT_BUCKETS.indexOf(0.005)]).toBe(1);
    expect(s.counts[RTT_BUCKETS.length]).toBe(1);
    expect(s.count).toBe(3);
    expect(s.sum).toBeCloseTo(7.0035, 9);
  });

  it("ignores values a node should never report", () => {
    const h = new RttHistogram();
    for (const v of [-1, Number.NaN, Number.POSITIVE_INFINITY]) h.observe(v);
    expect(h.snapshot()).toEqual(emptyRtt());
  });

  it("snapshots are copies, and add up across processes", () => {
    const a = new RttHistogram();
    const b = new RttHistogram();
    a.observe(0.002);
    const before = a.snapshot();
    a.observe(0.002);
    b.observe(0.2);
    expect(before.count).toBe(1);
    const sum = addRtt(a.snapshot(), b.snapshot());
    expect(sum.count).toBe(3);
    expect(sum.counts.reduce((x, y) => x + y, 0)).toBe(3);
    expect(sum.sum).toBeCloseTo(0.204, 9);
    expect(() => addRtt(sum, { ...sum, bounds: [1] })).toThrow(RangeError);
  });
});
