// Event-loop lag is one signal with one source (LoopLag): stats().liveness.loopLag,
// the loopLag event and warning, and the process sampler behind /metrics read the
// same one-second windows.
import { afterEach, describe, expect, it } from "vitest";
import { HeartbeatServer, type LoopLagEvent } from "../../src/index.js";
import { LoopLag, ProcessSampler } from "../../src/internal.js";
import { waitFor } from "../raw-peer.js";

const servers: HeartbeatServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the loop is blocked
  }
}

describe("event-loop lag", () => {
  it("a blocked loop shows in stats(), as a loopLag event and a warning, and in the process sample: one window, one source", async () => {
    const warnings: [unknown, string | undefined][] = [];
    const logger = { debug() {}, info() {}, warn: (o: unknown, m?: string) => void warnings.push([o, m]), error() {} };
    const server = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", port: 0, loopLagThreshold: 200, logger });
    servers.push(server);
    const events: LoopLagEvent[] = [];
    server.on("loopLag", (e) => events.push(e));
    await server.listen();
    const sampler = new ProcessSampler();
    try {
      // Let a first window complete, then block the loop for 400 ms.
      await new Promise((r) => setTimeout(r, 1_100));
      busy(400);
      await waitFor(() => events.length > 0, 5_000, "a loopLag event");
      const e = events[0] as LoopLagEvent;
      expect(e.max).toBeGreaterThanOrEqual(300);
      expect(e.threshold).toBe(200);
      expect(warnings.some(([, m]) => m === "event loop lagging")).toBe(true);
      const stats = server.stats();
      expect(stats.liveness.loopLagEvents).toBeGreaterThanOrEqual(1);
      // Same window everywhere (nothing rotated in between: read at once).
      const window = LoopLag.shared().last();
      expect(stats.liveness.loopLag).toEqual(window);
      expect(sampler.sample().loopDelay.max).toBeCloseTo(window.max / 1_000, 6);
    } finally {
      sampler.stop();
    }
  });

  it("a window under the threshold raises nothing", async () => {
    const server = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", port: 0, loopLagThreshold: 60_000 });
    servers.push(server);
    const events: LoopLagEvent[] = [];
    server.on("loopLag", (e) => events.push(e));
    await server.listen();
    const before = LoopLag.shared().last();
    await waitFor(() => LoopLag.shared().last() !== before, 5_000, "a window to complete");
    expect(events).toEqual([]);
    expect(server.stats().liveness.loopLag.windowMs).toBeGreaterThan(0);
  });
});
