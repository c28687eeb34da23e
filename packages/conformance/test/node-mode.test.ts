import { nodeScenarios, runNodeConformance } from "@hb/conformance";
import { describe, expect, it } from "vitest";
import { ROOT, byName, explain, tsNode } from "./helpers.js";

// Loaded machines delay timers; scale 2 widens every tolerance (not the advertised 200 ms / 1 s).
const common = { cwd: ROOT, timeoutScale: 2, concurrency: 5 };

// The runs are independent (each scenario has its own port and node process): run them at once.
describe.concurrent("node mode", () => {
  it("passes every scenario against a well-behaved scripted node", async () => {
    const results = await runNodeConformance({ command: tsNode("good-node.ts"), ...common });
    expect(results.map((r) => r.name)).toEqual(nodeScenarios.map((s) => s.name));
    expect(results.filter((r) => r.status !== "pass"), explain(results)).toEqual([]);
  });

  it("fails heartbeat-interval for a node that never heartbeats, and still passes hello-first", async () => {
    const results = await runNodeConformance({
      command: tsNode("good-node.ts", "--no-heartbeats"),
      only: /^(hello-first|heartbeat-interval)$/,
      ...common,
    });
    const r = byName(results);
    expect(r["hello-first"]?.status, explain(results)).toBe("pass");
    expect(r["heartbeat-interval"]?.status, explain(results)).toBe("fail");
    expect(r["heartbeat-interval"]?.message).toMatch(
      /expected 8 Heartbeat\(s\) within \d+ ms of Welcome \(advertised heartbeat_interval_ms 200\), got 0 before the node closed the connection \d+ ms after Welcome/,
    );
  });

  it("fails reconnect-resume for a node that forgets its resume token", async () => {
    const [result] = await runNodeConformance({ command: tsNode("good-node.ts", "--no-resume"), only: /^reconnect-resume$/, ...common });
    expect(result?.status).toBe("fail");
    expect(result?.message).toMatch(
      /^the Hello of a reconnect after the server dropped connection #1 carries no resume token; expected the token of the last Welcome, ([0-9a-f]{2} ){15}[0-9a-f]{2}$/,
    );
  });

  it("fails go-away-reconnect-delay for a node that leaves at once on GoAway, and still passes go-away", async () => {
    const results = await runNodeConformance({
      command: tsNode("good-node.ts", "--ignore-reconnect-delay"),
      only: /^go-away/,
      ...common,
    });
    const r = byName(results);
    expect(r["go-away"]?.status, explain(results)).toBe("pass");
    expect(r["go-away-reconnect-delay"]?.status, explain(results)).toBe("fail");
    expect(r["go-away-reconnect-delay"]?.message).toMatch(
      /^the node closed the connection \d+ ms after GoAway, before its reconnect_delay_ms of 1200 ms; it should keep the connection until then$/,
    );
  });

  it("skips the feature scenarios for a node that lists no feature, and still passes heartbeat-interval", async () => {
    const results = await runNodeConformance({
      command: tsNode("good-node.ts", "--no-features"),
      only: /^(heartbeat-interval|heartbeat-rtt|token-renewal|token-expired-reconnect)$/,
      ...common,
    });
    const r = byName(results);
    expect(r["heartbeat-interval"]?.status, explain(results)).toBe("pass");
    for (const name of ["heartbeat-rtt", "token-renewal", "token-expired-reconnect"]) {
      expect(r[name]?.status, explain(results)).toBe("skip");
      expect(r[name]?.message).toMatch(/^the node does not list feature "(heartbeat-rtt|token-renewal)" in Hello\.features \(listed: \[\]\)$/);
    }
  });

  it("fails sigterm-goodbye for a node that exits without Goodbye, or skips it with allowMissingGoodbye", async () => {
    const command = tsNode("good-node.ts", "--no-goodbye");
    const [failed] = await runNodeConformance({ command, only: /^sigterm-goodbye$/, ...common });
    expect(failed?.status).toBe("fail");
    expect(failed?.message).toMatch(/^after SIGTERM the node closed the connection without Goodbye .*--allow-missing-goodbye to accept this$/);
    const [skipped] = await runNodeConformance({ command, only: /^sigterm-goodbye$/, allowMissingGoodbye: true, ...common });
    expect(skipped?.status).toBe("skip");
    expect(skipped?.message).toMatch(/without Goodbye.*allowed by --allow-missing-goodbye$/);
  });

  it("reports a node that exits before connecting, with its exit code and output", async () => {
    const [result] = await runNodeConformance({
      command: `"${process.execPath}" -e "console.error('cannot reach HB_ADDR=' + process.env.HB_ADDR); process.exit(3)"`,
      only: /^hello-first$/,
      ...common,
    });
    expect(result?.status).toBe("fail");
    expect(result?.message).toMatch(
      /^expected a connection from the node within \d+ ms, but none came; the node exited with code 3 \(output: cannot reach HB_ADDR=127\.0\.0\.1:\d+\)$/,
    );
  });
});
