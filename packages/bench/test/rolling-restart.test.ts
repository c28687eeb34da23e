// Issue 13: a server restarted under 10,000 real HeartbeatClients (in 4
// processes) gets every one of them back, spread over the drain rather than
// in one burst. The restart is a rolling one on one host: the new server
// binds the same port beside the old one (`reusePort: true`), then the old
// one closes: its GoAway tells each client when to leave
// (`reconnect_delay_ms`, uniform over the drain less its margin), and each
// reconnects at that moment, to the new server. Heavy: run it under the
// team's lock (`flock /tmp/hb-heavy.lock pnpm exec vitest run packages/bench/test/rolling-restart.test.ts`).
//
// The bounds asserted, for N clients and a drain of D ms (spread window
// W = D − margin, the margin 10 % of D, at least min(1 s, D / 2)):
// - all N back on the new server, each a fresh session there;
// - the peak accept rate of the new server (per report interval, the
//   workers report every second) at most 2 × N / W per second: uniform
//   arrivals give N / W; without the spread all N arrive within about a
//   second;
// - the reconnects spread: half of them back no earlier than W / 4 after
//   the close began, the last ones no earlier than W / 2.
import { HeartbeatServer } from "@hb/server";
import { afterAll, expect, it } from "vitest";
import { type ClientProcess, startClients, waitFor } from "./load.js";

const CLIENTS = 10_000;
const PROCESSES = 4;
const DRAIN_MS = 6_000;
const SPREAD_MS = DRAIN_MS - Math.max(DRAIN_MS / 10, Math.min(1_000, DRAIN_MS / 2));
const clients: ClientProcess[] = [];
const servers: HeartbeatServer[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.close()));
});

// What the workers of `server` reported: accepted connections in all, and the rate between the last two reports.
function accepts(server: HeartbeatServer, last: Map<string, { at: number; accepted: number }>): { total: number; rate: number } {
  let total = 0;
  let rate = 0;
  for (const w of server.stats().workers ?? []) {
    const accepted = w.stats?.accepted ?? 0;
    total += accepted;
    const before = last.get(w.memberId);
    if (before !== undefined && w.reportedAt > before.at) rate += ((accepted - before.accepted) * 1000) / (w.reportedAt - before.at);
    if (before === undefined || w.reportedAt > before.at) last.set(w.memberId, { at: w.reportedAt, accepted });
  }
  return { total, rate };
}

it(`a rolling restart under ${CLIENTS} HeartbeatClients: all back, spread over the drain`, async () => {
  const old = new HeartbeatServer({ workerCount: 2, host: "127.0.0.1", reusePort: true, closeTimeout: DRAIN_MS });
  servers.push(old);
  const { port } = await old.listen();
  for (let p = 0; p < PROCESSES; p++) {
    clients.push(await startClients({ port, count: CLIENTS / PROCESSES, interval: 5_000, prefix: `c${p}`, deadlineMs: 280_000 }));
  }
  const ready = () => clients.reduce((n, c) => n + (c.counters.ready ?? 0), 0);
  const welcomes = () => clients.reduce((n, c) => n + (c.counters.readyTotal ?? 0), 0);
  await waitFor(() => ready() === CLIENTS, 120_000, `${CLIENTS} clients connected`);
  await waitFor(() => old.count() === CLIENTS, 30_000, `${CLIENTS} nodes on the old server`);

  // The new version binds the same port beside the old one; then the old one drains.
  const next = new HeartbeatServer({ workerCount: 2, host: "127.0.0.1", port, reusePort: true });
  servers.push(next);
  await next.listen();
  const t0 = performance.now();
  const closing = old.close();
  const last = new Map<string, { at: number; accepted: number }>();
  let peak = 0;
  const backAt: number[] = []; // ms after the close began, per 10 % of the clients back
  await waitFor(
    () => {
      const { total, rate } = accepts(next, last);
      peak = Math.max(peak, rate);
      while (backAt.length < 10 && total >= ((backAt.length + 1) * CLIENTS) / 10) backAt.push(performance.now() - t0);
      return next.count() === CLIENTS && total >= CLIENTS;
    },
    120_000,
    `${CLIENTS} clients back on the new server`,
  );
  await closing;
  await waitFor(() => ready() === CLIENTS && welcomes() >= 2 * CLIENTS, 30_000, "every client connected again");
  // The workers report their connection counts every second: wait for the report that has them all.
  await waitFor(() => next.stats().connections === CLIENTS, 10_000, "the workers' reports");
  const stats = next.stats();
  console.log(
    `${CLIENTS} back; 10 %…100 % at ${backAt.map((t) => (t / 1000).toFixed(1)).join(", ")} s after the close began ` +
      `(spread window ${SPREAD_MS} ms); peak ${peak.toFixed(0)} accepts/s (bound ${((2 * CLIENTS * 1000) / SPREAD_MS).toFixed(0)}); ` +
      `paced ${stats.acceptPaced}`,
  );
  expect(next.count()).toBe(CLIENTS);
  expect(stats.connections).toBe(CLIENTS);
  expect(stats.errors).toEqual({});
  expect(stats.resumed).toBe(0);
  expect(peak).toBeGreaterThan(0);
  expect(peak).toBeLessThanOrEqual((2 * CLIENTS * 1000) / SPREAD_MS);
  expect(backAt[4]).toBeGreaterThanOrEqual(SPREAD_MS / 4);
  expect(backAt[9]).toBeGreaterThanOrEqual(SPREAD_MS / 2);
}, 300_000);
