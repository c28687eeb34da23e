import { HeartbeatServer, type HeartbeatServerOptions } from "@hb/server";
import { runServerConformance, serverScenarios, serverSetupScenarios } from "@hb/conformance";
import { afterEach, describe, expect, it } from "vitest";
import { explain } from "./helpers.js";

// The reference server with short timings, so that the timeout scenarios run
// in about a second each: once in one process, once as worker processes
// (what the default workerCount gives on a machine with several CPUs), which
// must look like one server from the wire.
// Authentication by a workerModule hook (so that it is the same with 1 and
// 2 workers): the runner's renewable credential expires after 2 s with a
// grace of 500 ms (the renewal scenarios), its refused one is refused.
const TIMINGS = {
  host: "127.0.0.1",
  port: 0,
  heartbeatInterval: 200,
  heartbeatTimeout: 1000,
  heartbeatCheckInterval: 50,
  handshakeTimeout: 1000,
  // The grace scenarios (takeover of a session in its grace, resume with other labels) need one.
  resumeGrace: 3000,
  // Flap damping that starts on the 4th departure (the 7th transition) and ends within 3 s, so flap-damping
  // sees it through.
  flapSuppressThreshold: 6,
  flapHalfLife: 5000,
  flapMaxDamping: 3000,
  // The scenarios run 6 at a time and many of them leave nodes silent or in their grace on purpose: more than
  // half of a small fleet, which the mass-departure brake rightly holds (SUSPECT mass_silence) instead of timing
  // out. The brake has tests of its own (packages/server/test/liveness); here timeouts must be plain.
  massSilencePercent: 0,
  workerModule: new URL("./renewal-hooks.mjs", import.meta.url),
  auth: { tokenGrace: 500 },
} satisfies HeartbeatServerOptions;

// Each server is closed before the next starts: two multi-process servers of
// one primary listening on port 0 would share one port (node:cluster keys its
// shared handles by address and port), and the connections of one would reach
// the other's workers.
const servers: HeartbeatServer[] = [];
afterEach(() => Promise.all(servers.splice(0).map((s) => s.close())));

async function conformance(options: HeartbeatServerOptions): Promise<void> {
  const server = new HeartbeatServer({ ...TIMINGS, ...options });
  servers.push(server);
  const { port } = await server.listen();
  const results = await runServerConformance({ host: "127.0.0.1", port, handshakeTimeoutMs: 1000, concurrency: 6 });
  expect(results.map((r) => r.name)).toEqual(serverScenarios.map((s) => s.name));
  const notPassed = results.filter((r) => r.status !== "pass");
  expect(notPassed.map((r) => `${r.name}: ${r.status}`), explain(notPassed)).toEqual(["labels-round-trip: skip"]);
}

// The scenarios that need a server set up for them: a full one, and one that drains.
async function setupScenarios(workerCount: number): Promise<void> {
  // A long handshake timeout: the scenario holds its connections without a Hello while it looks for the limit
  // (300 ms per connection), and a connection timed out would free its slot before the limit is reached.
  const full = new HeartbeatServer({ ...TIMINGS, workerCount, maxConnections: 2 * workerCount, handshakeTimeout: 30_000 });
  servers.push(full);
  const fullPort = (await full.listen()).port;
  const draining = new HeartbeatServer({ ...TIMINGS, workerCount, closeTimeout: 3_000 });
  servers.push(draining);
  const drainPort = (await draining.listen()).port;
  const run = (port: number, only: string, drain?: () => Promise<void>) =>
    runServerConformance({ host: "127.0.0.1", port, handshakeTimeoutMs: 1000, scenarios: serverSetupScenarios, only, drain });
  const results = [
    ...(await run(fullPort, "server-full-retry-after")),
    // Drain: the close begins (GoAway goes out at once); it completes in the background.
    ...(await run(drainPort, "go-away-spread", async () => void draining.close())),
  ];
  const notPassed = results.filter((r) => r.status !== "pass");
  expect(notPassed.map((r) => `${r.name}: ${r.status}`), explain(notPassed)).toEqual([]);
  expect(results.map((r) => r.name)).toEqual(["server-full-retry-after", "go-away-spread"]);
}

describe("@hb/server conformance", () => {
  it("refuses with retry_after_ms when full, and spreads GoAway over the drain: one process", async () => {
    await setupScenarios(1);
  });

  it("refuses with retry_after_ms when full, and spreads GoAway over the drain: 2 worker processes", async () => {
    await setupScenarios(2);
  }, 60_000);

  it("passes every server scenario in one process (labels-round-trip is not observable and skipped)", async () => {
    await conformance({ workerCount: 1 });
  });

  it("passes every server scenario with 2 worker processes", async () => {
    await conformance({ workerCount: 2 });
  }, 60_000);
});
