import { HeartbeatServer, type HeartbeatServerOptions } from "@hb/server";
import { runServerConformance, serverScenarios } from "@hb/conformance";
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

describe("@hb/server conformance", () => {
  it("passes every server scenario in one process (labels-round-trip is not observable and skipped)", async () => {
    await conformance({ workerCount: 1 });
  });

  it("passes every server scenario with 2 worker processes", async () => {
    await conformance({ workerCount: 2 });
  }, 60_000);
});
