// Issue 10: flap damping. A node joins and leaves 20 times in 10 s (its own
// process, real TCP); a presence watcher gets the documented damped sequence
// (PROTOCOL.md §7.6) ending in one flap_ended event, the suppressed
// transitions are counted; an undamped watcher sees all 40.
import { PresenceKind } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { RawPeer, waitFor } from "../raw-peer.js";
import { NodesProcess, ServerProcess } from "./processes.js";

let server: ServerProcess | undefined;
let node: NodesProcess | undefined;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await node?.kill();
  await server?.close();
  server = undefined;
  node = undefined;
});

async function watcher(port: number, nodeId: string, undamped: boolean): Promise<{ peer: RawPeer; seen: string[] }> {
  const peer = await RawPeer.connect(port);
  peers.push(peer);
  await peer.hello({ nodeId });
  const seen: string[] = [];
  peer.onFrame = (f) => {
    if (f.body.case === "presence" && f.body.value.nodeId === "flappy") seen.push(`${PresenceKind[f.body.value.kind]} ${f.body.value.reason}`);
  };
  peer.send("subscribe", { requestId: 1, subject: "$hb.presence", undamped });
  await peer.next("subscribed");
  const beat = setInterval(() => peer.heartbeat(), 300);
  peer.socket.once("close", () => clearInterval(beat));
  return { peer, seen };
}

describe("flap damping (separate processes, real TCP)", () => {
  it("20 joins and leaves in 10 s: the damped watcher sees JOINED/LEFT until damped, SUSPECT flapping, then one LEFT flap_ended", { timeout: 120_000 }, async () => {
    // Penalty +1 per transition, half-life 10 s, damped at 4, reuse below 2, at most 15 s damped.
    server = await ServerProcess.start({
      workerCount: 1,
      heartbeatInterval: 1_000,
      heartbeatTimeout: 5_000,
      heartbeatCheckInterval: 100,
      flapSuppressThreshold: 4,
      flapReuseThreshold: 2,
      flapHalfLife: 10_000,
      flapMaxDamping: 15_000,
    });
    const s = server;
    const damped = await watcher(s.port, "watch-damped", false);
    const undamped = await watcher(s.port, "watch-undamped", true);
    node = await NodesProcess.start({ port: s.port, count: 1, prefix: "flappy", interval: 1_000, mode: "flap", flaps: 20, flapMs: 500 });
    const n = node;
    await waitFor(() => n.flapped && undamped.seen.length === 40, 60_000, "20 joins and leaves");
    expect(undamped.seen).toEqual(Array.from({ length: 20 }, () => ["JOINED hello", "LEFT goodbye"]).flat());
    // The penalty reaches 4 on the third LEFT (it decays a little between transitions): damping starts there.
    expect(damped.seen).toEqual(["JOINED hello", "LEFT goodbye", "JOINED hello", "LEFT goodbye", "JOINED hello", "SUSPECT flapping"]);
    const during = await s.stats();
    expect(during.flapping).toMatchObject({ damped: 1, dampings: 1, suppressed: 35 });
    // Damping ends (penalty decayed below 2, or 15 s passed): one event brings the view to the node's state.
    await waitFor(() => damped.seen.length === 7, 30_000, "damping to end");
    expect(damped.seen.at(-1)).toBe("LEFT flap_ended");
    const after = await s.until((st) => st.flapping.damped === 0, "damping to end in stats");
    expect(after.flapping.dampings).toBe(1);
    // The server's own events were never damped.
    expect(s.events.filter((e) => e.nodeId === "flappy")).toHaveLength(40);
  });
});
