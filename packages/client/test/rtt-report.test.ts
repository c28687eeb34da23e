// Heartbeat.last_rtt_us (PROTOCOL.md §6.7, feature heartbeat-rtt), over real
// loopback sockets against the fake server.
import { afterEach, describe, expect, it } from "vitest";
import { HeartbeatClient } from "../src/index.js";
import { FakeServer } from "./fake-server.js";

const servers: FakeServer[] = [];
const clients: HeartbeatClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(features: string[], ackDelayMs = 0) {
  const s = await FakeServer.start({ heartbeatIntervalMs: 60, heartbeatTimeoutMs: 2000 });
  servers.push(s);
  s.features = features;
  s.ackDelayMs = ackDelayMs;
  const c = new HeartbeatClient({ host: "127.0.0.1", port: s.port, nodeId: "rtt-1", closeTimeout: 300 });
  clients.push(c);
  const info = await c.connect();
  return { s, c, info };
}

const beats = (s: FakeServer) => s.frames("heartbeat").map((r) => r.value);

describe("heartbeat RTT reports", () => {
  it("lists heartbeat-rtt in Hello and reports each measured round trip once, in the next Heartbeat", async () => {
    const { s, info } = await setup(["heartbeat-rtt"], 25);
    expect(s.frames("hello")[0]?.value.features).toContain("heartbeat-rtt");
    expect(info.features).toEqual(["heartbeat-rtt"]);
    await s.until(() => beats(s).filter((b) => b.lastRttUs > 0).length >= 4, 5000, "4 heartbeats with an RTT");
    const hb = beats(s);
    expect(hb[0]?.lastRttUs).toBe(0); // nothing measured before the first Heartbeat
    for (const b of hb.filter((x) => x.lastRttUs > 0)) {
      // The fake holds every ack 25 ms: the RTT is at least that, and loopback adds little.
      expect(b.lastRttUs).toBeGreaterThanOrEqual(25_000);
      expect(b.lastRttUs).toBeLessThan(1_000_000);
    }
  });

  it("reports 0 when no ack arrived since the previous Heartbeat (a measurement is never repeated)", async () => {
    const { s } = await setup(["heartbeat-rtt"]);
    await s.until(() => beats(s).some((b) => b.lastRttUs > 0), 5000, "a heartbeat with an RTT");
    s.ackHeartbeats = false;
    const from = beats(s).length;
    await s.until(() => beats(s).length >= from + 4, 5000, "4 more heartbeats");
    // The first one after the switch may still carry the last ack's RTT; after it, nothing is measured.
    expect(beats(s).slice(from + 1).map((b) => b.lastRttUs)).toEqual(Array(beats(s).length - from - 1).fill(0));
  });

  it("does not send last_rtt_us when the server did not grant heartbeat-rtt", async () => {
    const { s, info } = await setup([]);
    expect(info.features).toEqual([]);
    await s.until(() => beats(s).length >= 5, 5000, "5 heartbeats");
    expect(beats(s).every((b) => b.lastRttUs === 0)).toBe(true);
  });
});
