// Issue 13: a burst of 30,000 raw nodes against a multi-process server
// (workerCount 2): every one registered, none reset or refused. Before the
// accept-path fix (node:cluster round-robin) 12-30 % of such a burst were
// reset without a trace (docs/PERFORMANCE.md). Heavy: run it under the
// team's lock (`flock /tmp/hb-heavy.lock pnpm exec vitest run packages/bench/test/burst.test.ts`).
import { HeartbeatServer } from "@hb/server";
import { afterAll, expect, it } from "vitest";
import { type Fleet, startFleet, waitFor } from "./load.js";

const NODES = 30_000;
// 4 load processes of 7,500 nodes (each within the 20,000-file limit), 1,000 nodes per source address.
const PROCESSES = 4;
let fleet: Fleet | undefined;
let server: HeartbeatServer | undefined;
afterAll(async () => {
  await fleet?.stop();
  await server?.close();
});

it(`${NODES} raw nodes connecting at once to a 2-worker server: all registered, none reset or refused`, async () => {
  server = new HeartbeatServer({ workerCount: 2, host: "127.0.0.1", closeTimeout: 1_000 });
  const { port } = await server.listen();
  const t0 = performance.now();
  // No reconnects: a connection lost or refused shows in the counters, it is not hidden by a retry.
  fleet = await startFleet({ protocol: "hb", port, nodes: NODES, processes: PROCESSES, interval: 10_000, concurrency: 2_000, reconnect: null, deadlineMs: 170_000 });
  const f = fleet;
  const s = server;
  const lostOrRefused = () => {
    const t = f.totals();
    return Object.keys(t.errors).length + Object.keys(t.refused).length;
  };
  // Every node welcomed (or one lost: then the assertions below say which).
  await waitFor(() => f.totals().readyTotal === NODES || lostOrRefused() > 0, 150_000, `${NODES} Welcomes`);
  const welcomedMs = performance.now() - t0;
  // The primary's directory has them all (the workers report their counters every second).
  await waitFor(() => s.count() === NODES || lostOrRefused() > 0, 60_000, `${NODES} nodes in the primary's directory`);
  await waitFor(() => s.stats().connections === NODES || lostOrRefused() > 0, 30_000, "the workers' reports");
  const totals = f.totals();
  const stats = s.stats();
  console.log(
    `${NODES} nodes welcomed in ${welcomedMs.toFixed(0)} ms; per worker ${stats.workers?.map((w) => w.stats?.connections).join(" / ")}; ` +
      `paced ${stats.acceptPaced}, accept errors ${stats.acceptErrors}`,
  );
  expect(totals.errors, "connections lost (phase:code → count)").toEqual({});
  expect(totals.refused, "refusals (code → count)").toEqual({});
  expect(totals.readyTotal).toBe(NODES);
  expect(totals.attempts).toBe(NODES);
  expect(s.count()).toBe(NODES);
  expect(stats.connections).toBe(NODES);
  expect(stats.errors).toEqual({});
  expect(stats.acceptErrors).toBe(0);
  expect(stats.socketErrors).toBe(0);
  // Both workers took connections (the kernel spreads them over the SO_REUSEPORT sockets).
  for (const w of stats.workers ?? []) expect(w.stats?.connections ?? 0).toBeGreaterThan(NODES / 4);
}, 240_000);
