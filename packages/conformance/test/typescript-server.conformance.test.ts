import { HeartbeatServer } from "@hb/server";
import { runServerConformance, serverScenarios } from "@hb/conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explain } from "./helpers.js";

// The reference server with short timings, so that the timeout scenarios run
// in about a second each.
let server: HeartbeatServer;
let port: number;
beforeAll(async () => {
  server = new HeartbeatServer({
    host: "127.0.0.1",
    port: 0,
    heartbeatInterval: 200,
    heartbeatTimeout: 1000,
    heartbeatCheckInterval: 50,
    handshakeTimeout: 1000,
  });
  ({ port } = await server.listen());
});
afterAll(() => server.close());

describe("@hb/server conformance", () => {
  it("passes every server scenario (labels-round-trip is not observable and skipped)", async () => {
    const results = await runServerConformance({ host: "127.0.0.1", port, handshakeTimeoutMs: 1000, concurrency: 6 });
    expect(results.map((r) => r.name)).toEqual(serverScenarios.map((s) => s.name));
    const notPassed = results.filter((r) => r.status !== "pass");
    expect(notPassed.map((r) => `${r.name}: ${r.status}`), explain(notPassed)).toEqual(["labels-round-trip: skip"]);
  });
});
