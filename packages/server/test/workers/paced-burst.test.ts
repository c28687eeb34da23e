// A burst of real nodes against worker processes queues; it is not refused (issue 13). In a worker the
// admission of a connection waits for the primary's count (a connection lease); accept pacing must count
// those admissions as handshakes, or a burst read in one turn is admitted whole before the first answer
// comes back and the pending-Hello bound closes real nodes (bench:scale at 100,000: SERVER_FULL in the ramps).
import { afterEach, expect, it } from "vitest";
import { HeartbeatServer } from "../../src/index.js";
import { RawPeer } from "../raw-peer.js";

const peers: RawPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.socket.destroy();
});

it("with 2 workers, one handshake slot and one pending Hello each, 80 nodes connecting at once are all welcomed, none refused", async () => {
  const server = new HeartbeatServer({
    workerCount: 2,
    host: "127.0.0.1",
    port: 0,
    maxHandshakes: 2,
    maxPendingHellos: 2,
    closeTimeout: 500,
  });
  try {
    const { port } = await server.listen();
    const N = 80;
    // Every socket connects and writes its Hello at once; the workers read them one handshake at a time.
    const connected = await Promise.all(
      Array.from({ length: N }, (_, i) => RawPeer.connect(port, { localAddress: `127.0.0.${2 + (i % 8)}`, keep: false })),
    );
    peers.push(...connected);
    const welcomes = await Promise.allSettled(connected.map((p, i) => p.hello({ nodeId: `burst-${i}` }, 30_000)));
    const refused = welcomes.flatMap((w) => (w.status === "rejected" ? [(w.reason as Error).message] : []));
    expect(refused).toEqual([]);
    // The workers' counters reach the primary with their next report.
    const deadline = Date.now() + 10_000;
    while (server.stats().online < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const stats = server.stats();
    expect(stats.online).toBe(N);
    expect(stats.helloEvictions).toBe(0);
    expect(stats.errors.SERVER_FULL ?? 0).toBe(0);
    // They queued: most waited for a slot (paced), none was refused for it.
    expect(stats.acceptPaced).toBeGreaterThan(0);
  } finally {
    await server.close();
  }
}, 60_000);
