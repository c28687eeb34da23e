// Issue 10: the mass-departure brake. 60 % of 1,000 nodes go silent at once
// (their two processes frozen with SIGSTOP, the other 400 nodes in a third
// process keep heartbeating): they are reported SUSPECT mass_silence, no will
// is published, their connections stay open; thawed, they recover. Frozen
// again and left frozen, they time out once the maximum hold
// (maxHeldVerdict, default 2 × heartbeatTimeout) has passed, wills then.
// Over real TCP, server and nodes in separate processes (1,000 connections:
// run under the heavy lock with the rest of the suite).
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../raw-peer.js";
import { NodesProcess, ServerProcess } from "./processes.js";

const INTERVAL = 500;
const TIMEOUT = 2_000;
const TICK = 100;
const HOLD = 2 * TIMEOUT; // the default maxHeldVerdict
const SLACK = 1_000; // a loaded 2-core machine

const procs: NodesProcess[] = [];
let server: ServerProcess | undefined;
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill();
  await server?.close();
  server = undefined;
});

describe("the mass-departure brake (separate processes, real TCP)", () => {
  it("600 of 1,000 nodes frozen: SUSPECT mass_silence, no will; thawed: recovered; frozen past the hold: timed out", { timeout: 180_000 }, async () => {
    server = await ServerProcess.start({ workerCount: 1, heartbeatInterval: INTERVAL, heartbeatTimeout: TIMEOUT, heartbeatCheckInterval: TICK });
    const s = server;
    const base = { port: s.port, interval: INTERVAL, will: true };
    const alive = await NodesProcess.start({ ...base, count: 400, prefix: "alive-", localAddress: "127.0.0.2" });
    const q1 = await NodesProcess.start({ ...base, count: 300, prefix: "q1-", localAddress: "127.0.0.3" });
    const q2 = await NodesProcess.start({ ...base, count: 300, prefix: "q2-", localAddress: "127.0.0.4" });
    procs.push(alive, q1, q2);
    await waitFor(() => s.of("nodeJoined").length === 1_000, 60_000, "1,000 nodes to join");

    // Phase 1: frozen, then thawed within the hold.
    q1.freeze();
    q2.freeze();
    await waitFor(() => s.of("nodeSuspect", "mass_silence").length === 600, 30_000, "600 SUSPECT mass_silence");
    const held = await s.until((st) => st.liveness.heldNow === 600, "600 held");
    expect(held.liveness.holding).toBe("mass_silence");
    expect(held.liveness.holds.mass_silence).toBe(1);
    expect(held.online + held.suspect).toBe(1_000);
    expect(s.of("nodeTimeout")).toEqual([]);
    expect(s.of("willPublished")).toEqual([]);
    expect(s.of("nodeSuspect", "mass_silence").every((e) => e.nodeId.startsWith("q"))).toBe(true);
    q1.thaw();
    q2.thaw();
    await waitFor(() => s.of("nodeRecovered", "heartbeat").length === 600, 30_000, "600 recovered");
    const back = await s.until((st) => st.liveness.holding === "none" && st.online === 1_000, "the hold to end");
    expect(back.liveness.heldNow).toBe(0);
    expect(s.of("nodeTimeout")).toEqual([]);
    expect(s.of("willPublished")).toEqual([]);
    expect(s.of("nodeLeft")).toEqual([]);

    // Phase 2: frozen for good: held, then timed out after the maximum hold, wills published then.
    const mark = s.events.length;
    q1.freeze();
    q2.freeze();
    await waitFor(() => s.events.slice(mark).filter((e) => e.reason === "mass_silence").length === 600, 30_000, "600 held again");
    await waitFor(() => s.of("nodeTimeout").length === 600, 60_000, "600 timed out after the hold");
    const heldAt = new Map(s.events.slice(mark).filter((e) => e.reason === "mass_silence").map((e) => [e.nodeId, e.time]));
    for (const e of s.of("nodeTimeout")) {
      expect(e.reason).toBe("heartbeat_timeout");
      const after = e.time - (heldAt.get(e.nodeId) ?? Number.NaN);
      expect(after).toBeGreaterThanOrEqual(HOLD - 1);
      expect(after).toBeLessThanOrEqual(HOLD + TICK + SLACK);
    }
    await waitFor(() => s.of("willPublished").length === 600, 10_000, "600 wills");
    const end = await s.stats();
    expect(end.online).toBe(400);
    expect(s.of("nodeSuspect").filter((e) => e.nodeId.startsWith("alive-"))).toEqual([]);
  });
});
