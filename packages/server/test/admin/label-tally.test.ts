import { describe, expect, it } from "vitest";
import { LabelTally } from "../../src/admin/label-tally.js";
import { latencyQuantile } from "../../src/admin/latency-quantile.js";
import { emptyRtt } from "../../src/telemetry/rtt-histogram.js";

const n = (nodeId: string, labels: Record<string, string>) => ({ nodeId, labels });

describe("LabelTally", () => {
  it("follows joins, suspicion, recovery and departures per label value", () => {
    const t = new LabelTally();
    t.apply("joined", n("a", { region: "eu" }));
    t.apply("joined", n("b", { region: "eu" }));
    t.apply("joined", n("c", { region: "us", role: "db" }));
    t.apply("suspect", n("a", { region: "eu" }));
    t.apply("suspect", n("a", { region: "eu" })); // twice: counted once
    expect(t.view()).toEqual([
      { key: "region", truncated: false, values: [{ value: "eu", total: 2, suspect: 1 }, { value: "us", total: 1, suspect: 0 }] },
      { key: "role", truncated: false, values: [{ value: "db", total: 1, suspect: 0 }] },
    ]);
    t.apply("timeout", n("a", { region: "eu" }));
    t.apply("recovered", n("b", { region: "eu" })); // was not suspect: nothing moves
    t.apply("left", n("c", { region: "us", role: "db" }));
    expect(t.view()).toEqual([{ key: "region", truncated: false, values: [{ value: "eu", total: 1, suspect: 0 }] }]);
  });

  it("stops tracking new values of a key at its cap, and never miscounts the others", () => {
    const t = new LabelTally(8, 2);
    t.apply("joined", n("a", { host: "h1" }));
    t.apply("joined", n("b", { host: "h2" }));
    t.apply("joined", n("c", { host: "h3" })); // over the cap: not tracked
    t.apply("left", n("b", { host: "h2" }));
    t.apply("joined", n("d", { host: "h3" })); // still not tracked: c is not counted there either
    t.apply("left", n("c", { host: "h3" }));
    expect(t.view()).toEqual([{ key: "host", truncated: true, values: [{ value: "h1", total: 1, suspect: 0 }] }]);
  });
});

describe("latencyQuantile", () => {
  it("interpolates inside the bucket, as histogram_quantile does, over the window between two snapshots", () => {
    const before = emptyRtt();
    const after = { ...emptyRtt(), counts: [...before.counts] };
    after.counts[1] = 10; // 10 in (0.0005, 0.001]
    expect(latencyQuantile(before, after, 0.5)).toBeCloseTo(0.00075, 9);
    expect(latencyQuantile(after, after, 0.5)).toBeUndefined();
    after.counts[after.bounds.length] = 100; // above every bound
    expect(latencyQuantile(before, after, 0.99)).toBe(5);
  });
});
