import { describe, expect, it } from "vitest";
import { ServerCounters, type WorkerStats } from "../../src/core/ports/server-stats.js";
import { sumWorkerStats } from "../../src/workers/sum-worker-stats.js";

const gauges = { connections: 0, sessions: 0, nodes: 0, online: 0, suspect: 0, labelSets: 0, subscriptions: 0, channels: 0 };

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
    }, { connections: 3, nodes: 3, online: 2, suspect: 1 });
    const w2 = worker("w2", (c) => {
      c.heartbeats = 5;
      c.error(7);
      c.transition("nodeJoined", "hello");
      c.rtt.observe(0.5);
      c.routed.publish = 4;
    }, { connections: 1, nodes: 1, online: 1 });
    const pending: WorkerStats = { memberId: "w3", pid: 3, startedAt: 0, reportedAt: 0, stats: undefined, process: undefined };
    const sum = sumWorkerStats(primary.snapshot(gauges), [w1, w2, pending]);
    expect(sum).toMatchObject({ connections: 4, nodes: 4, online: 3, suspect: 1, heartbeats: 15 });
    expect(Object.values(sum.errors)).toEqual([2]);
    expect(sum.routed.publish).toBe(5);
    expect(sum.dropped.noSubscribers).toBe(2);
    expect(sum.transitions).toEqual({ joined: { hello: 2 }, timeout: { heartbeat_timeout: 1 } });
    expect(sum.rtt.count).toBe(2);
    expect(sum.workers?.map((w) => w.memberId)).toEqual(["w1", "w2", "w3"]);
    // The inputs are left alone.
    expect(w1.stats?.transitions).toEqual({ joined: { hello: 1 }, timeout: { heartbeat_timeout: 1 } });
  });
});
