import { describe, expect, it } from "vitest";
import { HbMetrics, METRIC_NAMES } from "../src/index.js";

describe("HbMetrics", () => {
  it("exports the seed's metric names with the values it was given", async () => {
    const m = new HbMetrics({ defaultLabels: { server: "t1" } });
    m.update({ nodes: 12, online: 10, channels: 3 });
    m.countMessages("publish", 5);
    m.observeLatency(0.002);
    const text = await m.text();
    expect(text).toContain(`${METRIC_NAMES.nodesTotal}{server="t1"} 12`);
    expect(text).toContain(`${METRIC_NAMES.nodesOnline}{server="t1"} 10`);
    expect(text).toContain(`${METRIC_NAMES.channelsTotal}{server="t1"} 3`);
    expect(text).toContain(`${METRIC_NAMES.messagesTotal}{kind="publish",server="t1"} 5`);
    expect(text).toContain(`${METRIC_NAMES.latencySeconds}_bucket{le="0.0025",server="t1"} 1`);
    expect(m.contentType).toMatch(/text\/plain/);
  });

  it("keeps separate instances in separate registries", async () => {
    const a = new HbMetrics();
    const b = new HbMetrics();
    a.update({ nodes: 1, online: 1 });
    expect(await b.text()).toContain(`${METRIC_NAMES.nodesTotal} 0`);
  });
});
