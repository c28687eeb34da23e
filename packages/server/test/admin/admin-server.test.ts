// The admin endpoint over real HTTP against a real server with real nodes on loopback.
import { HeartbeatClient } from "@hb/client";
import { HeartbeatSchema } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { AdminServer } from "../../src/admin/index.js";
import { HeartbeatServer } from "../../src/index.js";
import { FAST } from "../helpers.js";
import { RawPeer, waitFor } from "../raw-peer.js";
import { get, openEvents, sample, until } from "./http.js";

const TOKEN = "s3cret-token-for-tests";
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(adminOptions: ConstructorParameters<typeof AdminServer>[1] = {}, listen = true) {
  const server = new HeartbeatServer({ ...FAST, port: 0 });
  const admin = new AdminServer(server, { port: 0, ...adminOptions });
  cleanup.push(() => server.close(), () => admin.close());
  const port = listen ? (await server.listen()).port : 0;
  const a = await admin.listen();
  return { server, admin, port, base: `http://127.0.0.1:${a.port}` };
}

async function node(port: number, nodeId: string, metadata: Record<string, string> = {}): Promise<HeartbeatClient> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, metadata, heartbeatInterval: 200 });
  c.on("error", () => {});
  cleanup.push(() => c.close());
  await c.connect();
  return c;
}

describe("AdminServer", () => {
  it("listens on loopback by default; healthz always, readyz once listening and until draining", async () => {
    const { server, admin, base } = await setup({}, false);
    expect(admin.address()?.address).toBe("127.0.0.1");
    expect((await get(`${base}/healthz`)).status).toBe(200);
    const notYet = await get(`${base}/readyz`);
    expect(notYet).toMatchObject({ status: 503, body: { reason: "not listening" } });
    await server.listen();
    expect((await get(`${base}/readyz`)).status).toBe(200);
    admin.markDraining();
    expect((await get(`${base}/readyz`)).body).toMatchObject({ status: "not ready", reason: "draining" });
  });

  it("with a token, refuses every endpoint but the probes without it (header or query)", async () => {
    const { base } = await setup({ token: TOKEN });
    expect((await get(`${base}/healthz`)).status).toBe(200);
    expect((await get(`${base}/readyz`)).status).toBe(200);
    expect((await get(`${base}/`)).status).toBe(200); // the dashboard's files hold no data
    for (const path of ["/metrics", "/v1/stats", "/v1/nodes", "/v1/events", "/v1/labels", "/v1/history", "/v1/nodes/x"]) {
      const r = await get(`${base}${path}`);
      expect(r.status, path).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await get(`${base}${path}`, "wrong-token-of-some-length")).status).toBe(401);
    }
    expect((await get(`${base}/v1/stats`, TOKEN)).status).toBe(200);
    expect((await get(`${base}/metrics?token=${TOKEN}`)).status).toBe(200);
    expect(() => new AdminServer(new HeartbeatServer(FAST), { token: "short" })).toThrow(/at least 16 characters/);
  });

  it("/v1/nodes filters by label and state with a limit, counting without listing; /v1/nodes/:id", async () => {
    const { base, port } = await setup();
    for (let i = 0; i < 5; i++) await node(port, `eu-${i}`, { region: "eu", tier: i % 2 === 0 ? "a" : "b" });
    await node(port, "us-0", { region: "us" });
    const all = await get(`${base}/v1/nodes`);
    expect(all.body).toMatchObject({ count: 6, truncated: false });
    const eu = await get(`${base}/v1/nodes?label=region=eu&label=tier=a&limit=2`);
    expect(eu.body).toMatchObject({ count: 3, limit: 2, truncated: true });
    expect(eu.body.nodes).toHaveLength(2);
    for (const n of eu.body.nodes) expect(n.labels).toEqual({ region: "eu", tier: "a" });
    expect((await get(`${base}/v1/nodes?state=suspect`)).body).toMatchObject({ count: 0, nodes: [] });
    const one = await get(`${base}/v1/nodes/us-0`);
    expect(one.body).toMatchObject({ nodeId: "us-0", state: "online", labels: { region: "us" } });
    expect((await get(`${base}/v1/nodes/nobody`)).status).toBe(404);
    for (const bad of ["?label=region", "?state=gone", "?limit=0", "?limit=x", "?colour=red"]) {
      const r = await get(`${base}/v1/nodes${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error).toMatch(/label|state|limit|colour/);
    }
    const labels = await get(`${base}/v1/labels`);
    expect(labels.body.labels).toContainEqual({ key: "region", truncated: false, values: [{ value: "eu", total: 5, suspect: 0 }, { value: "us", total: 1, suspect: 0 }] });
  });

  it("/v1/events streams presence changes matching the label filter", async () => {
    const { base, port } = await setup();
    const eu = await openEvents(`${base}/v1/events?label=region=eu`);
    const all = await openEvents(`${base}/v1/events`);
    cleanup.push(() => eu.close(), () => all.close());
    const a = await node(port, "eu-1", { region: "eu" });
    await node(port, "us-1", { region: "us" });
    await a.close();
    await waitFor(() => all.messages.length >= 3, 5_000, "3 events on the unfiltered stream");
    await waitFor(() => eu.messages.length >= 2, 5_000, "2 events on the eu stream");
    expect(eu.messages.map((m) => `${m.kind} ${m.nodeId} ${m.reason}`)).toEqual(["joined eu-1 hello", "left eu-1 goodbye"]);
    expect(all.messages.map((m) => m.nodeId)).toEqual(["eu-1", "us-1", "eu-1"]);
    expect(eu.messages[0]).toMatchObject({ labels: { region: "eu" }, serverId: expect.any(String), time: expect.any(Number) });
  });

  it("/v1/stats and /v1/history carry counts, rates and this process", async () => {
    const { base, port } = await setup();
    await node(port, "n1");
    const s = await get(`${base}/v1/stats`);
    expect(s.body).toMatchObject({ ready: true, workerCount: 1, fleet: { nodes: 1, online: 1, suspect: 0 }, stats: { nodes: 1 } });
    expect(s.body.process).toMatchObject({ pid: process.pid, loopDelay: { p99: expect.any(Number) } });
    const h = await get(`${base}/v1/history`);
    expect(h.body.points.length).toBeGreaterThan(0);
    expect(h.body.events.map((e: { nodeId: string }) => e.nodeId)).toEqual(["n1"]);
  });

  it("answers unknown paths with 404 and other methods with 405", async () => {
    const { base } = await setup({ dashboard: false });
    expect((await get(`${base}/nope`)).status).toBe(404);
    expect((await get(`${base}/`)).status).toBe(404);
    const post = await fetch(`${base}/v1/stats`, { method: "POST" });
    expect(post.status).toBe(405);
  });
});

// The "done when": N real nodes join, M time out, /metrics tells.
describe.each([1, 2])("/metrics with workerCount %i", (workerCount) => {
  it("shows heartbeat_nodes_online N−M, transitions by reason, heartbeats and per-process loop lag", async () => {
    const N = 6;
    const M = 2;
    const server = new HeartbeatServer({ ...FAST, workerCount, port: 0 });
    const admin = new AdminServer(server, { port: 0 });
    cleanup.push(() => server.close(), () => admin.close());
    const { port } = await server.listen();
    const base = `http://127.0.0.1:${(await admin.listen()).port}`;
    for (let i = 0; i < N - M; i++) await node(port, `live-${i}`, { role: "live" });
    // M nodes that register, then fall silent with their connection open: they time out.
    for (let i = 0; i < M; i++) {
      const peer = await RawPeer.connect(port);
      cleanup.push(() => void peer.socket.destroy());
      await peer.hello({ nodeId: `silent-${i}`, heartbeatIntervalMs: 200 });
    }
    const metrics = async () => (await get(`${base}/metrics`)).text;
    await until(async () => sample(await metrics(), 'heartbeat_presence_transitions_total{transition="timeout",reason="heartbeat_timeout"}') === M, 15_000, "M timeouts in /metrics");
    let text = "";
    await until(async () => sample((text = await metrics()), "heartbeat_nodes_online") === N - M, 10_000, "N−M online in /metrics");
    expect(sample(text, "heartbeat_nodes_total")).toBe(N - M);
    expect(sample(text, 'heartbeat_presence_transitions_total{transition="joined",reason="hello"}')).toBe(N);
    expect(sample(text, 'heartbeat_presence_transitions_total{transition="suspect",reason="heartbeat_missed"}')).toBe(M);
    expect(sample(text, "heartbeat_connections")).toBe(N - M);
    expect(sample(text, "heartbeat_heartbeats_total")).toBeGreaterThan(0);
    expect(sample(text, "heartbeat_workers_configured")).toBe(workerCount);
    expect(text).toMatch(/^heartbeat_latency_seconds_count \d+$/m);
    expect(text).toMatch(/^heartbeat_event_loop_lag_p99_seconds\{process="main"\} /m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    if (workerCount > 1) {
      await until(async () => sample(await metrics(), "heartbeat_workers_up") === workerCount, 5_000, "every worker reporting");
      text = await metrics();
      expect(text).toMatch(/^heartbeat_event_loop_lag_p99_seconds\{process="w\d+"\} /m);
      const perWorker = [...text.matchAll(/^heartbeat_worker_nodes\{worker="w\d+"\} (\d+)$/gm)].map((m) => Number(m[1]));
      expect(perWorker).toHaveLength(workerCount);
      expect(perWorker.reduce((a, b) => a + b, 0)).toBe(N - M);
    }
  }, 60_000);

  // Nodes report their last measured RTT in the next Heartbeat once the schema has that field
  // (the protocol work running next to this one); until then there is no round trip to count
  // and this test is skipped. When the field lands, it runs by itself and fails until the
  // session feeds the field to `stats.rtt.observe()` (one line, see docs/OPERATIONS.md).
  const rttField = HeartbeatSchema.fields.find((f) => /rtt/i.test(f.localName));
  it.skipIf(rttField === undefined)("heartbeat_latency_seconds fills with the round trips the nodes report", async () => {
    const server = new HeartbeatServer({ ...FAST, workerCount, port: 0 });
    const admin = new AdminServer(server, { port: 0 });
    cleanup.push(() => server.close(), () => admin.close());
    const { port } = await server.listen();
    const base = `http://127.0.0.1:${(await admin.listen()).port}`;
    for (let i = 0; i < 3; i++) await node(port, `rtt-${i}`);
    await until(async () => (sample((await get(`${base}/metrics`)).text, "heartbeat_latency_seconds_count") ?? 0) > 0, 15_000, "round trips in heartbeat_latency_seconds");
    const text = (await get(`${base}/metrics`)).text;
    expect(sample(text, 'heartbeat_latency_seconds_bucket{le="+Inf"}')).toBe(sample(text, "heartbeat_latency_seconds_count"));
    expect(sample(text, "heartbeat_latency_seconds_sum")).toBeGreaterThan(0);
  }, 60_000);
});
