import { describe, expect, it } from "vitest";
import { HbMetrics, type HbServerSnapshot, METRIC_NAMES } from "../src/index.js";

function snapshot(over: Partial<HbServerSnapshot> = {}): HbServerSnapshot {
  return {
    serverId: "s1",
    version: "0.1.0",
    nodes: 12,
    online: 10,
    suspect: 2,
    connections: 5,
    sessions: 5,
    subscriptions: 3,
    channels: 2,
    queuedBytes: 0,
    heartbeats: 1000,
    framesIn: 1100,
    framesOut: 1050,
    bytesIn: 9000,
    bytesOut: 8000,
    socketErrors: 1,
    listenerErrors: 0,
    awaitingHello: 0,
    helloEvictions: 0,
    resumeMisses: 0,
    routed: { publish: 4, send: 2, broadcast: 0, reply: 1, presence: 7 },
    errors: { RATE_LIMITED: 3 },
    forbidden: { publish: 2, send: 0 },
    renewals: { accepted: 4, refused: 1, expired: 0 },
    dropped: { no_subscribers: 2 },
    transitions: { joined: { hello: 12 }, timeout: { heartbeat_timeout: 3 } },
    rtt: { bounds: [0.001, 0.01], counts: [2, 1, 1], sum: 5.004, count: 4 },
    processes: [{ name: "main", loopLagP99: 0.002, loopLagMax: 0.004, rss: 1e8, cpu: 0.1 }],
    workersConfigured: 2,
    workers: [
      { name: "w1", connections: 3, nodes: 7, reportAge: 0.5 },
      { name: "w2", connections: 2, nodes: 5, reportAge: 0.2 },
    ],
    bus: { kind: "redis", up: true, remoteNodes: 40, members: 1, events: { outages: 0, members_lost: 1 } },
    ...over,
  };
}

describe("HbMetrics fed by hand", () => {
  it("exports the seed's metric names with the values it was given", async () => {
    const m = new HbMetrics({ defaultLabels: { server: "t1" } });
    m.update({ nodes: 12, online: 10, channels: 3 });
    m.countMessages("send", 5);
    m.observeLatency(0.002);
    const text = await m.text();
    expect(text).toContain(`${METRIC_NAMES.nodesTotal}{server="t1"} 12`);
    expect(text).toContain(`${METRIC_NAMES.nodesOnline}{server="t1"} 10`);
    expect(text).toContain(`${METRIC_NAMES.channelsTotal}{server="t1"} 3`);
    expect(text).toContain(`${METRIC_NAMES.messagesTotal}{kind="send",server="t1"} 5`);
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

describe("HbMetrics fed by a source", () => {
  it("exports every name of METRIC_NAMES, read from one snapshot per scrape", async () => {
    let reads = 0;
    const m = new HbMetrics({
      source: () => {
        reads++;
        return snapshot();
      },
    });
    const text = await m.text();
    expect(reads).toBe(1);
    for (const name of Object.values(METRIC_NAMES)) expect(text, name).toMatch(new RegExp(`^${name}(_bucket|_sum|_count)?[{ ]`, "m"));
    expect(text).toContain(`${METRIC_NAMES.nodesOnline} 10`);
    expect(text).toContain(`${METRIC_NAMES.messagesTotal}{kind="send"} 2`);
    expect(text).toContain(`${METRIC_NAMES.presenceTransitionsTotal}{transition="timeout",reason="heartbeat_timeout"} 3`);
    expect(text).toContain(`${METRIC_NAMES.errorsTotal}{code="RATE_LIMITED"} 3`);
    expect(text).toContain(`${METRIC_NAMES.forbiddenTotal}{kind="publish"} 2`);
    expect(text).toContain(`${METRIC_NAMES.renewalsTotal}{result="accepted"} 4`);
    expect(text).toContain(`${METRIC_NAMES.workerNodes}{worker="w2"} 5`);
    expect(text).toContain(`${METRIC_NAMES.busUp}{kind="redis"} 1`);
    expect(text).toContain(`${METRIC_NAMES.busEventsTotal}{event="members_lost"} 1`);
    expect(text).toContain(`${METRIC_NAMES.serverInfo}{version="0.1.0",server_id="s1"} 1`);
  });

  it("exposes the latency snapshot as a cumulative Prometheus histogram", async () => {
    const text = await new HbMetrics({ source: () => snapshot() }).text();
    const n = METRIC_NAMES.latencySeconds;
    expect(text).toContain(`# TYPE ${n} histogram`);
    expect(text).toContain(`${n}_bucket{le="0.001"} 2\n${n}_bucket{le="0.01"} 3\n${n}_bucket{le="+Inf"} 4\n${n}_sum 5.004\n${n}_count 4`);
  });

  it("follows the source between scrapes: counters move, vanished series disappear", async () => {
    let s = snapshot();
    const m = new HbMetrics({ source: () => s });
    await m.text();
    s = snapshot({ heartbeats: 1500, workers: [{ name: "w3", connections: 0, nodes: 0, reportAge: 0 }], bus: undefined });
    const text = await m.text();
    expect(text).toContain(`${METRIC_NAMES.heartbeatsTotal} 1500`);
    expect(text).toContain(`${METRIC_NAMES.workerNodes}{worker="w3"} 0`);
    expect(text).not.toContain(`worker="w1"`);
    expect(text).not.toContain(`${METRIC_NAMES.busUp}{`);
  });

  it("adds prom-client's process metrics on request, and refuses manual feeding", async () => {
    const m = new HbMetrics({ source: () => snapshot(), processMetrics: true });
    expect(await m.text()).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(() => m.update({ nodes: 1, online: 1 })).toThrow(TypeError);
    expect(() => m.observeLatency(0.1)).toThrow(/fed by their source/);
  });
});
