import { nodeScenarios, runNodeConformance } from "@hb/conformance";
import { describe, expect, it } from "vitest";
import { ROOT, explain, tsNode } from "./helpers.js";

describe("@hb/client conformance", () => {
  it("a HeartbeatClient node (test/ts-client-node.ts) passes every node scenario", async () => {
    const results = await runNodeConformance({
      command: tsNode("ts-client-node.ts"),
      cwd: ROOT,
      timeoutScale: 2,
      concurrency: 5,
    });
    expect(results.map((r) => r.name)).toEqual(nodeScenarios.map((s) => s.name));
    expect(results.filter((r) => r.status !== "pass"), explain(results)).toEqual([]);
  });
});
