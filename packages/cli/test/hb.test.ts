// The hb operator CLI (real binary) against a real hb-server (real binary) on loopback.
import { type ChildProcess, spawn } from "node:child_process";
import { HeartbeatClient } from "@hb/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, type RunningServer, cleanEnv, getJson, run, startServer } from "./bin.js";

let server: RunningServer;
const clients: HeartbeatClient[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startServer(["--port", "0", "--admin-port", "0", "--host", "127.0.0.1", "--worker-count", "1", "--heartbeat-interval", "200ms"]);
}, 30_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, "SIGKILL");
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  server?.kill();
});

async function node(nodeId: string, metadata: Record<string, string> = {}): Promise<HeartbeatClient> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port: server.port, nodeId, metadata });
  c.on("error", () => {});
  clients.push(c);
  await c.connect();
  return c;
}
const hb = (args: string[], input?: string) =>
  run(BIN.hb, ["--admin", server.admin, "--server", `127.0.0.1:${server.port}`, ...args], { input, timeoutMs: 30_000 });
const count = async (): Promise<number> => (await getJson(`${server.admin}/v1/nodes?limit=1`)).count;

// Follows a long-running hb command's stdout.
function follow(args: string[]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN.hb, "--admin", server.admin, "--server", `127.0.0.1:${server.port}`, ...args], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const lines: string[] = [];
  let buf = "";
  child.stdout?.on("data", (d) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
  });
  return { child, lines, exited: new Promise((r) => child.on("close", r)) };
}
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const t = Date.now();
  while (!(await check())) {
    if (Date.now() - t > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("hb", () => {
  it("nodes lists with label and state filters; node shows one node or exits 1", async () => {
    await node("eu-1", { region: "eu", role: "db" });
    await node("eu-2", { region: "eu" });
    await node("us-1", { region: "us" });
    const list = await hb(["nodes", "--label", "region=eu"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NODE\s+STATE\s+LABELS\s+LAST HEARD\s+ADDRESS/m);
    expect(list.stdout).toMatch(/^eu-1\s+online\s+region=eu role=db\s+\S+ ago\s+127\.0\.0\.1/m);
    expect(list.stdout).toContain("eu-2");
    expect(list.stdout).not.toContain("us-1");
    expect(list.stdout).toMatch(/^2 of 2 nodes$/m);
    const json = JSON.parse((await hb(["nodes", "--json", "--limit", "1"])).stdout);
    expect(json).toMatchObject({ count: 3, truncated: true });
    expect((await hb(["nodes", "--state", "suspect"])).stdout).toMatch(/^0 of 0 nodes$/m);
    const one = await hb(["node", "eu-1"]);
    expect(one.stdout).toMatch(/^state\s+online$/m);
    expect(one.stdout).toMatch(/^labels\s+region=eu role=db$/m);
    const none = await hb(["node", "nobody"]);
    expect(none).toMatchObject({ code: 1, stdout: expect.stringContaining("node nobody is not registered") });
    const bad = await hb(["nodes", "--state", "gone"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/hb: \/v1\/nodes: HTTP 400: state must be online or suspect/);
  });

  it("watch streams presence changes without ever appearing in presence itself", async () => {
    const before = await count();
    const w = follow(["watch", "--label", "team=w", "--count", "2"]);
    // The watcher is connected once the server counts its event stream.
    await until(async () => (await getJson(`${server.admin}/v1/stats`)).admin.eventStreams >= 1, "the watch stream");
    expect(await count()).toBe(before);
    const a = await node("watched-1", { team: "w" });
    await node("other-1", { team: "x" });
    await a.close();
    expect(await w.exited).toBe(0);
    expect(w.lines).toHaveLength(2);
    expect(w.lines[0]).toMatch(/\d\d:\d\d:\d\d\.\d{3}\s+joined\s+watched-1\s+hello\s+team=w/);
    expect(w.lines[1]).toMatch(/left\s+watched-1\s+goodbye/);
    const nodes = (await getJson(`${server.admin}/v1/nodes?limit=1000`)).nodes.map((n: { nodeId: string }) => n.nodeId);
    expect(nodes.some((id: string) => id.startsWith("hb-cli"))).toBe(false);
  });

  it("sub connects as an observer: in stats().observers, never in presence, a snapshot or the node count", async () => {
    const before = await count();
    const watcher = await node("observer-watcher");
    const live: string[] = [];
    const events = watcher.watchPresence();
    void (async () => {
      for await (const e of events) live.push(`${e.kind} ${e.nodeId}`);
    })();
    await events.ready;
    const sub = follow(["sub", "cli.observer.>", "--count", "1"]);
    const stats = async () => (await getJson(`${server.admin}/v1/stats`)).stats;
    await until(async () => (await stats()).observers === 1, "hb sub connected as an observer");
    // Only the watcher is a node: /v1/nodes and the node gauges leave the observer out.
    expect(await count()).toBe(before + 1);
    expect((await stats()).nodes).toBe(before + 1);
    const ids = (await getJson(`${server.admin}/v1/nodes?limit=1000`)).nodes.map((n: { nodeId: string }) => n.nodeId);
    expect(ids.filter((id: string) => id.startsWith("hb-cli"))).toEqual([]);
    // A snapshot taken while it is connected lists the watcher, not the observer.
    const snapshot: string[] = [];
    const snap = watcher.watchPresence({ snapshot: true });
    void (async () => {
      for await (const e of snap) snapshot.push(`${e.kind} ${e.nodeId}`);
    })();
    await snap.ready;
    await until(() => snapshot.includes("joined observer-watcher"), "the snapshot");
    // hb pub (an observer too) ends hb sub; then a node joins, which every watcher sees.
    await hb(["pub", "cli.observer.x", "bye"]);
    expect(await sub.exited).toBe(0);
    await until(async () => (await stats()).observers === 0, "the observers gone");
    await node("observer-marker");
    await until(() => live.includes("joined observer-marker") && snapshot.includes("joined observer-marker"), "the marker's JOINED");
    expect(live.filter((e) => e.includes("hb-cli"))).toEqual([]);
    expect(snapshot.filter((e) => e.includes("hb-cli"))).toEqual([]);
    // The next tests count subscriptions from zero.
    await watcher.close();
    await until(async () => (await stats()).subscriptions === 0, "the watcher's subscriptions gone");
  });

  it("stats shows the fleet, rates and errors", async () => {
    const r = await hb(["stats"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fleet\s+\d+ nodes: \d+ online, \d+ suspect$/m);
    expect(r.stdout).toMatch(/^heartbeats\s+[\d.]+\/s/m);
    expect(r.stdout).toMatch(/^server\s+.* ready$/m);
    expect(JSON.parse((await hb(["stats", "--json"])).stdout).stats).toHaveProperty("heartbeats");
  });

  it("sub prints what pub publishes; req gets a reply by subject and by node; send reaches a node", async () => {
    const sub = follow(["sub", "cli.test.>", "--count", "2"]);
    await until(async () => {
      // The subscriber is a short-lived node: its subscription is live once the server counts it.
      const s = await getJson(`${server.admin}/v1/stats`);
      return s.stats.subscriptions >= 1;
    }, "the hb sub subscription");
    const pub = await hb(["pub", "cli.test.a", "hello {{n}}", "--count", "2"]);
    expect(pub.stdout).toMatch(/published 2 messages to cli\.test\.a/);
    expect(await sub.exited).toBe(0);
    expect(sub.lines.map((l) => l.replace(/ \d\d:\d\d:\d\d\.\d+ /, " "))).toEqual([
      expect.stringMatching(/^\[#1\] cli\.test\.a from hb-cli-[0-9a-f]+: hello 1$/),
      expect.stringMatching(/^\[#2\] cli\.test\.a from hb-cli-[0-9a-f]+: hello 2$/),
    ]);

    const responder = await node("responder");
    const subscription = responder.subscribe("svc.echo");
    await subscription.ready;
    void (async () => {
      for await (const m of subscription) await m.respond(`echo ${m.text()}`);
    })();
    responder.onRequest((m) => `node says ${m.text()}`);
    const bySubject = await hb(["req", "svc.echo", "ping"]);
    expect(bySubject.stdout).toMatch(/^reply from responder in [\d.]+ ms: echo ping$/m);
    const byNode = await hb(["req", "--node", "responder", "status"]);
    expect(byNode.stdout).toMatch(/reply from responder .*: node says status/);
    const timeout = await hb(["req", "nobody.listens", "x", "--timeout", "300ms"]);
    expect(timeout.code).toBe(1);

    const inbox = responder.messages();
    const sent = await hb(["send", "responder"], "from stdin");
    expect(sent.stdout).toMatch(/sent to responder/);
    const got = await inbox.next();
    expect(got.value?.text()).toBe("from stdin");
  });

  it("bench connects N nodes, reports heartbeats/s and RTT percentiles, with progress on stderr", async () => {
    const r = await hb(["bench", "--nodes", "20", "--duration", "2s", "--interval", "200ms", "--prefix", "b"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/connecting \|.*\| \d+\/20 nodes/);
    expect(r.stderr).toMatch(/measuring/);
    expect(r.stdout).toMatch(/^connections\s+20 connected, 0 failed/m);
    expect(r.stdout).toMatch(/^RTT\s+p50 [\d.]+ ms\s+p90 [\d.]+ ms\s+p99 [\d.]+ ms/m);
    const j = await hb(["bench", "--nodes", "10", "--duration", "1s", "--interval", "100ms", "--json", "--no-progress"]);
    const summary = JSON.parse(j.stdout);
    expect(summary).toMatchObject({ nodes: 10, connected: 10, failed: 0 });
    expect(summary.heartbeats).toBeGreaterThan(0);
    expect(summary.rttMs.count).toBe(summary.heartbeats);
    expect(summary.rttMs.p99).toBeGreaterThan(0);
    expect(j.stderr).toBe("");
    // Bench nodes leave when it ends.
    await until(async () => (await getJson(`${server.admin}/v1/nodes?label=hb.tool=bench`)).count === 0, "bench nodes gone");
  }, 60_000);

  it("says when a full server asks it to come back later (SERVER_FULL with retry_after_ms)", async () => {
    const full = await startServer(["--port", "0", "--admin-port", "0", "--host", "127.0.0.1", "--worker-count", "1", "--max-connections", "1"]);
    try {
      const holder = new HeartbeatClient({ host: "127.0.0.1", port: full.port, nodeId: "holds-the-slot" });
      holder.on("error", () => {});
      clients.push(holder);
      await holder.connect();
      const r = await run(BIN.hb, ["--server", `127.0.0.1:${full.port}`, "pub", "x", "hello"], { timeoutMs: 30_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot connect to the hb server at 127\.0\.0\.1:\d+: .*; the server asks to retry after \d+ ms/);
    } finally {
      full.kill();
    }
  }, 30_000);

  it("says clearly when the admin endpoint cannot be reached", async () => {
    const r = await run(BIN.hb, ["--admin", "http://127.0.0.1:1", "stats"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hb: cannot reach the admin endpoint at http:\/\/127\.0\.0\.1:1/);
  });
});
