// PROTOCOL.md §5.7 + §6.3: an observer's silent timeout counts listening time
// like a node's (the server's stalls are not silence), and says nothing to
// presence. The server core with in-memory sessions and a fake clock.
import { ErrorCode, Role, makeFrame } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { FakeCore, type FakePeer, settle } from "./fake-core.js";

const BASE = { heartbeatInterval: 500, minHeartbeatInterval: 100, heartbeatTimeout: 2_000, heartbeatCheckInterval: 100, massSilencePercent: 0 };

const timedOut = (p: FakePeer): boolean =>
  p.frames.some((f) => f.body.case === "error" && f.body.value.code === ErrorCode.HEARTBEAT_TIMEOUT && f.body.value.fatal);

describe("observer liveness (fake clock)", () => {
  it("an observer is timed out after heartbeat_timeout of listening time, late by a stall, never early, silently", async () => {
    const f = new FakeCore(BASE);
    const o = f.hello("obs", { role: Role.OBSERVER });
    const n = f.hello("node"); // a node silent as long, for comparison
    await settle();
    expect(o.frames[0]?.body.case).toBe("welcome");
    expect(f.core.registrations.observers).toBe(1);
    for (let t = 100; t <= 500; t += 100) f.timer(t);
    f.timer(3_600); // a 3 000 ms stall: 600 ms of listening
    await settle();
    expect(timedOut(o)).toBe(false);
    for (let t = 3_700; t <= 4_900; t += 100) f.timer(t);
    await settle();
    expect(timedOut(o)).toBe(false); // 1 900 ms of listening
    f.timer(5_000);
    await settle();
    expect(timedOut(o)).toBe(true);
    expect(f.core.registrations.observers).toBe(0);
    // The node times out at the same moment, in presence; the observer never appears there.
    expect(f.eventsOf("node")).toEqual(["nodeJoined hello", "nodeSuspect heartbeat_missed", "nodeTimeout heartbeat_timeout"]);
    expect(f.eventsOf("obs")).toEqual([]);
    expect(n.frames.some((fr) => fr.body.case === "error")).toBe(true);
  });

  it("any frame from an observer is proof of life", async () => {
    const f = new FakeCore(BASE);
    const o = f.hello("obs", { role: Role.OBSERVER });
    await settle();
    for (let t = 100; t <= 6_000; t += 100) {
      if (t % 1_000 === 0) {
        f.clock.t = t;
        o.send(makeFrame("subscribe", { subject: `s.${t}`, requestId: t }));
      }
      f.timer(t);
    }
    await settle();
    expect(timedOut(o)).toBe(false);
    expect(f.core.registrations.observers).toBe(1);
  });
});
