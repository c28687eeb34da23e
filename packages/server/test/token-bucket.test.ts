import { describe, expect, it } from "vitest";
import { TokenBucket } from "../src/session/token-bucket.js";

describe("TokenBucket", () => {
  it("allows a burst, then refuses until it refills", () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(0)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(99)).toBe(false); // 0.99 tokens
    expect(b.take(100)).toBe(true); // 1 token after 100 ms at 10/s
    expect(b.take(100)).toBe(false);
  });

  it("never holds more than the burst", () => {
    const b = new TokenBucket(1000, 3, 0);
    expect(b.available(1_000_000)).toBe(3);
    expect(b.take(1_000_000, 3)).toBe(true);
    expect(b.take(1_000_000)).toBe(false);
  });

  it("sustains exactly the configured rate", () => {
    const b = new TokenBucket(2000, 2, 0);
    let accepted = 0;
    for (let t = 0; t < 1000; t += 0.1) if (b.take(t)) accepted++;
    expect(accepted).toBeGreaterThanOrEqual(2000);
    expect(accepted).toBeLessThanOrEqual(2002);
  });

  it("ignores a clock going backwards", () => {
    const b = new TokenBucket(10, 1, 1000);
    expect(b.take(1000)).toBe(true);
    expect(b.take(500)).toBe(false);
    expect(b.take(1100)).toBe(true);
  });

  it("rejects a non-positive rate or a burst below 1", () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });
});
