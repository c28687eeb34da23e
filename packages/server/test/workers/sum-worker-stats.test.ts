import { describe, expect, it } from "vitest";
import { type LivenessStats, ServerCounters, type WorkerStats } from "../../src/core/ports/server-stats.js";
import { sumWorkerStats } from "../../src/workers/sum-worker-stats.js";

const liveness = (more: Partial<LivenessStats> = {}): LivenessStats => ({
  detector: "fixed",
  loopLag: { mean: 0, p50: 0, p99: 0, max: 0, windowMs: 1_000 },
  loopLagEvents: 0,
  stalls: 0,
  stalledMs: 0,
  deferredTicks: 0,
  slicedTicks: 0,
  holding: "none",
  heldNow: 0,
  held: { server_lagging: 0, mass_silence: 0 },
  holds: { server_lagging: 0, mass_silence: 0 },
  ...more,
});
const flapping = { damped: 0, dampings: 0, suppressed: 0, tracked: 0 };
const gauges = { connections: 0, sessions: 0, nodes: 0, observers: 0, online: 0, suspect: 0, labelSets: 0, subscriptions: 0, channels: 0, liveness: liveness(), flapping };

function worker(memberId: string, fill: (c: ServerCounters) => void, g: Partial<typeof gauges>): WorkerStats {
  const c = new ServerCounters();
  fill(c);
  return { memberId, pid: 1, startedAt: 0, reportedAt: 1, stats: c.snapshot({ ...gauges, ...g }), process: undefined };
}

describe("sumWorkerStats", () => {
  it("adds every counter, gauge, map and histogram of the workers to the primary's own", () => {
    const primary = new ServerCounters();
    primary.routed.publish = 1; // server.publish() on the primary
    const w1 = worker("w1", (c) => {
      c.heartbeats = 10;
      c.error(7);
      c.transition("nodeJoined", "hello");
      c.transition("nodeTimeout", "heartbeat_timeout");
      c.rtt.observe(0.001);
      c.dropped.noSubscribers = 2;
    }, {
      connections: 3,
      nodes: 3,
      observers: 2,
      online: 2,
      suspect: 1,
      liveness: liveness({ stalls: 2, stalledMs: 3_000, holding: "mass_silence", heldNow: 1, held: { server_lagging: 0, mass_silence: 1 }, loopLag: { mean: 1, p50: 1, p99: 900, max: 3_000, windowMs: 1_000 } }),
      flapping: { damped: 1, dampings: 2, suppressed: 5, tracked: 3 },
    });
    const w2 = worker("w2", (c) => {
      c.heartbeats = 5;
      c.error(7);
      c.transition("nodeJoined", "hello");
      c.rtt.observe(0.5);
      c.routed.publish = 4;
    }, { connections: 1, nodes: 1, online: 1, liveness: liveness({ stalls: 1, stalledMs: 50, heldNow: 2, held: { server_lagging: 2, mass_silence: 0 } }), flapping: { damped: 0, dampings: 1, suppressed: 1, tracked: 1 } });
    const pending: WorkerStats = { memberId: "w3", pid: 3, startedAt: 0, reportedAt: 0, stats: undefined, process: undefined };
    const sum = sumWorkerStats(primary.snapshot(gauges), [w1, w2, pending]);
    expect(sum).toMatchObject({ connections: 4, nodes: 4, observers: 2, online: 3, suspect: 1, heartbeats: 15 });
    expect(Object.values(sum.errors)).toEqual([2]);
    expect(sum.routed.publish).toBe(5);
    expect(sum.dropped.noSubscribers).toBe(2);
    expect(sum.transitions).toEqual({ joined: { hello: 2 }, timeout: { heartbeat_timeout: 1 } });
    expect(sum.rtt.count).toBe(2);
    expect(sum.workers?.map((w) => w.memberId)).toEqual(["w1", "w2", "w3"]);
    // Liveness: counters add up, a hold in any worker shows, the lag is the worst worker's.
    expect(sum.liveness).toMatchObject({ stalls: 3, stalledMs: 3_050, holding: "mass_silence", heldNow: 3, held: { server_lagging: 2, mass_silence: 1 } });
    expect(sum.liveness.loopLag.max).toBe(3_000);
    expect(sum.flapping).toEqual({ damped: 1, dampings: 3, suppressed: 6, tracked: 4 });
    // The inputs are left alone.
    expect(w1.stats?.transitions).toEqual({ joined: { hello: 1 }, timeout: { heartbeat_timeout: 1 } });
  });
});
