// Every node scenario against the Go and Python example nodes, built by
// `bash scripts/polyglot.sh build` (npm test does it first) from proto/ and
// docs/PROTOCOL.md alone: every scenario must pass, the feature scenarios
// (heartbeat-rtt, token-renewal, …) included. The TypeScript HeartbeatClient
// passes the same list in typescript-client.conformance.test.ts.
import { join } from "node:path";
import { nodeScenarios, runNodeConformance } from "@hb/conformance";
import { describe, expect, it } from "vitest";
import { ROOT, explain } from "./helpers.js";

const repo = (p: string) => join(ROOT, p);

const NODES = {
  "go-node": `"${repo("examples/go-node/bin/go-node")}" -addr $HB_ADDR -id go-conformance -token-file $HB_TOKEN_FILE`,
  "python-node": `"${repo("examples/python-node/python-node")}" -addr $HB_ADDR -id py-conformance -token-file $HB_TOKEN_FILE`,
};

describe.concurrent("node conformance of the example nodes", () => {
  for (const [name, command] of Object.entries(NODES)) {
    it(`${name} passes every node scenario`, async () => {
      const results = await runNodeConformance({ command, timeoutScale: 2, concurrency: 4 });
      expect(results.map((r) => r.name)).toEqual(nodeScenarios.map((s) => s.name));
      expect(results.filter((r) => r.status !== "pass"), explain(results)).toEqual([]);
    }, 120_000);
  }
});
