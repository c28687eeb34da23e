// workerCount > 1: real node:cluster worker processes (src/cluster/worker-main.ts
// through tsx) sharing one port, the primary (this process) answering for
// all of them through the IPC bus hub.
import { HeartbeatClient, type Message } from "@hb/client";
import cluster from "node:cluster";
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { ErrorCode, PROTOCOL_VERSION, encodeFrame, makeFrame } from "@hb/codec";
import { availableParallelism } from "node:os";
import { HeartbeatServer, MemoryBus, type NodeEvent, SERVER_OPTION_DEFAULTS } from "../src/internal.js";
import { collect } from "./channel-helpers.js";
import { RawPeer, sleep, waitFor } from "./raw-peer.js";

const HOOKS = new URL("./fixtures/worker-hooks.ts", import.meta.url);
const BROKEN_HOOKS = new URL("./fixtures/worker-hooks-unknown-key.ts", import.meta.url);

const text = (m: { payload: Uint8Array }) => new TextDecoder().decode(m.payload);
const clients: HeartbeatClient[] = [];
let server: HeartbeatServer | undefined;

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await server?.close();
});

async function client(port: number, nodeId: string): Promise<HeartbeatClient> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, reconnectInterval: 50, maxReconnectDelay: 200 });
  c.on("error", () => {});
  clients.push(c);
  await c.connect();
  return c;
}

describe("workerCount > 1", () => {
  it("defaults to the CPU count, with a bus too; hooks given inline keep one process (logged); more is refused", () => {
    expect(new HeartbeatServer().options.workerCount).toBe(Math.min(availableParallelism(), 1_024));
    expect(SERVER_OPTION_DEFAULTS.workerCount).toBe(Math.min(availableParallelism(), 1_024));
    const logged: string[] = [];
    const logger = { debug() {}, info: (_o: object, m?: string) => logged.push(m ?? ""), warn() {}, error() {} };
    expect(new HeartbeatServer({ authenticate: () => true, logger }).options.workerCount).toBe(1);
    if (availableParallelism() > 1) expect(logged.join("\n")).toMatch(/workerCount defaults to 1 with hooks given inline/);
    const bridged = new HeartbeatServer({ bus: new MemoryBus().link() });
    expect(bridged.options.workerCount).toBe(Math.min(availableParallelism(), 1_024));
    if (bridged.options.workerCount > 1) expect(bridged.options.bus?.kind).toBe("ipc+memory");
    expect(new HeartbeatServer({ workerCount: 3 }).options.workerCount).toBe(3);
    expect(() => new HeartbeatServer({ workerCount: 2, authenticate: () => true })).toThrow(
      /authenticate cannot be given inline with worker processes .*export it from the workerModule/,
    );
    expect(() => new HeartbeatServer({ workerCount: 2, authorizePublish: () => true })).toThrow(/authorizePublish cannot be given inline/);
    expect(() => new HeartbeatServer({ workerModule: HOOKS, authenticate: () => true })).toThrow(/authenticate cannot be given inline/);
    expect(() => new HeartbeatServer({ workerModule: "./hooks.js" })).toThrow(/workerModule must be an absolute path or a file: URL/);
    expect(() => new HeartbeatServer({ workerModule: "/nowhere/hooks.js" })).toThrow(/workerModule \/nowhere\/hooks\.js does not exist/);
    expect(() => new HeartbeatServer({ workerModule: 42 as never })).toThrow(TypeError);
  });

  it("workerModule: the hooks run in every worker; the workers' log records reach the primary's logger", async () => {
    const records: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
    const keep = (level: string) => (obj: object, msg?: string) => records.push({ level, obj: obj as Record<string, unknown>, msg });
    const logger = { debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") };
    // reusePort false: node:cluster round-robin (the fallback), whose strict alternation this test relies on.
    const s = new HeartbeatServer({ workerCount: 2, workerModule: HOOKS, host: "127.0.0.1", port: 0, logger, closeTimeout: 500, reusePort: false });
    server = s;
    const { port } = await s.listen();
    // Round-robin: consecutive connections alternate between the two workers.
    const peers = await Promise.all(Array.from({ length: 4 }, () => RawPeer.connect(port)));
    const welcomes = await Promise.all(peers.map((p, i) => p.hello({ nodeId: `ok${i}`, token: "let-me-in" })));
    expect(welcomes.map((w) => w.nodeId)).toEqual(["ok0", "ok1", "ok2", "ok3"]);
    await waitFor(() => s.count() === 4, 5_000, "4 nodes");
    expect(new Set(s.list().map((n) => n.serverId)).size).toBe(2);

    const intruders = await Promise.all(Array.from({ length: 2 }, () => RawPeer.connect(port)));
    for (const [i, p] of intruders.entries()) {
      await expect(p.hello({ nodeId: `bad${i}`, token: "guess" })).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    }
    for (const p of peers) {
      p.send("publish", { subject: "elsewhere.x", payload: new Uint8Array([1]), requestId: 7n });
      expect(await p.error()).toMatchObject({ code: ErrorCode.FORBIDDEN, ref: 7n });
    }

    const refusals = () => records.filter((r) => r.level === "warn" && r.obj.code === "UNAUTHORIZED");
    await waitFor(() => refusals().length === 2, 5_000, "both refusals logged by the primary");
    expect(new Set(refusals().map((r) => r.obj.memberId))).toEqual(new Set(s.list().map((n) => n.serverId)));
    expect(refusals()[0]?.obj.workerPid).toEqual(expect.any(Number));
    expect(refusals()[0]?.msg).toBe("authentication refused");
    for (const p of [...peers, ...intruders]) p.socket.destroy();
    await s.close();
    server = undefined;
  }, 30_000);

  it("maxConnections is the server's: the primary counts every worker's connections", async () => {
    const s = new HeartbeatServer({ workerCount: 2, maxConnections: 4, host: "127.0.0.1", port: 0, closeTimeout: 500 });
    server = s;
    expect(s.options.maxConnections).toBe(4);
    const { port } = await s.listen();
    // One after the other: whichever worker each reaches, the primary counts them all.
    const peers: RawPeer[] = [];
    const outcomes: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await RawPeer.connect(port);
      peers.push(p);
      outcomes.push(await p.hello({ nodeId: `m${i}` }).then(() => "welcome", (err: { code?: number }) => err.code));
    }
    expect(outcomes.filter((o) => o === "welcome")).toHaveLength(4);
    expect(outcomes.filter((o) => o === ErrorCode.SERVER_FULL)).toHaveLength(2);
    for (const p of peers) p.socket.destroy();
    await s.close();
    server = undefined;
  }, 20_000);

  it("a workerModule a worker cannot use fails listen() with the module's error", async () => {
    const s = new HeartbeatServer({ workerCount: 1, workerModule: BROKEN_HOOKS, host: "127.0.0.1", port: 0 });
    await expect(s.listen()).rejects.toThrow(/worker-hooks-unknown-key\.ts: unknown WorkerSetup key "heartbeatTimeout"/);
    await s.close();
    await waitFor(() => Object.keys(cluster.workers ?? {}).length === 0, 3_000, "workers gone");
  }, 20_000);

  it("a node id registered again on another worker at once: the newer connection wins, the older gets DUPLICATE_NODE", async () => {
    // reusePort false: round-robin places the connections of each pair (with SO_REUSEPORT the kernel hashes them).
    const s = new HeartbeatServer({ workerCount: 2, host: "127.0.0.1", port: 0, closeTimeout: 500, reusePort: false });
    server = s;
    const { port } = await s.listen();
    // Round-robin: the two connections of each pair land on different workers; a spare connection every
    // other pair swaps which worker gets the older one. The newer Hello goes out once the primary (and so
    // the other worker) knows the older registration: causally newer, often within the same millisecond.
    // (multi-server.test.ts checks the rule itself with a skewed clock.)
    const spares: RawPeer[] = [];
    for (let i = 0; i < 12; i++) {
      if (i % 2 === 1) spares.push(await RawPeer.connect(port));
      const older = await RawPeer.connect(port);
      await older.hello({ nodeId: `dup${i}` });
      await waitFor(() => s.get(`dup${i}`) !== undefined, 2_000, `dup${i} known to the primary`);
      const newer = await RawPeer.connect(port);
      await newer.hello({ nodeId: `dup${i}` });
      expect(await older.error(3_000)).toMatchObject({ code: ErrorCode.DUPLICATE_NODE, fatal: true });
      await older.closed;
      newer.heartbeat();
      await newer.next("heartbeatAck");
      newer.socket.destroy();
    }
    for (const p of spares) p.socket.destroy();
    await s.close();
    server = undefined;
  }, 60_000);

  it("a resume lands on whichever worker: the connection is handed to the one holding the session", async () => {
    // reusePort false: round-robin puts some reconnects on the other worker for sure (the handoff is the same with SO_REUSEPORT).
    const s = new HeartbeatServer({ workerCount: 2, host: "127.0.0.1", port: 0, resumeGrace: 5_000, closeTimeout: 500, reusePort: false });
    server = s;
    const recovered: string[] = [];
    const offline: string[] = [];
    s.on("nodeRecovered", (e) => recovered.push(e.nodeId));
    s.on("nodeLeft", (e) => offline.push(e.nodeId));
    s.on("nodeTimeout", (e) => offline.push(e.nodeId));
    const { port } = await s.listen();
    const N = 8;
    for (let i = 0; i < N; i++) {
      const first = await RawPeer.connect(port);
      const welcome = await first.hello({ nodeId: `r${i}`, heartbeatIntervalMs: 1_000 });
      expect(welcome.resumeToken.length).toBe(20); // 16 random bytes + the worker id
      first.socket.destroy();
      await waitFor(() => s.get(`r${i}`)?.state === "suspect", 5_000, `r${i} suspect`);
      const again = await RawPeer.connect(port);
      const hello = { protocolVersion: PROTOCOL_VERSION, nodeId: `r${i}`, resumeToken: welcome.resumeToken };
      // Half of them pipeline a Heartbeat in the Hello's write: bytes after the Hello move along with it.
      const pipelined = i % 2 === 1;
      again.sendRaw(
        pipelined
          ? Buffer.concat([encodeFrame(makeFrame("hello", hello)), encodeFrame(makeFrame("heartbeat", { seq: 1n }))])
          : encodeFrame(makeFrame("hello", hello)),
      );
      const resumed = await again.next("welcome");
      expect(resumed).toMatchObject({ resumed: true, sessionId: welcome.sessionId, nodeId: `r${i}` });
      // The session works after the move: a heartbeat is acked by the worker that holds it.
      if (!pipelined) again.heartbeat();
      expect((await again.next("heartbeatAck")).seq).toBe(1n);
    }
    expect(recovered.sort()).toEqual(Array.from({ length: N }, (_, i) => `r${i}`).sort());
    expect(offline).toEqual([]);
    // Round-robin put at least one reconnect on the other worker.
    expect(s.stats().handedOff).toBeGreaterThan(0);
    await s.close();
    server = undefined;
  }, 40_000);

  it("listen() rejects when the workers cannot listen, leaving no worker behind", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const s = new HeartbeatServer({ workerCount: 2, host: "127.0.0.1", port });
      await expect(s.listen()).rejects.toThrow(/EADDRINUSE/);
      await waitFor(() => Object.keys(cluster.workers ?? {}).length === 0, 3_000, "workers gone");
      await s.close();
    } finally {
      blocker.close();
    }
  }, 20_000);

  it("4 workers share the port and behave as one server; a killed worker is restarted; close drains all", async () => {
    const s = new HeartbeatServer({ workerCount: 4, host: "127.0.0.1", port: 0, closeTimeout: 1_000 });
    server = s;
    const events: string[] = [];
    for (const name of ["nodeJoined", "nodeLeft", "nodeTimeout"] as const) {
      s.on(name, (e: NodeEvent) => events.push(`${name} ${e.nodeId} ${e.reason}`));
    }
    const address = await s.listen();
    expect(address.port).toBeGreaterThan(0);
    expect(s.address()?.port).toBe(address.port);
    expect(Object.keys(cluster.workers ?? {})).toHaveLength(4);

    const ids = Array.from({ length: 16 }, (_, i) => `n${i}`);
    const cs = await Promise.all(ids.map((id) => client(address.port, id)));
    await waitFor(() => s.count() === 16, 5_000, "16 nodes in the primary");
    const holders = new Set(ids.map((id) => s.get(id)?.serverId));
    expect(holders.size).toBeGreaterThan(1);
    expect(s.list().map((n) => n.nodeId).sort()).toEqual([...ids].sort());
    expect(events.filter((e) => e.startsWith("nodeJoined"))).toHaveLength(16);
    await waitFor(() => s.stats().connections === 16, 5_000, "connections reported by the workers");
    expect(s.stats().nodes).toBe(16);

    // Cross-worker unicast: pick two nodes on different workers.
    const [a, b] = pickOnDifferentWorkers(s, ids);
    const ca = cs[ids.indexOf(a)] as HeartbeatClient;
    const cb = cs[ids.indexOf(b)] as HeartbeatClient;
    const atB: Message[] = [];
    cb.on("message", (m) => atB.push(m));
    await ca.send(b, "hi across");
    await waitFor(() => atB.length === 1);
    expect([atB[0]?.kind, atB[0]?.from, text(atB[0] as Message)]).toEqual(["direct", a, "hi across"]);
    expect(s.send(b, "from primary")).toBe(true);
    await waitFor(() => atB.length === 2);
    expect([atB[1]?.from, text(atB[1] as Message)]).toEqual(["", "from primary"]);

    // Publish (from a client and from the primary) reaches subscribers on every worker.
    const subs = cs.map((c) => c.subscribe("news.eu"));
    const got = subs.map((sub) => collect(sub));
    await Promise.all(subs.map((sub) => sub.ready));
    await sleep(50);
    await ca.publish("news.eu", "extra!");
    await waitFor(() => got.every((g) => g.length === 1), 5_000, "publish everywhere");
    s.publish("news.eu", "from primary");
    await waitFor(() => got.every((g) => g.length === 2), 5_000, "primary publish everywhere");
    expect(got.map((g) => text(g[1] as Message))).toEqual(ids.map(() => "from primary"));

    // Broadcast from the primary reaches every client once.
    const inbox = cs.map(() => [] as string[]);
    cs.forEach((c, i) => c.on("message", (m) => m.kind === "broadcast" && inbox[i]?.push(text(m))));
    s.broadcast("noon");
    await waitFor(() => inbox.every((x) => x.length === 1), 5_000, "broadcast everywhere");
    await sleep(30);
    expect(inbox.every((x) => x.length === 1)).toBe(true);

    // kill -9 of one worker: its nodes time out server_lost, it is restarted, the clients come back.
    const victim = s.get(a)?.serverId as string;
    const lost = ids.filter((id) => s.get(id)?.serverId === victim);
    const worker = cluster.workers?.[victim.slice(1)];
    expect(worker).toBeDefined();
    worker?.process.kill("SIGKILL");
    await waitFor(() => lost.every((id) => events.includes(`nodeTimeout ${id} server_lost`)), 5_000, "server_lost");
    await waitFor(() => Object.keys(cluster.workers ?? {}).length === 4 && !Object.keys(cluster.workers ?? {}).includes(victim.slice(1)), 5_000, "restart");
    await waitFor(() => s.count() === 16, 10_000, "every node back");
    for (const id of lost) expect(s.get(id)?.state).toBe("online");

    // close(): every worker drains and exits; nodes leave server_shutdown.
    const pids = Object.values(cluster.workers ?? {}).map((w) => w?.process.pid);
    expect(pids).toHaveLength(4);
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
    await waitFor(() => s.count() === 0, 5_000, "clients gone");
    await s.close();
    server = undefined;
    await waitFor(() => Object.keys(cluster.workers ?? {}).length === 0, 2_000, "workers gone");
    for (const pid of pids) expect(() => process.kill(pid as number, 0)).toThrow();
  }, 40_000);

  it("close() drains connected nodes: they leave with server_shutdown", async () => {
    const s = new HeartbeatServer({ workerCount: 2, host: "127.0.0.1", port: 0, closeTimeout: 500 });
    server = s;
    const left: string[] = [];
    s.on("nodeLeft", (e) => left.push(`${e.nodeId} ${e.reason}`));
    const { port } = await s.listen();
    const cs = await Promise.all(["p", "q", "r", "t"].map((id) => client(port, id)));
    for (const c of cs) c.on("error", () => {});
    await waitFor(() => s.count() === 4);
    await s.close();
    server = undefined;
    expect(left.sort()).toEqual(["p server_shutdown", "q server_shutdown", "r server_shutdown", "t server_shutdown"]);
    await waitFor(() => Object.keys(cluster.workers ?? {}).length === 0, 2_000, "workers gone");
  }, 20_000);
});

function pickOnDifferentWorkers(s: HeartbeatServer, ids: string[]): [string, string] {
  for (const x of ids) for (const y of ids) if (s.get(x)?.serverId !== s.get(y)?.serverId) return [x, y];
  throw new Error("all nodes on one worker");
}
