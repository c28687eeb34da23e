import { ErrorCode } from "@hb/codec";
import { afterAll, expect, it } from "vitest";
import { FAST, start } from "./helpers.js";
import { RawPeer, sleep, waitFor } from "./raw-peer.js";

const N = 2_000;
const SILENT = 1_000;
const peers: RawPeer[] = [];
afterAll(() => {
  for (const p of peers) p.destroy();
});

it(`${N} concurrent connections: ${SILENT} go silent and time out, the rest stay online`, async () => {
  const { server, port } = await start({ host: "0.0.0.0" });
  try {
    const timeouts = new Map<string, number>();
    let helloMs = 0;
    let suspects = 0;
    server.on("nodeTimeout", (e) => timeouts.set(e.nodeId, performance.now()));
    server.on("nodeSuspect", () => suspects++);

    // Connect in waves, spreading source addresses over 127.0.0.1-8.
    for (let wave = 0; wave < N / 250; wave++) {
      const batch = await Promise.all(
        Array.from({ length: 250 }, (_, i) =>
          RawPeer.connect(port, { localAddress: `127.0.0.${1 + ((wave * 250 + i) % 8)}`, keep: false }),
        ),
      );
      peers.push(...batch);
    }
    const lastSent = new Float64Array(N);
    const welcomed = new Uint8Array(N);
    let silent = false;
    const beat = () => {
      const now = performance.now();
      for (let i = 0; i < N; i++) {
        if (!welcomed[i] || (silent && i < SILENT)) continue;
        peers[i]?.heartbeat();
        lastSent[i] = now;
      }
    };
    // Heartbeat every peer from its Welcome on.
    const timer = setInterval(beat, 100);
    try {
      const t0 = performance.now();
      await Promise.all(
        peers.map(async (p, i) => {
          await p.hello({ nodeId: `node-${i}` });
          welcomed[i] = 1;
        }),
      );
      helloMs = performance.now() - t0;
      expect(server.count()).toBe(N);
      expect(server.stats().connections).toBe(N);
      // All heartbeating: all online (give a loaded machine a moment), nobody timed out.
      await waitFor(() => server.count({ state: "online" }) === N, 5_000, "all online");
      await sleep(300);
      expect(timeouts.size).toBe(0);
      silent = true; // the first SILENT peers stop heartbeating, sockets left open
      await waitFor(() => timeouts.size >= SILENT, 10_000, `${SILENT} timeouts`);
      await sleep(300);
      await waitFor(() => server.count({ state: "online" }) === N - SILENT, 5_000, "the rest online");
    } finally {
      clearInterval(timer);
    }

    expect(timeouts.size).toBe(SILENT);
    let worst = 0;
    for (let i = 0; i < SILENT; i++) {
      const at = timeouts.get(`node-${i}`);
      expect(at, `node-${i} timed out`).toBeDefined();
      const delay = (at as number) - (lastSent[i] as number);
      expect(delay).toBeGreaterThanOrEqual(FAST.heartbeatTimeout);
      worst = Math.max(worst, delay - FAST.heartbeatTimeout);
    }
    // Detection error: one check interval plus scheduling slack (client and
    // server share one event loop here; the in-process bench measures it alone).
    expect(worst).toBeLessThanOrEqual(FAST.heartbeatCheckInterval + 500);
    expect(server.count()).toBe(N - SILENT);
    for (let i = SILENT; i < N; i++) expect(server.get(`node-${i}`), `node-${i}`).toBeDefined();
    await waitFor(() => peers.slice(0, SILENT).every((p) => p.isClosed), 5_000, "silent peers closed");
    const err = peers[0]?.received.find((f) => f.body.case === "error")?.body.value;
    expect(err).toMatchObject({ code: ErrorCode.HEARTBEAT_TIMEOUT, fatal: true });
    expect(server.stats().errors.HEARTBEAT_TIMEOUT).toBe(SILENT);
    console.log(`${N} hellos in ${helloMs.toFixed(0)} ms; worst detection error ${worst.toFixed(0)} ms (tick ${FAST.heartbeatCheckInterval} ms), suspect events ${suspects}`);
  } finally {
    await server.close();
  }
}, 40_000);
