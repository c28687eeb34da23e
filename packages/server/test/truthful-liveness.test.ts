// The rules of PROTOCOL.md §6.3 that keep verdicts truthful (listening time,
// late-tick deferral, held verdicts, the phi detector) and §7.6 flap damping,
// fed frames and time directly: the server core with in-memory sessions and a
// fake clock (no socket, no timer).
import { PresenceKind, makeFrame } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { ListeningTime, LivenessMonitor, NodeRegistry, PhiAccrual, ServerCounters, VERDICTS_PER_TURN, phiOf } from "../src/internal.js";
import { FakeClock, FakeCore, type FakePeer, drained, settle } from "./fake-core.js";

// interval 500 ms → suspect after 750 ms; timeout 2 000 ms; ticks of 100 ms.
const BASE = { heartbeatInterval: 500, minHeartbeatInterval: 100, heartbeatTimeout: 2_000, heartbeatCheckInterval: 100 };

const beat = (p: FakePeer): void => p.send(makeFrame("heartbeat", { seq: 1n }));

describe("listening time and late ticks (fake clock)", () => {
  it("a stall longer than the timeout convicts nobody whose frames arrived during it; they are read before the verdicts", async () => {
    const f = new FakeCore({ ...BASE, massSilencePercent: 0 });
    const a = f.hello("a");
    const b = f.hello("b");
    await settle();
    // On-time ticks while both heartbeat.
    for (let t = 100; t <= 1_000; t += 100) {
      if (t % 500 === 0) {
        f.clock.t = t;
        beat(a);
        beat(b);
      }
      f.timer(t);
    }
    // The loop stalls from 1 000 to 4 100: the next timer tick runs 3 000 ms late. The nodes' heartbeats
    // sat in the socket buffers; the verdicts wait one I/O turn, during which they are read.
    f.timer(4_100);
    expect(f.core.liveness.counters()).toMatchObject({ stalls: 1, stalledMs: 3_000, deferredTicks: 1 });
    f.clock.t = 4_101;
    beat(a);
    beat(b);
    await settle();
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello"]);
    expect(f.eventsOf("b")).toEqual(["nodeJoined hello"]);
  });

  it("a stall is not counted as silence: a node silent since before it is caught late by the stall, never early", async () => {
    const f = new FakeCore({ ...BASE, massSilencePercent: 0 });
    f.hello("a"); // heard at 0, then silent
    await settle();
    for (let t = 100; t <= 500; t += 100) f.timer(t);
    f.timer(3_600); // a 3 000 ms stall
    await settle();
    // Silence in listening time at 3 600 is 600 ms: not even suspect.
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello"]);
    for (let t = 3_700; t <= 3_800; t += 100) f.timer(t);
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed"]); // 750 ms of listening
    for (let t = 3_900; t <= 4_900; t += 100) f.timer(t);
    expect(f.eventsOf("a")).toHaveLength(2); // 1 900 ms of listening at 4 900
    f.timer(5_000);
    const timeout = f.log.find((e) => e.name === "nodeTimeout");
    expect(timeout?.reason).toBe("heartbeat_timeout");
    // Late by the stall (3 000) plus at most one tick.
    expect((timeout?.time ?? 0) - f.clock.epoch(0) - 2_000).toBeGreaterThanOrEqual(3_000);
    expect((timeout?.time ?? 0) - f.clock.epoch(0) - 2_000).toBeLessThanOrEqual(3_000 + 100);
  });

  it("ListeningTime counts a stall against a node heard during its gap at most once, and merges old stalls conservatively", () => {
    const l = new ListeningTime();
    l.record(1_000, 300); // taken to lie in 700..1 000
    expect(l.silence(0, 2_000)).toBe(1_700);
    expect(l.silence(900, 2_000)).toBe(1_000); // 100 ms of it after 900
    expect(l.silence(1_000, 2_000)).toBe(1_000);
    for (let i = 1; i <= 100; i++) l.record(1_000 + i * 1_000, 10);
    expect(l.stalls).toBe(101);
    // Whatever the merging, never less stall than recorded since: silence never longer than the truth.
    expect(l.silence(0, 200_000)).toBeLessThanOrEqual(200_000 - 300 - 100 * 10);
  });
});

describe("held verdicts (fake clock)", () => {
  async function fleet(n: number, options: object = {}): Promise<{ f: FakeCore; peers: FakePeer[] }> {
    const f = new FakeCore({ ...BASE, massSilenceMinNodes: 3, maxHeldVerdict: 6_000, ...options });
    const peers = Array.from({ length: n }, (_, i) => f.hello(`n${i}`, { will: { subject: "wills", payload: new Uint8Array([i]) } }));
    await drained();
    return { f, peers };
  }
  // Input is read within the turn's work budget (TurnSlicer): the beats are drained before the tick judges.
  const run = async (f: FakeCore, from: number, to: number, alive: FakePeer[]): Promise<void> => {
    for (let t = from; t <= to; t += 100) {
      f.clock.t = t;
      if (t % 500 === 0) {
        for (const p of alive) beat(p);
        await drained();
      }
      f.advance(t);
    }
  };

  it("mass silence: 6 of 10 nodes go quiet → SUSPECT mass_silence, no will, connection kept; heard again → RECOVERED", async () => {
    const { f, peers } = await fleet(10);
    const wills: string[] = [];
    f.events.on("willPublished", (e) => wills.push(e.nodeId));
    const quiet = peers.slice(0, 6);
    const alive = peers.slice(6);
    await run(f, 100, 3_000, alive);
    for (let i = 0; i < 6; i++) expect(f.eventsOf(`n${i}`)).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeSuspect mass_silence"]);
    expect(f.eventsOf("n6")).toEqual(["nodeJoined hello"]);
    expect(wills).toEqual([]);
    expect(f.core.liveness.counters()).toMatchObject({ holding: "mass_silence", heldNow: 6, held: { mass_silence: 6 }, holds: { mass_silence: 1 } });
    expect(f.stats.snapshot({} as Parameters<typeof f.stats.snapshot>[0]).transitions.suspect?.mass_silence).toBe(6);
    await settle();
    expect(quiet[0]?.frames.some((fr) => fr.body.case === "error")).toBe(false);
    // They come back.
    await run(f, 3_100, 4_000, peers);
    for (let i = 0; i < 6; i++) expect(f.eventsOf(`n${i}`).at(-1)).toBe("nodeRecovered heartbeat");
    expect(f.core.liveness.counters()).toMatchObject({ holding: "none", heldNow: 0 });
    expect(wills).toEqual([]);
  });

  it("holds more nodes than the hold arrays start with (they grow)", async () => {
    const { f, peers } = await fleet(1_100);
    // The last 700 registered (slots 400 .. 1 099) go silent.
    await run(f, 100, 2_200, peers.slice(0, 400));
    expect(f.core.liveness.counters()).toMatchObject({ holding: "mass_silence", heldNow: 700 });
    expect(f.core.liveness.heldReason(1_050)).toBe("mass_silence");
    expect(f.core.liveness.heldReason(10)).toBeUndefined();
    expect(f.log.filter((e) => e.reason === "mass_silence")).toHaveLength(700);
  });

  it("mass silence that lasts: held nodes time out at the maximum hold, wills published then", async () => {
    const { f, peers } = await fleet(10);
    const wills: string[] = [];
    f.events.on("willPublished", (e) => wills.push(e.nodeId));
    await run(f, 100, 7_900, peers.slice(6));
    expect(wills).toEqual([]);
    // Timeout reached at ~2 000, hold at most 6 000 more.
    await run(f, 8_000, 8_300, peers.slice(6));
    for (let i = 0; i < 6; i++) expect(f.eventsOf(`n${i}`).at(-1)).toBe("nodeTimeout heartbeat_timeout");
    expect(wills.sort()).toEqual(["n0", "n1", "n2", "n3", "n4", "n5"]);
    const t = f.log.find((e) => e.name === "nodeTimeout")?.time ?? 0;
    expect(t - f.clock.epoch(0)).toBeGreaterThanOrEqual(8_000);
  });

  it("when the hold ends, nodes still silent time out one interval + one tick later; the one heard recovers", async () => {
    const { f, peers } = await fleet(10, { maxHeldVerdict: 60_000 });
    await run(f, 100, 3_000, peers.slice(6));
    // Three of the six come back: 3 silent of 10 is no mass silence any more.
    f.clock.t = 3_100;
    for (const p of peers.slice(3)) beat(p);
    await drained();
    f.advance(3_100);
    const ended = 3_100;
    expect(f.core.liveness.counters().holding).toBe("none");
    await run(f, 3_200, 4_000, peers.slice(3));
    for (let i = 0; i < 3; i++) {
      const timeout = f.log.find((e) => e.nodeId === `n${i}` && e.name === "nodeTimeout");
      expect(timeout?.reason).toBe("heartbeat_timeout");
      expect((timeout?.time ?? 0) - f.clock.epoch(ended)).toBeGreaterThanOrEqual(500 + 100);
      expect((timeout?.time ?? 0) - f.clock.epoch(ended)).toBeLessThanOrEqual(500 + 100 + 100);
    }
    for (let i = 3; i < 6; i++) expect(f.eventsOf(`n${i}`).at(-1)).toBe("nodeRecovered heartbeat");
  });

  it("a few silent nodes among many time out normally (below the share, or below the minimum count)", async () => {
    const { f, peers } = await fleet(10);
    await run(f, 100, 2_200, peers.slice(2));
    expect(f.eventsOf("n0")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeTimeout heartbeat_timeout"]);
    const small = await fleet(2);
    await run(small.f, 100, 2_200, []);
    expect(small.f.eventsOf("n0").at(-1)).toBe("nodeTimeout heartbeat_timeout");
  });

  it("server_lagging: a node reaching its timeout while the loop lags is held; judged once the lag is gone", async () => {
    const { f, peers } = await fleet(3, { loopLagThreshold: 500, massSilencePercent: 0 });
    await run(f, 100, 1_500, peers.slice(1));
    f.lagMs = 800;
    await run(f, 1_600, 2_500, peers.slice(1));
    expect(f.eventsOf("n0")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeSuspect server_lagging"]);
    f.lagMs = 0;
    await run(f, 2_600, 3_300, peers.slice(1));
    expect(f.eventsOf("n0").at(-1)).toBe("nodeTimeout heartbeat_timeout");
    expect(f.core.liveness.counters().holds.server_lagging).toBe(1);
  });

  it("the resume grace ending during a hold is held too (SUSPECT mass_silence), then times out with connection_closed", async () => {
    const { f, peers } = await fleet(10, { resumeGrace: 100 });
    await run(f, 100, 1_000, peers.slice(4)); // n0..n3 silent (suspect), n4.. alive
    peers[4]?.transport.destroy(); // n4 lost: its grace runs
    peers[5]?.transport.destroy();
    await settle();
    // 6 of 10 suspect now: the grace ending at ~1 100 is held.
    await new Promise((r) => setTimeout(r, 150));
    expect(f.eventsOf("n4")).toEqual(["nodeJoined hello", "nodeSuspect connection_closed", "nodeSuspect mass_silence"]);
    await run(f, 1_100, 7_300, peers.slice(6));
    expect(f.eventsOf("n4").at(-1)).toBe("nodeTimeout connection_closed");
  });
});

describe("phi accrual detector", () => {
  it("φ grows with silence; the suspect delay is where it reaches the threshold", () => {
    const phi = new PhiAccrual({ threshold: 8, acceptablePauseMs: 0, minStdDevMs: 100 });
    phi.reset(0, 0, 1_000);
    for (let t = 1_000; t <= 30_000; t += 1_000) phi.beat(0, t, 0, 10_000);
    expect(phi.mean(0)).toBeGreaterThan(990);
    expect(phi.mean(0)).toBeLessThan(1_010);
    expect(phi.stdDev(0)).toBe(100); // regular: the minimum applies
    const at = phi.suspectAfter(0);
    expect(phi.phi(0, at)).toBeCloseTo(8, 3);
    expect(at).toBeGreaterThan(1_400);
    expect(at).toBeLessThan(1_600);
    expect(phiOf(500, 1_000, 100)).toBeLessThan(0.01);
  });

  it("its arrays grow with the slots and keep what they held", () => {
    const phi = new PhiAccrual({ threshold: 8, acceptablePauseMs: 0, minStdDevMs: 100 }, 16);
    phi.reset(3, 0, 1_000);
    phi.beat(3, 900, 0, 10_000);
    const mean = phi.mean(3);
    phi.reset(5_000, 0, 2_000);
    expect(phi.mean(3)).toBe(mean);
    expect(phi.mean(5_000)).toBe(2_000);
    expect(phi.byteLength).toBe(8_192 * 17);
  });

  it("a node heartbeating on its interval is never suspect nor timed out; a silent one is suspect after φ, timed out at the timeout", async () => {
    const f = new FakeCore({ ...BASE, failureDetector: "phi", acceptablePause: 0, massSilencePercent: 0 });
    const a = f.hello("a");
    const b = f.hello("b");
    await settle();
    for (let t = 100; t <= 10_000; t += 100) {
      f.clock.t = t;
      if (t % 500 === 0) {
        beat(a);
        if (t <= 5_000) beat(b);
      }
      f.advance(t);
    }
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello"]);
    expect(f.eventsOf("b")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeTimeout heartbeat_timeout"]);
    const suspect = f.log.find((e) => e.nodeId === "b" && e.name === "nodeSuspect");
    const timeout = f.log.find((e) => e.nodeId === "b" && e.name === "nodeTimeout");
    const last = f.clock.epoch(5_000);
    // Regular beats: suspect soon after one missed beat (≥ one interval, before the fixed 1.5 × interval + tick).
    expect((suspect?.time ?? 0) - last).toBeGreaterThanOrEqual(500);
    expect((suspect?.time ?? 0) - last).toBeLessThanOrEqual(1_100);
    expect((timeout?.time ?? 0) - last).toBeGreaterThanOrEqual(2_000);
    expect((timeout?.time ?? 0) - last).toBeLessThanOrEqual(2_100);
  });
});

describe("flap damping (fake clock)", () => {
  it("a node joining and leaving 20 times: a damped watcher sees the damped sequence ending in flap_ended; an undamped one sees all 40", async () => {
    const f = new FakeCore({ ...BASE, flapSuppressThreshold: 4, flapReuseThreshold: 2, flapHalfLife: 10_000, flapMaxDamping: 30_000 });
    const damped = f.hello("w1");
    damped.send(makeFrame("subscribe", { requestId: 1, subject: "$hb.presence" }));
    const undamped = f.hello("w2");
    undamped.send(makeFrame("subscribe", { requestId: 1, subject: "$hb.presence", undamped: true }));
    let t = 0;
    for (let i = 0; i < 20; i++) {
      t += 250;
      f.clock.t = t;
      const n = f.hello("flappy");
      n.send(makeFrame("heartbeat", { seq: 1n }));
      await settle();
      t += 250;
      f.clock.t = t;
      n.send(makeFrame("goodbye", {}));
      for (const w of [damped, undamped]) w.send(makeFrame("heartbeat", { seq: 1n }));
      await settle();
      f.advance(t);
    }
    await settle();
    const flappyDamped = damped.frames.filter((fr) => fr.body.case === "presence" && fr.body.value.nodeId === "flappy");
    const flappyUndamped = undamped.frames.filter((fr) => fr.body.case === "presence" && fr.body.value.nodeId === "flappy");
    expect(flappyUndamped).toHaveLength(40);
    const seq = flappyDamped.map((fr) => (fr.body.case === "presence" ? `${PresenceKind[fr.body.value.kind]} ${fr.body.value.reason}` : ""));
    // First join passes, then LEFT / JOINED while the penalty builds (3 transitions, the first join creates none), then
    // damping starts on a LEFT: SUSPECT flapping. Nothing more while damped.
    expect(seq).toEqual(["JOINED hello", "LEFT goodbye", "JOINED hello", "LEFT goodbye", "JOINED hello", "SUSPECT flapping"]);
    const stats = f.core.flappingStats();
    expect(stats).toMatchObject({ damped: 1, dampings: 1 });
    expect(stats.suppressed).toBe(40 - 5);
    // The penalty (capped at 2 × 2^(30 s / 10 s) = 16) decays below 2 within the maximum damping of 30 s: damping
    // ends with one event: the node is offline, it left. The watchers heartbeat meanwhile.
    for (let k = 1; k <= 35; k++) {
      f.clock.t = t + k * 1_000;
      damped.send(makeFrame("heartbeat", { seq: 1n }));
      undamped.send(makeFrame("heartbeat", { seq: 1n }));
      f.advance(t + k * 1_000);
    }
    await settle();
    const after = damped.frames.filter((fr) => fr.body.case === "presence" && fr.body.value.nodeId === "flappy");
    expect(after.length).toBe(seq.length + 1);
    const last = after.at(-1);
    expect(last?.body.case === "presence" && [PresenceKind[last.body.value.kind], last.body.value.reason]).toEqual(["LEFT", "flap_ended"]);
    expect(f.core.flappingStats().damped).toBe(0);
    // Server events and the undamped watcher were never damped.
    expect(f.eventsOf("flappy")).toHaveLength(40);
  });

  it("damping ending with the node online: RECOVERED flap_ended; a snapshot while damped reports JOINED snapshot + SUSPECT flapping", async () => {
    const f = new FakeCore({ ...BASE, flapSuppressThreshold: 3, flapReuseThreshold: 1, flapHalfLife: 1_000, flapMaxDamping: 30_000 });
    const w = f.hello("w");
    w.send(makeFrame("subscribe", { requestId: 1, subject: "$hb.presence" }));
    let n = f.hello("x");
    for (let i = 0; i < 3; i++) {
      n.send(makeFrame("goodbye", {}));
      await settle();
      n = f.hello("x");
    }
    await settle();
    const late = f.hello("late");
    late.send(makeFrame("subscribe", { requestId: 1, subject: "$hb.presence", snapshot: true }));
    await settle();
    const of = (p: FakePeer) =>
      p.frames
        .filter((fr) => fr.body.case === "presence" && fr.body.value.nodeId === "x")
        .map((fr) => (fr.body.case === "presence" ? `${PresenceKind[fr.body.value.kind]} ${fr.body.value.reason}` : ""));
    expect(of(late)).toEqual(["JOINED snapshot", "SUSPECT flapping"]);
    for (let k = 1; k <= 10; k++) {
      f.clock.t = k * 1_000;
      for (const p of [w, late, n]) p.send(makeFrame("heartbeat", { seq: 1n }));
      f.advance(k * 1_000);
    }
    await settle();
    expect(of(w).at(-1)).toBe("RECOVERED flap_ended");
    expect(of(late).at(-1)).toBe("RECOVERED flap_ended");
  });

  it("undamped is refused on anything but $hb.presence", async () => {
    const f = new FakeCore(BASE);
    const p = f.hello("p");
    p.send(makeFrame("subscribe", { requestId: 7, subject: "orders", undamped: true }));
    await settle();
    const err = p.frames.find((fr) => fr.body.case === "error");
    expect(err?.body.case === "error" && err.body.value.message).toContain("undamped is only allowed");
  });
});

describe("stalls back to back (fake clock)", () => {
  it("a stall between a late tick and its deferred verdicts is recorded before anyone is judged", async () => {
    const f = new FakeCore({ ...BASE, massSilencePercent: 0 });
    const a = f.hello("a");
    await settle();
    for (let t = 100; t <= 500; t += 100) f.timer(t);
    f.clock.t = 500;
    beat(a);
    f.timer(700); // 100 ms late: its verdicts wait for the next turn…
    f.clock.t = 3_800; // …and the loop is busy for 3.1 s before that turn comes (a slow I/O callback)
    await settle();
    expect(f.core.liveness.counters()).toMatchObject({ stalls: 2, stalledMs: 3_200 });
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello"]);
  });

  it("a mass of verdicts is sliced over turns; a stall between two slices is recorded before the next slice judges", async () => {
    type Owner = { intervalMs: number; suspectAfterMs: number; ownSlot: number; handles: Map<number, number> };
    const registry = new NodeRegistry<Owner>();
    const clock = new FakeClock();
    const events: string[] = [];
    let timedOut = 0;
    const monitor = new LivenessMonitor<Owner>({
      registry,
      clock,
      events: { node: (name, _slot, reason) => void events.push(`${name} ${reason}`) },
      stats: new ServerCounters(),
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      tickMs: 100,
      timeoutMs: 4_000,
      actions: { connectionTimedOut: () => void timedOut++, attachedTimedOut() {}, graceExpired() {} },
    });
    const n = VERDICTS_PER_TURN + 500;
    for (let i = 0; i < n; i++) {
      const owner: Owner = { intervalMs: 1_000, suspectAfterMs: 1_500, ownSlot: -1, handles: new Map() };
      owner.ownSlot = registry.add(`n${i}`, {}, owner, 0, 0);
      monitor.watch(owner.ownSlot, owner, 0);
    }
    clock.t = 1_600;
    monitor.tick(1_600);
    expect(events).toHaveLength(VERDICTS_PER_TURN); // the rest on the next turn
    clock.t = 4_700; // the loop stalls 3.1 s before that turn
    await settle();
    expect(events).toHaveLength(n);
    expect(new Set(events)).toEqual(new Set(["nodeSuspect heartbeat_missed"]));
    expect(timedOut).toBe(0);
    expect(monitor.counters()).toMatchObject({ slicedTicks: 1, stalls: 1, stalledMs: 3_100 });
    monitor.stop();
  });

  it("ListeningTime: a stall seen twice (overlapping) counts once", () => {
    const l = new ListeningTime();
    l.record(1_000, 500); // 500 .. 1 000
    l.record(1_200, 600); // 600 .. 1 200: extends it to 500 .. 1 200
    expect(l.stalls).toBe(1);
    expect(l.totalMs).toBe(700);
    expect(l.silence(0, 2_000)).toBe(1_300);
  });

  it("a second stall before the first one's deferred verdicts ran is still not counted as silence", async () => {
    const f = new FakeCore({ ...BASE, massSilencePercent: 0 });
    const a = f.hello("a");
    await settle();
    for (let t = 100; t <= 500; t += 100) f.timer(t);
    f.clock.t = 500;
    beat(a);
    f.timer(700); // 100 ms late: deferred to the next turn…
    f.timer(3_800); // …and before that turn, the loop stalls for 3 s
    expect(f.core.liveness.counters()).toMatchObject({ stalls: 2, stalledMs: 3_100 });
    await settle();
    // Heard at 500; silence in listening time at 3 800 is 3 300 − 3 100 = 200 ms.
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello"]);
  });
});
