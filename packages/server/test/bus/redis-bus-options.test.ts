import { describe, expect, it } from "vitest";
import { resolveRedisBusOptions } from "../../src/bus/redis-bus-options.js";
import { redisKeys } from "../../src/bus/redis-keys.js";

describe("RedisBus options", () => {
  it("has documented defaults", () => {
    expect(resolveRedisBusOptions()).toEqual({
      redis: "redis://127.0.0.1:6379",
      prefix: "hb",
      leaseTtl: 5_000,
      leaseRefresh: 1_666,
      startTimeout: 10_000,
      maxPendingPresence: 10_000,
      syncChunk: 1_000,
      logger: undefined,
    });
    expect(resolveRedisBusOptions({ leaseTtl: 900 }).leaseRefresh).toBe(300);
  });

  it("names the option and its range", () => {
    expect(() => resolveRedisBusOptions({ leaseTtl: 50 })).toThrow(new RangeError("leaseTtl must be an integer in 100..3600000, got 50"));
    expect(() => resolveRedisBusOptions({ leaseTtl: 1_000, leaseRefresh: 600 })).toThrow(
      new RangeError("leaseRefresh must be an integer in 10..floor(leaseTtl / 2) (500), got 600"),
    );
    expect(() => resolveRedisBusOptions({ leaseTtl: "5s" as unknown as number })).toThrow(TypeError);
    expect(() => resolveRedisBusOptions({ prefix: "a b" })).toThrow(RangeError);
    expect(() => resolveRedisBusOptions({ redis: "http://x" })).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => resolveRedisBusOptions({ ttl: 1 } as object)).toThrow(new TypeError('unknown RedisBus option "ttl"'));
  });

  it("keeps every key and channel under the prefix", () => {
    const k = redisKeys("hb");
    expect([k.members, k.presence, k.all, k.nodes("s1"), k.inbox("s1")]).toEqual([
      "hb:members",
      "hb:presence",
      "hb:all",
      "hb:nodes:s1",
      "hb:m:s1",
    ]);
  });
});
