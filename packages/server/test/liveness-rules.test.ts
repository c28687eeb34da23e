// The liveness rules of PROTOCOL.md §6, fed frames and time directly: the
// server core with in-memory sessions and a fake clock (no socket, no timer).
import { ErrorCode, makeFrame } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { NodeRegistry, LivenessMonitor, ServerCounters, processSlicer } from "../src/internal.js";
import { FakeClock, FakeCore, drained, settle, spendTurn } from "./fake-core.js";

// interval 1 000 ms → suspect after 1 500 ms; timeout 4 000 ms; ticks of 100 ms.
const OPTIONS = { heartbeatInterval: 1_000, minHeartbeatInterval: 100, heartbeatTimeout: 4_000, heartbeatCheckInterval: 100 };

describe("liveness rules (fake clock, no sockets)", () => {
  it("a silent node is suspect after 1.5 × its interval, timed out after heartbeatTimeout, within one tick", async () => {
    const f = new FakeCore(OPTIONS);
    const a = f.hello("a");
    await settle();
    expect(a.frames[0]?.body.case).toBe("welcome");
    f.advance(1_499);
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello"]);
    f.advance(1_600);
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed"]);
    f.advance(3_999);
    expect(f.eventsOf("a")).toHaveLength(2);
    f.advance(4_100);
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeTimeout heartbeat_timeout"]);
    await settle();
    const last = a.frames.at(-1);
    expect(last?.body.case).toBe("error");
    expect(last?.body.case === "error" && last.body.value.code).toBe(ErrorCode.HEARTBEAT_TIMEOUT);
    expect(f.core.size).toBe(0);
  });

  it("any frame is proof of life; a suspect node heard again recovers; a heartbeat is acked", async () => {
    const f = new FakeCore(OPTIONS);
    const a = f.hello("a");
    for (let t = 900; t <= 9_000; t += 900) {
      f.clock.t = t;
      a.send(makeFrame("heartbeat", { seq: BigInt(t) }));
      f.advance(t + 50);
    }
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello"]);
    f.advance(11_000);
    f.clock.t = 11_000;
    a.send(makeFrame("subscribe", { requestId: 1, subject: "x" })); // not a heartbeat: proof of life all the same
    f.advance(11_050);
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeRecovered heartbeat"]);
    await settle();
    expect(a.frames.filter((fr) => fr.body.case === "heartbeatAck")).toHaveLength(10);
    expect(f.stats.heartbeats).toBe(10);
  });

  it("an attached node refreshed by BatchHeartbeat stays; one left out times out alone and its gateway is told", async () => {
    const f = new FakeCore(OPTIONS);
    const gw = f.hello("gw");
    gw.send(makeFrame("attach", { handle: 1, nodeId: "d1" }), makeFrame("attach", { handle: 2, nodeId: "d2" }));
    for (let t = 1_000; t <= 6_000; t += 1_000) {
      f.clock.t = t;
      gw.send(makeFrame("heartbeat", { seq: 1n }), makeFrame("batchHeartbeat", { handles: [1] }));
      f.advance(t + 10);
    }
    expect(f.eventsOf("d1")).toEqual(["nodeJoined attach"]);
    expect(f.eventsOf("d2")).toEqual(["nodeJoined attach", "nodeSuspect heartbeat_missed", "nodeTimeout heartbeat_timeout"]);
    expect(f.eventsOf("gw")).toEqual(["nodeJoined hello"]);
    await settle();
    const refusal = gw.frames.find((fr) => fr.body.case === "error");
    expect(refusal?.body.case === "error" && [refusal.body.value.code, refusal.body.value.ref, refusal.body.value.fatal]).toEqual([
      ErrorCode.HEARTBEAT_TIMEOUT,
      2n,
      false,
    ]);
  });

  it("a gateway's nodes are not timed out while its input waits unread in the turn slicer; read, it refreshes them", async () => {
    const f = new FakeCore(OPTIONS);
    const gw = f.hello("gw");
    gw.send(makeFrame("attach", { handle: 1, nodeId: "d1" }));
    f.clock.t = 1_000;
    gw.send(makeFrame("batchHeartbeat", { all: true }));
    f.advance(2_600); // silent for 1 600 ms: suspect, the server having read all there was
    expect(f.eventsOf("d1")).toEqual(["nodeJoined attach", "nodeSuspect heartbeat_missed"]);
    expect(f.eventsOf("gw")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed"]);
    // This turn's budget is spent: what arrives now is held for a later turn, unread.
    f.clock.t = 4_900;
    spendTurn();
    gw.send(makeFrame("batchHeartbeat", { all: true }));
    expect(gw.session.holdsInput).toBe(true);
    f.advance(5_100); // 4 100 ms since last read, but a refresh waits in the server's own backlog
    f.advance(9_000);
    expect(f.eventsOf("d1")).toEqual(["nodeJoined attach", "nodeSuspect heartbeat_missed"]);
    expect(f.eventsOf("gw")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed"]);
    await drained(); // read now, with the time it arrived
    expect(gw.session.holdsInput).toBe(false);
    expect(f.eventsOf("d1")).toEqual(["nodeJoined attach", "nodeSuspect heartbeat_missed", "nodeRecovered heartbeat"]);
    expect(f.eventsOf("gw")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeRecovered heartbeat"]);
    // Judged again on what was read: silent since 4 900, so timed out at 8 900 or later (the next tick), not before.
    f.advance(9_100);
    expect(f.eventsOf("d1").at(-1)).toBe("nodeTimeout heartbeat_timeout");
    expect(f.eventsOf("gw").at(-1)).toBe("nodeTimeout heartbeat_timeout");
  });

  it("a verdict waits for held input at most maxHeldVerdict past the timeout", async () => {
    const f = new FakeCore({ ...OPTIONS, maxHeldVerdict: 4_000 });
    const gw = f.hello("gw");
    gw.send(makeFrame("attach", { handle: 1, nodeId: "d1" }));
    f.advance(1_600);
    f.clock.t = 2_000;
    spendTurn();
    gw.send(makeFrame("batchHeartbeat", { all: true })); // held, and not read before the end of the test
    f.advance(7_900); // silent 7 900 ms < timeout 4 000 + 4 000
    expect(f.eventsOf("d1")).toEqual(["nodeJoined attach", "nodeSuspect heartbeat_missed"]);
    f.advance(8_100);
    expect(gw.session.holdsInput).toBe(true);
    expect(f.eventsOf("d1").at(-1)).toBe("nodeTimeout heartbeat_timeout");
    await drained();
  });

  it("a BatchHeartbeat counts one unit of the turn's budget per handle it lists: a long one ends the turn", async () => {
    const f = new FakeCore(OPTIONS);
    const gw = f.hello("gw");
    const handles = Array.from({ length: 300 }, (_, i) => i + 1);
    gw.send(...handles.map((h) => makeFrame("attach", { handle: h, nodeId: `d${h}` })));
    await drained();
    // A turn whose budget is used up by time, not yet checked (the clock is read once per CHECK_UNITS units).
    const slicer = processSlicer();
    slicer.expired();
    const until = performance.now() + 20;
    while (performance.now() < until) {
      // busy
    }
    gw.send(makeFrame("batchHeartbeat", { handles })); // 301 units: the clock is read, the budget is spent
    gw.send(makeFrame("heartbeat", { seq: 1n }));
    expect(gw.session.holdsInput).toBe(true); // the heartbeat waits for the next turn
    await drained();
    expect(gw.session.holdsInput).toBe(false);
  });

  it("with resume grace a lost connection makes its nodes suspect; the grace passing times them out", async () => {
    const f = new FakeCore({ ...OPTIONS, resumeGrace: 100 });
    const a = f.hello("a");
    await settle();
    f.clock.t = 500;
    a.transport.destroy();
    await settle();
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello", "nodeSuspect connection_closed"]);
    f.advance(20_000); // no deadline while the session waits for a resume
    expect(f.eventsOf("a")).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 150)); // the grace timer is a real one
    expect(f.eventsOf("a")).toEqual(["nodeJoined hello", "nodeSuspect connection_closed", "nodeTimeout connection_closed"]);
  });
});

describe("heartbeat round trips and transitions in stats (fake clock, no sockets)", () => {
  it("grants heartbeat-rtt to a client that lists it, and counts the round trips only such clients report", async () => {
    const f = new FakeCore({ ...OPTIONS, handshakeTimeout: 7_000 });
    const a = f.hello("a", { features: ["heartbeat-rtt", "no-such-feature"] });
    const b = f.hello("b");
    await settle();
    const welcome = (p: typeof a) => {
      const w = p.frames[0];
      if (w?.body.case !== "welcome") throw new Error("no Welcome");
      return w.body.value;
    };
    // §15.1: of the client's features, the ones the server uses; Welcome says its timing too.
    expect(welcome(a).features).toEqual(["heartbeat-rtt"]);
    expect(welcome(b).features).toEqual([]);
    expect(welcome(a)).toMatchObject({ checkIntervalMs: 100, handshakeTimeoutMs: 7_000 });
    a.send(makeFrame("heartbeat", { seq: 1n, lastRttUs: 0 })); // 0: nothing measured yet
    a.send(makeFrame("heartbeat", { seq: 2n, lastRttUs: 2_000 }));
    a.send(makeFrame("heartbeat", { seq: 3n, lastRttUs: 30_000 }));
    b.send(makeFrame("heartbeat", { seq: 1n, lastRttUs: 5_000 })); // not negotiated: not counted
    const rtt = f.core.sessions.stats.rtt.snapshot();
    expect(rtt.count).toBe(2);
    expect(rtt.sum).toBeCloseTo(0.032);
    expect(rtt.counts[rtt.bounds.indexOf(0.0025)]).toBe(1); // 2 ms in (1 ms, 2.5 ms]
    expect(rtt.counts[rtt.bounds.indexOf(0.05)]).toBe(1); // 30 ms in (25 ms, 50 ms]
    await settle();
    expect(a.frames.filter((fr) => fr.body.case === "heartbeatAck")).toHaveLength(3);
  });

  it("counts every presence transition of a local node by kind and reason", async () => {
    const f = new FakeCore(OPTIONS);
    f.hello("a");
    const b = f.hello("b");
    await settle();
    f.advance(1_600);
    b.send(makeFrame("goodbye", { reason: "bye" })); // any frame is proof of life: b recovers, then leaves
    f.advance(4_100);
    expect(f.stats.snapshot({} as Parameters<typeof f.stats.snapshot>[0]).transitions).toEqual({
      joined: { hello: 2 },
      suspect: { heartbeat_missed: 2 },
      recovered: { heartbeat: 1 },
      left: { goodbye: 1 },
      timeout: { heartbeat_timeout: 1 },
    });
  });
});

describe("LivenessMonitor.judge (the fixed rule)", () => {
  it("timeout from heartbeatTimeout of silence, suspect from the owner's delay while online, else watch", () => {
    const registry = new NodeRegistry<{ intervalMs: number; suspectAfterMs: number; ownSlot: number; handles: Map<number, number> }>();
    const owner = { intervalMs: 1_000, suspectAfterMs: 1_500, ownSlot: -1, handles: new Map<number, number>() };
    const clock = new FakeClock();
    const monitor = new LivenessMonitor({
      registry,
      clock,
      events: { node: () => {} },
      stats: new ServerCounters(),
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      tickMs: 100,
      timeoutMs: 4_000,
      actions: { connectionTimedOut() {}, attachedTimedOut() {}, graceExpired() {} },
    });
    const slot = registry.add("n", {}, owner, 0, 0);
    expect(monitor.judge(slot, 1_499)).toBe("watch");
    expect(monitor.deadline(slot)).toBe(1_500);
    expect(monitor.judge(slot, 1_500)).toBe("suspect");
    expect(monitor.judge(slot, 4_000)).toBe("timeout");
    monitor.heard(slot, owner, 3_000, true);
    expect(monitor.judge(slot, 4_000)).toBe("watch");
    expect(monitor.deadline(slot)).toBe(4_500);
  });
});
