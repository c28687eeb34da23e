import { describe, expect, it } from "vitest";
import { workerShare } from "../../src/workers/worker-share.js";

describe("workerShare", () => {
  it("gives each worker its share of the pending-Hello bounds, rounded up; maxConnections stays the server's (leases)", () => {
    expect(workerShare({ maxConnections: 1_000, maxPendingHellos: 10_000, maxPendingHelloBytes: 64 * 2 ** 20 }, 3)).toEqual({
      maxConnections: 1_000,
      maxPendingHellos: 3_334,
      maxPendingHelloBytes: Math.ceil((64 * 2 ** 20) / 3),
    });
  });

  it("never gives a worker less than 1 MiB of pending-Hello bytes (a 1 MiB Hello must fit)", () => {
    expect(workerShare({ maxPendingHelloBytes: 2 ** 20 }, 8).maxPendingHelloBytes).toBe(2 ** 20);
  });

  it("copies the other live options and leaves out what was not given", () => {
    const share = workerShare({ maxConnectionsPerIp: 5, rateLimit: { burst: 10 } }, 4);
    expect(share).toEqual({ maxConnectionsPerIp: 5, rateLimit: { burst: 10 } });
  });
});
