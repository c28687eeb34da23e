import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimingWheel } from "../src/liveness/timing-wheel.js";

const collect = (wheel: TimingWheel, now: number): number[] => {
  const out: number[] = [];
  wheel.advance(now, (s) => out.push(s));
  return out.sort((a, b) => a - b);
};

describe("TimingWheel", () => {
  it("fires an entry on the first advance at or after its due time, never before", () => {
    const wheel = new TimingWheel({ tickMs: 100, horizonMs: 1000, now: 0 });
    wheel.schedule(1, 250);
    expect(collect(wheel, 249)).toEqual([]);
    expect(wheel.isScheduled(1)).toBe(true);
    expect(wheel.dueAt(1)).toBe(250);
    expect(collect(wheel, 250)).toEqual([1]);
    expect(wheel.isScheduled(1)).toBe(false);
    expect(wheel.size).toBe(0);
  });

  it("is late by at most the advance period, whatever the phase of the caller's timer", () => {
    // A timer ticking every 100 ms at phase 99 (99, 199, 299, …): an entry due
    // at 101 must fire at 199, not at the boundary after its tick (299).
    const wheel = new TimingWheel({ tickMs: 100, horizonMs: 1000, now: 0 });
    wheel.schedule(1, 101);
    expect(collect(wheel, 99)).toEqual([]);
    expect(collect(wheel, 199)).toEqual([1]);
  });

  it("fires past-due entries on the next advance", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 100, now: 1000 });
    wheel.schedule(3, 500);
    expect(collect(wheel, 1000)).toEqual([3]);
  });

  it("cancels and reschedules in O(1)", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 100, now: 0 });
    for (let s = 0; s < 10; s++) wheel.schedule(s, 50);
    wheel.cancel(4);
    wheel.cancel(4); // twice is harmless
    wheel.schedule(5, 90); // moves
    expect(wheel.size).toBe(9);
    expect(collect(wheel, 60)).toEqual([0, 1, 2, 3, 6, 7, 8, 9]);
    expect(collect(wheel, 90)).toEqual([5]);
    expect(wheel.size).toBe(0);
  });

  it("handles delays longer than the wheel (extra rounds)", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 20, now: 0 });
    expect(wheel.buckets).toBe(4);
    wheel.schedule(1, 1000);
    wheel.schedule(2, 30);
    let t = 0;
    const fired: [number, number][] = [];
    while (t < 1200) {
      t += 10;
      wheel.advance(t, (s) => fired.push([s, t]));
    }
    expect(fired).toEqual([
      [2, 30],
      [1, 1000],
    ]);
  });

  it("catches up after a long pause in one advance", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 100, now: 0 });
    for (let s = 0; s < 100; s++) wheel.schedule(s, s * 37);
    expect(collect(wheel, 100_000)).toHaveLength(100);
  });

  it("lets callbacks reschedule and cancel, including entries of the same bucket", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 100, now: 0 });
    for (let s = 0; s < 6; s++) wheel.schedule(s, 50);
    const fired: number[] = [];
    wheel.advance(50, (s) => {
      fired.push(s);
      // The first to fire cancels the others of its bucket (not fired yet)…
      if (fired.length === 1) for (let o = 0; o < 6; o++) if (o !== s) wheel.cancel(o);
      wheel.schedule(s, 80); // …and comes back later itself.
    });
    expect(fired).toHaveLength(1);
    expect(wheel.size).toBe(1);
    const later = collect(wheel, 80);
    expect(later).toEqual([...fired].sort((a, b) => a - b));
  });

  it("a callback rescheduling itself as already due cannot loop: each pass visits a bucket once", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 40, now: 0 });
    wheel.schedule(1, 10);
    let calls = 0;
    wheel.advance(10, (s) => {
      calls++;
      wheel.schedule(s, 0);
    });
    expect(calls).toBeLessThanOrEqual(2); // the tick's bucket, then the next one's due entries
    expect(wheel.isScheduled(1)).toBe(true);
    expect(collect(wheel, 10)).toEqual([1]);
  });

  it("keeps its state consistent when a callback throws", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 100, now: 0 });
    for (let s = 0; s < 5; s++) wheel.schedule(s, 20);
    let calls = 0;
    expect(() =>
      wheel.advance(30, () => {
        calls++;
        if (calls === 2) throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(wheel.size).toBe(3);
    expect(collect(wheel, 30)).toHaveLength(3);
  });

  it("grows past its initial capacity", () => {
    const wheel = new TimingWheel({ tickMs: 10, horizonMs: 100, now: 0, initialCapacity: 16 });
    for (let s = 0; s < 10_000; s++) wheel.schedule(s, (s % 10) * 10);
    expect(wheel.size).toBe(10_000);
    expect(collect(wheel, 100)).toHaveLength(10_000);
  });

  it("matches a reference model under random operations", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("schedule" as const), slot: fc.nat(40), delay: fc.nat(500) }),
      fc.record({ kind: fc.constant("cancel" as const), slot: fc.nat(40) }),
      fc.record({ kind: fc.constant("advance" as const), by: fc.nat(300) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(op, { maxLength: 200 }), (tick, ops) => {
        const wheel = new TimingWheel({ tickMs: tick, horizonMs: 200, now: 0 });
        const model = new Map<number, number>(); // slot → due tick
        let now = 0;
        for (const o of ops) {
          if (o.kind === "schedule") {
            wheel.schedule(o.slot, now + o.delay);
            model.set(o.slot, now + o.delay);
          } else if (o.kind === "cancel") {
            wheel.cancel(o.slot);
            model.delete(o.slot);
          } else {
            now += o.by;
            const fired: number[] = [];
            wheel.advance(now, (s) => fired.push(s));
            const expected = [...model].filter(([, due]) => due <= now).map(([s]) => s);
            for (const s of expected) model.delete(s);
            expect(fired.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
          }
          expect(wheel.size).toBe(model.size);
        }
      }),
    );
  });
});
