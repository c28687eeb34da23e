// Issue 5's interop test: the TypeScript server with a Go node, a Python
// node and TypeScript clients on one bus. The nodes are the examples built
// by `bash scripts/polyglot.sh build` from proto/ and docs/PROTOCOL.md alone.
import { fileURLToPath } from "node:url";
import { HeartbeatClient, type Message } from "@hb/client";
import { HeartbeatServer } from "@hb/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeProcess } from "./node-process.js";

const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const GO = repo("examples/go-node/bin/go-node");
const PY = repo("examples/python-node/python-node");
const T = 10_000;

let server: HeartbeatServer;
let addr: string;
let watcher: HeartbeatClient; // ts-1: joins first, watches presence
let ts: HeartbeatClient; // ts-2: joins last
let go: NodeProcess;
let py: NodeProcess;
const tsPresence: { kind: string; nodeId: string; reason: string }[] = [];
const tsMessages: Message[] = [];

const presenceOf = (kind: string, nodeId: string) => (e: Record<string, unknown>) =>
  e.event === "presence" && e.kind === kind && e.node_id === nodeId;
const deliveryOf = (kind: string, from: string, payload: string) => (e: Record<string, unknown>) =>
  e.event === "delivery" && e.kind === kind && e.from === from && e.payload === payload;
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + T;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  server = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", port: 0, heartbeatInterval: 200, minHeartbeatInterval: 50, heartbeatTimeout: 1_000, heartbeatCheckInterval: 50 });
  const { port } = await server.listen();
  addr = `127.0.0.1:${port}`;

  watcher = new HeartbeatClient({ host: "127.0.0.1", port, nodeId: "ts-1", metadata: { lang: "ts" } });
  await watcher.connect();
  const sub = watcher.watchPresence();
  sub.on("message", (p) => tsPresence.push({ kind: p.kind, nodeId: p.nodeId, reason: p.reason }));
  await sub.ready;

  go = new NodeProcess("go-node", GO, ["-addr", addr, "-id", "go-1", "-label", "lang=go"]);
  await go.waitFor((e) => e.event === "welcome", T, "welcome");
  go.cmd({ cmd: "subscribe", subject: "$hb.presence" });
  go.cmd({ cmd: "subscribe", subject: "interop.>" });
  await go.waitFor((e) => e.event === "subscribed" && e.subject === "interop.>", T, "subscribed interop.>");

  py = new NodeProcess("python-node", PY, ["-addr", addr, "-id", "py-1", "-label", "lang=python"]);
  await py.waitFor((e) => e.event === "welcome", T, "welcome");
  py.cmd({ cmd: "subscribe", subject: "$hb.presence" });
  py.cmd({ cmd: "subscribe", subject: "interop.>" });
  await py.waitFor((e) => e.event === "subscribed" && e.subject === "interop.>", T, "subscribed interop.>");

  ts = new HeartbeatClient({ host: "127.0.0.1", port, nodeId: "ts-2", metadata: { lang: "ts" } });
  await ts.connect();
  ts.on("message", (m) => tsMessages.push(m));
  ts.onRequest((m) => `ts-2 answers ${m.text()}`);
  const s = ts.subscribe("interop.>");
  s.on("message", (m) => tsMessages.push(m));
  await s.ready;
}, 60_000);

afterAll(async () => {
  go?.kill();
  py?.kill();
  await Promise.all([watcher?.close(), ts?.close()].map((p) => p?.catch(() => {})));
  await server?.close();
});

describe("interop: TypeScript server, Go node, Python node, TypeScript clients", () => {
  it("everyone sees everyone's presence", async () => {
    await until(() => ["go-1", "py-1", "ts-2"].every((id) => tsPresence.some((p) => p.kind === "joined" && p.nodeId === id)), "ts-1 to see go-1, py-1, ts-2 join");
    await go.waitFor(presenceOf("joined", "py-1"), T, "py-1 joined");
    await go.waitFor(presenceOf("joined", "ts-2"), T, "ts-2 joined");
    const seen = await py.waitFor(presenceOf("joined", "ts-2"), T, "ts-2 joined");
    expect(seen.labels).toEqual({ lang: "ts" });
    expect(server.count()).toBe(4);
  });

  it("unicast both ways between every pair of languages", async () => {
    await ts.send("go-1", "ts→go");
    await ts.send("py-1", "ts→py");
    go.cmd({ cmd: "send", to: "ts-2", payload: "go→ts" });
    go.cmd({ cmd: "send", to: "py-1", payload: "go→py" });
    py.cmd({ cmd: "send", to: "ts-2", payload: "py→ts" });
    py.cmd({ cmd: "send", to: "go-1", payload: "py→go" });
    await go.waitFor(deliveryOf("direct", "ts-2", "ts→go"), T, "ts→go");
    await go.waitFor(deliveryOf("direct", "py-1", "py→go"), T, "py→go");
    await py.waitFor(deliveryOf("direct", "ts-2", "ts→py"), T, "ts→py");
    await py.waitFor(deliveryOf("direct", "go-1", "go→py"), T, "go→py");
    await until(() => tsMessages.some((m) => m.kind === "direct" && m.from === "go-1" && m.text() === "go→ts"), "go→ts");
    await until(() => tsMessages.some((m) => m.kind === "direct" && m.from === "py-1" && m.text() === "py→ts"), "py→ts");
  });

  it("channel messages reach the subscribers in every language", async () => {
    await ts.publish("interop.ts", "from ts");
    go.cmd({ cmd: "publish", subject: "interop.go", payload: "from go" });
    py.cmd({ cmd: "publish", subject: "interop.py", payload: "from py" });
    for (const [node, self] of [[go, "go-1"], [py, "py-1"]] as const) {
      await node.waitFor((e) => e.event === "delivery" && e.subject === "interop.ts" && e.payload === "from ts" && e.from === "ts-2", T, "interop.ts");
      const other = self === "go-1" ? ["interop.py", "from py", "py-1"] : ["interop.go", "from go", "go-1"];
      await node.waitFor((e) => e.event === "delivery" && e.subject === other[0] && e.payload === other[1] && e.from === other[2], T, other[0] as string);
    }
    await until(() => tsMessages.some((m) => m.kind === "publish" && m.subject === "interop.go" && m.text() === "from go"), "interop.go at ts-2");
    await until(() => tsMessages.some((m) => m.kind === "publish" && m.subject === "interop.py" && m.text() === "from py"), "interop.py at ts-2");
  });

  it("request/reply across languages", async () => {
    const reply = await ts.request({ node: "go-1" }, "ping", { timeout: 5_000 });
    expect(reply.from).toBe("go-1");
    expect(reply.text()).toBe("ping"); // the example nodes answer with the request's payload
    py.cmd({ cmd: "request", to: "ts-2", payload: "hello" });
    const r = await py.waitFor((e) => e.event === "reply" && e.from === "ts-2", T, "reply from ts-2");
    expect(r.payload).toBe("ts-2 answers hello");
  });

  it("a Go node stopped without a goodbye is reported timed out", async () => {
    go.child.kill("SIGSTOP"); // frozen: socket open, no heartbeats, no Goodbye
    try {
      await until(() => tsPresence.some((p) => p.kind === "timed_out" && p.nodeId === "go-1"), "go-1 timed out at ts-1");
      expect(tsPresence.find((p) => p.nodeId === "go-1" && p.kind === "timed_out")?.reason).toBe("heartbeat_timeout");
      await py.waitFor(presenceOf("timed_out", "go-1"), T, "go-1 timed out at py-1");
      expect(server.get("go-1")).toBeUndefined();
    } finally {
      go.child.kill("SIGKILL");
    }
  });
});
