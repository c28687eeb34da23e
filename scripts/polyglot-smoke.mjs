#!/usr/bin/env node
// Interop smoke test: the TypeScript HeartbeatServer (packages/server/dist)
// with the Go and Python example nodes (examples/go-node, examples/python-node)
// on loopback. Each node is driven through its CLI contract (JSON commands on
// stdin, JSON events on stdout) while the server's presence events are
// checked: join, heartbeats, routing (or its non-fatal refusal), suspect and
// recovery, heartbeat timeout and reconnect, dropped connection, resume,
// duplicate node id, Goodbye, server shutdown (GoAway).
//
//   bash scripts/polyglot.sh smoke          # builds what is missing, then runs this
//   node scripts/polyglot-smoke.mjs         # needs packages/server/dist and both nodes built
//   HB_SMOKE_VERBOSE=1 node scripts/polyglot-smoke.mjs   # also print every event
//
// Ends with one line "smoke: N passed, N failed"; exits 1 if anything failed.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SERVER_MODULE = process.env.HB_SERVER_MODULE ?? join(ROOT, "packages/server/dist/index.js");
const NODES = {
  go: join(ROOT, "examples/go-node/bin/go-node"),
  python: join(ROOT, "examples/python-node/python-node"),
};
const VERBOSE = process.env.HB_SMOKE_VERBOSE === "1";
const PRESENCE = ["nodeJoined", "nodeLeft", "nodeSuspect", "nodeTimeout", "nodeRecovered"];

for (const [what, path] of [["server", SERVER_MODULE], ...Object.entries(NODES)]) {
  if (!existsSync(path)) {
    console.error(`smoke: ${what} not built (${path}); run bash scripts/polyglot.sh smoke`);
    process.exit(1);
  }
}
const { HeartbeatServer } = await import(pathToFileURL(SERVER_MODULE).href);

/** A stream of events with "wait for the next one matching". */
class Events {
  #items = [];
  #waiters = [];
  push(e) {
    this.#items.push(e);
    for (const w of [...this.#waiters]) w();
  }
  /** Resolves with the first event (from `from` on) matching `pred`; rejects after `ms`. */
  wait(pred, ms, what, from = 0) {
    return new Promise((resolve, reject) => {
      let cursor = from;
      const check = () => {
        for (; cursor < this.#items.length; cursor++) {
          const e = this.#items[cursor];
          if (pred(e)) {
            done();
            resolve(e);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
      };
      this.#waiters.push(check);
      check();
    });
  }
  get length() {
    return this.#items.length;
  }
  all() {
    return this.#items;
  }
}

/** A node process (go or python) with its stdout events. */
class Node {
  constructor(kind, port, id, ...args) {
    this.kind = kind;
    this.id = id;
    this.events = new Events();
    this.proc = spawn(NODES[kind], ["-addr", `127.0.0.1:${port}`, "-id", id, "-label", `lang=${kind}`, "-backoff-base", "100", "-backoff-max", "500", ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve(code ?? signal)));
    let buf = "";
    this.proc.stdout.setEncoding("utf8");
    this.proc.stdout.on("data", (chunk) => {
      buf += chunk;
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let e;
        try {
          e = JSON.parse(line);
        } catch {
          e = { event: "NOT_JSON", line };
        }
        if (VERBOSE && e.event !== "heartbeat_ack") console.log(`    ${kind}:${id}`, JSON.stringify(e));
        this.events.push(e);
        nl = buf.indexOf("\n");
      }
    });
    this.stderr = "";
    this.proc.stderr.setEncoding("utf8");
    this.proc.stderr.on("data", (d) => {
      this.stderr += d;
    });
  }
  cmd(obj) {
    this.proc.stdin.write(`${JSON.stringify(obj)}\n`);
  }
  wait(name, match = {}, ms = 3000, from = 0) {
    const pred = (e) => e.event === name && Object.entries(match).every(([k, v]) => e[k] === v);
    return this.events.wait(pred, ms, `${this.kind} event ${name} ${JSON.stringify(match)}`, from);
  }
  kill() {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

/** A HeartbeatServer on an ephemeral loopback port, with its presence events recorded. */
async function startServer(options = {}) {
  const server = new HeartbeatServer({
    workerCount: 1,
    host: "127.0.0.1",
    port: 0,
    heartbeatInterval: 200,
    heartbeatTimeout: 1000,
    heartbeatCheckInterval: 50,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options,
  });
  const events = new Events();
  for (const name of PRESENCE) {
    server.on(name, (e) => {
      if (VERBOSE) console.log("    server:", name, e.nodeId, e.reason);
      events.push({ name, nodeId: e.nodeId, reason: e.reason, labels: e.labels, sessionId: e.sessionId });
    });
  }
  const { port } = await server.listen();
  const presence = (name, nodeId, reason, ms = 3000, from = 0) =>
    events.wait((e) => e.name === name && e.nodeId === nodeId && (reason === undefined || e.reason === reason), ms, `server ${name} ${nodeId} ${reason ?? ""}`, from);
  return { server, port, events, presence };
}

let passed = 0;
let failed = 0;
const cleanups = [];

async function step(title, fn) {
  try {
    const note = await fn();
    passed++;
    console.log(`ok ${passed + failed} - ${title}${note ? ` (${note})` : ""}`);
  } catch (err) {
    failed++;
    console.log(`not ok ${passed + failed} - ${title}: ${err.message}`);
  }
}

function count(events, name, from = 0) {
  return events.all().slice(from).filter((e) => e.event === name).length;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Routing (issue 4) may not exist yet: a node must get either the real
// answer or a non-fatal ProtocolError, and carry on either way.
async function routed(node, okEvent, okMatch, from) {
  const ok = node.wait(okEvent, okMatch, 2000, from).then(() => "routed");
  const refused = node.wait("error", { fatal: false }, 2000, from).then((e) => `refused ${e.code}, non-fatal`);
  return Promise.any([ok, refused]).catch(() => {
    throw new Error(`neither ${okEvent} nor a non-fatal error`);
  });
}

async function main() {
  const A = await startServer();
  cleanups.push(() => A.server.close());
  console.log(`# HeartbeatServer on 127.0.0.1:${A.port} (interval 200 ms, timeout 1000 ms, check 50 ms)`);
  const go = new Node("go", A.port, "go-1");
  const py = new Node("python", A.port, "py-1");
  cleanups.push(() => go.kill(), () => py.kill());

  for (const n of [go, py]) {
    await step(`${n.kind}: Hello/Welcome, server reports JOINED with its labels`, async () => {
      const w = await n.wait("welcome");
      if (w.node_id !== n.id || w.heartbeat_interval_ms !== 200 || w.heartbeat_timeout_ms !== 1000) throw new Error(JSON.stringify(w));
      const j = await A.presence("nodeJoined", n.id, "hello");
      if (j.labels.lang !== n.kind) throw new Error(`labels ${JSON.stringify(j.labels)}`);
    });
  }

  for (const n of [go, py]) {
    await step(`${n.kind}: heartbeats every 200 ms, each acknowledged, never suspect`, async () => {
      const from = n.events.length;
      const sFrom = A.events.length;
      await sleep(1200);
      const acks = count(n.events, "heartbeat_ack", from);
      if (acks < 4 || acks > 9) throw new Error(`${acks} acks in 1.2 s`);
      if (A.events.all().slice(sFrom).some((e) => e.nodeId === n.id && e.name === "nodeSuspect")) throw new Error("suspect");
      return `${acks} acks in 1.2 s`;
    });
  }

  await step("go: subscribe $hb.presence → Subscribed, or a non-fatal refusal", async () => {
    const from = go.events.length;
    go.cmd({ cmd: "subscribe", subject: "$hb.presence" });
    return routed(go, "subscribed", { subject: "$hb.presence" }, from);
  });
  await step("python → go: send → Delivery at go, or a non-fatal refusal at python", async () => {
    const gFrom = go.events.length;
    const pFrom = py.events.length;
    py.cmd({ cmd: "send", to: "go-1", payload: "hello from python" });
    const ok = go.wait("delivery", { from: "py-1", payload: "hello from python" }, 2000, gFrom).then(() => "routed");
    const refused = py.wait("error", { fatal: false }, 2000, pFrom).then((e) => `refused ${e.code}, non-fatal`);
    return Promise.any([ok, refused]).catch(() => {
      throw new Error("neither delivery nor a non-fatal error");
    });
  });
  await step("python → go: request → go replies, python gets the Reply (or a non-fatal refusal)", async () => {
    const pFrom = py.events.length;
    py.cmd({ cmd: "request", to: "go-1", payload: "ping" });
    return routed(py, "reply", { from: "go-1", payload: "ping" }, pFrom);
  });
  await step("go → all: publish and broadcast (answered or refused, non-fatal)", async () => {
    const from = go.events.length;
    go.cmd({ cmd: "publish", subject: "smoke.test", payload: "p" });
    go.cmd({ cmd: "broadcast", payload: "b" });
    await sleep(300);
    if (go.events.all().slice(from).some((e) => e.event === "disconnected")) throw new Error("disconnected");
  });
  for (const n of [go, py]) {
    await step(`${n.kind}: still online after the routing attempts`, async () => {
      const from = n.events.length;
      await n.wait("heartbeat_ack", {}, 1000, from);
      if (!A.server.get(n.id)) throw new Error("not in the registry");
    });
  }

  for (const n of [go, py]) {
    await step(`${n.kind}: stop-heartbeats → SUSPECT heartbeat_missed; start-heartbeats → RECOVERED heartbeat`, async () => {
      const sFrom = A.events.length;
      n.cmd({ cmd: "stop-heartbeats" });
      await A.presence("nodeSuspect", n.id, "heartbeat_missed", 1500, sFrom);
      n.cmd({ cmd: "start-heartbeats" });
      await A.presence("nodeRecovered", n.id, "heartbeat", 1500, sFrom);
    });
  }

  for (const n of [go, py]) {
    await step(`${n.kind}: silent past the timeout → TIMED_OUT, fatal HEARTBEAT_TIMEOUT, reconnect, JOINED again`, async () => {
      const sFrom = A.events.length;
      const from = n.events.length;
      n.cmd({ cmd: "stop-heartbeats" });
      await A.presence("nodeTimeout", n.id, "heartbeat_timeout", 2500, sFrom);
      await n.wait("error", { code: "HEARTBEAT_TIMEOUT", fatal: true }, 1000, from);
      await n.wait("disconnected", { reason: "protocol_error" }, 1000, from);
      const w = await n.wait("welcome", {}, 3000, from);
      if (w.resumed) throw new Error("resumed with resumeGrace 0");
      await A.presence("nodeJoined", n.id, "hello", 3000, sFrom);
    });
  }

  for (const n of [go, py]) {
    await step(`${n.kind}: connection dropped → LEFT connection_closed, reconnect → JOINED`, async () => {
      const sFrom = A.events.length;
      const from = n.events.length;
      n.cmd({ cmd: "drop" });
      await A.presence("nodeLeft", n.id, "connection_closed", 2000, sFrom);
      await n.wait("welcome", {}, 3000, from);
      await A.presence("nodeJoined", n.id, "hello", 3000, sFrom);
    });
  }

  await step("go: goodbye → LEFT goodbye, exit 0", async () => {
    const sFrom = A.events.length;
    go.cmd({ cmd: "goodbye", reason: "smoke done" });
    await A.presence("nodeLeft", "go-1", "goodbye", 2000, sFrom);
    const code = await go.exited;
    if (code !== 0) throw new Error(`exit ${code}`);
  });

  await step("python: server close() → GoAway, node closes (LEFT server_shutdown) and retries; SIGTERM while retrying → exit 0", async () => {
    const from = py.events.length;
    const sFrom = A.events.length;
    const closing = A.server.close();
    const g = await py.wait("go_away", {}, 3000, from);
    await py.wait("disconnected", { reason: "go_away" }, 2000, from);
    await A.presence("nodeLeft", "py-1", "server_shutdown", 2000, sFrom);
    await closing;
    await py.wait("reconnecting", {}, 2000, from);
    py.proc.kill("SIGTERM");
    const code = await py.exited;
    if (code !== 0) throw new Error(`exit ${code}`);
    return `GoAway ${g.code}, drain ${g.drain_ms} ms`;
  });

  const B = await startServer({ resumeGrace: 3000 });
  cleanups.push(() => B.server.close());
  console.log(`# HeartbeatServer on 127.0.0.1:${B.port} with resumeGrace 3000 ms`);
  for (const kind of ["go", "python"]) {
    const id = `${kind}-resume`;
    const n = new Node(kind, B.port, id);
    cleanups.push(() => n.kill());
    await step(`${kind}: dropped connection → SUSPECT connection_closed; resume token → resumed, same session, RECOVERED resumed`, async () => {
      const w1 = await n.wait("welcome");
      const sFrom = B.events.length;
      const from = n.events.length;
      n.cmd({ cmd: "drop" });
      await B.presence("nodeSuspect", id, "connection_closed", 2000, sFrom);
      const w2 = await n.wait("welcome", {}, 3000, from);
      if (!w2.resumed || w2.session_id !== w1.session_id || w2.node_id !== id) throw new Error(JSON.stringify(w2));
      await B.presence("nodeRecovered", id, "resumed", 2000, sFrom);
      if (B.events.all().slice(sFrom).some((e) => e.nodeId === id && (e.name === "nodeLeft" || e.name === "nodeTimeout"))) throw new Error("reported offline");
    });
    await step(`${kind}: SIGTERM → Goodbye → LEFT goodbye, exit 0`, async () => {
      const sFrom = B.events.length;
      n.proc.kill("SIGTERM");
      await B.presence("nodeLeft", id, "goodbye", 2000, sFrom);
      const code = await n.exited;
      if (code !== 0) throw new Error(`exit ${code}`);
    });
  }

  for (const [older, newer] of [["go", "python"], ["python", "go"]]) {
    const id = `dup-${older}`;
    await step(`same node id: ${newer} replaces ${older} → ${older} gets DUPLICATE_NODE and stops (exit 3)`, async () => {
      const a = new Node(older, B.port, id);
      cleanups.push(() => a.kill());
      await a.wait("welcome");
      const sFrom = B.events.length;
      const b = new Node(newer, B.port, id);
      cleanups.push(() => b.kill());
      await b.wait("welcome");
      await a.wait("error", { code: "DUPLICATE_NODE", fatal: true });
      const code = await a.exited;
      if (code !== 3) throw new Error(`exit ${code}`);
      await B.presence("nodeLeft", id, "replaced", 2000, sFrom);
      await B.presence("nodeJoined", id, "replaced", 2000, sFrom);
      b.cmd({ cmd: "goodbye" });
      await b.exited;
    });
  }
}

const watchdog = setTimeout(() => {
  console.log("not ok - smoke test took longer than 120 s");
  failed++;
  finish();
}, 120_000);

async function finish() {
  clearTimeout(watchdog);
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {}
  }
  console.log(`smoke: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main()
  .catch((err) => {
    failed++;
    console.log(`not ok - ${err.stack ?? err}`);
  })
  .finally(finish);
