import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Backoff, backoffDelay } from "../src/internal.js";

describe("backoffDelay (full jitter)", () => {
  it("stays in [0, min(cap, base * 2^attempt)) for any random value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, extra, r) => {
          const cap = base + extra;
          const d = backoffDelay(attempt, base, cap, () => r);
          const window = Math.min(cap, base * 2 ** attempt);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.max(window, 1));
          expect(d).toBe(Math.floor(r * window));
        },
      ),
    );
  });

  it("doubles the window per attempt until the cap", () => {
    const top = () => 0.999_999;
    expect(backoffDelay(0, 1000, 30_000, top)).toBe(999);
    expect(backoffDelay(1, 1000, 30_000, top)).toBe(1999);
    expect(backoffDelay(3, 1000, 30_000, top)).toBe(7999);
    expect(backoffDelay(4, 1000, 30_000, top)).toBe(15_999);
    expect(backoffDelay(5, 1000, 30_000, top)).toBe(29_999); // 32 000 capped
    expect(backoffDelay(10_000, 1000, 30_000, top)).toBe(29_999); // no overflow
  });

  it("can be 0 (full jitter, not equal jitter)", () => {
    expect(backoffDelay(7, 1000, 30_000, () => 0)).toBe(0);
  });

  it("spreads delays over the whole window", () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(2, 100, 1000));
    expect(Math.min(...delays)).toBeLessThan(40);
    expect(Math.max(...delays)).toBeGreaterThan(360);
    expect(Math.max(...delays)).toBeLessThan(400);
  });
});

describe("Backoff", () => {
  it("counts attempts and starts over after reset", () => {
    const b = new Backoff(100, 1000, () => 0.5);
    expect(b.attempt).toBe(0);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([50, 100, 200, 400, 500]);
    expect(b.attempt).toBe(5);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(50);
  });
});
