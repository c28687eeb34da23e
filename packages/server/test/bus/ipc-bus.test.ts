// The IPC bus with real worker processes: child_process.fork() children
// running fixtures/ipc-worker.ts (an IpcBusLink + FakeMember, through tsx),
// an IpcBusHub in this process as the primary. IPC only, no sockets.
import { afterEach, describe, expect, it } from "vitest";
import type { BusNode, BusPresence } from "../../src/core/ports/bus-link.js";
import { IpcBusHub } from "../../src/workers/ipc-bus-hub.js";
import type { IpcSerialization } from "../../src/workers/ipc-bus-message.js";
import { until } from "./fake-member.js";
import { WorkerProcess, type WorkerState } from "./ipc-worker-process.js";

const processes: WorkerProcess[] = [];
const hubs: IpcBusHub[] = [];

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
  for (const h of hubs.splice(0)) await h.close();
});

/** A hub that records its events. */
function hub(): { hub: IpcBusHub; events: string[]; lost: { memberId: string; nodes: string[] }[]; joined: string[] } {
  const h = new IpcBusHub();
  hubs.push(h);
  const events: string[] = [];
  const lost: { memberId: string; nodes: string[] }[] = [];
  const joined: string[] = [];
  h.on("presence", (e: BusPresence) => events.push(`${e.kind} ${e.nodeId} ${e.reason} @${e.memberId}`));
  h.on("memberLost", (memberId: string, nodes: readonly BusNode[]) =>
    lost.push({ memberId, nodes: nodes.map((n) => n.nodeId).sort() }),
  );
  h.on("memberJoined", (memberId: string) => joined.push(memberId));
  return { hub: h, events, lost, joined };
}

/** Forks worker processes, attaches them to `h` and starts their links as `ids`, in order. */
async function workers(
  h: IpcBusHub,
  ids: string[],
  serialization: IpcSerialization = "advanced",
  options: Record<string, unknown> = {},
  how: "fork" | "cluster" = "fork",
): Promise<WorkerProcess[]> {
  const out = ids.map(() => new WorkerProcess(serialization, how));
  processes.push(...out);
  for (const w of out) h.attach(w.port);
  await Promise.all(out.map((w) => w.booted));
  for (const [i, w] of out.entries()) await w.call({ cmd: "start", member: ids[i] as string, options });
  return out;
}

/** Polls a worker's state until `check` passes (it throws / returns false otherwise). */
async function eventually(w: WorkerProcess, check: (s: WorkerState) => boolean | void): Promise<WorkerState> {
  let last: WorkerState | undefined;
  const deadline = Date.now() + 5_000;
  for (;;) {
    last = await w.state();
    try {
      if (check(last) !== false) return last;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met; last state ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const bytes = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe("IPC bus (real worker processes)", () => {
  it("presence announced on worker A is in the hub's directory and at worker B, in order", async () => {
    const { hub: h, events } = hub();
    const [a, b] = (await workers(h, ["a", "b"])) as [WorkerProcess, WorkerProcess];
    expect(h.members()).toEqual(["a", "b"]);
    expect(h.serialization("a")).toBe("advanced");
    await a.call({ cmd: "join", nodeId: "n1", labels: { zone: "x" } });
    await a.call({ cmd: "suspect", nodeId: "n1" });
    await a.call({ cmd: "recover", nodeId: "n1" });
    // A's batch follows its reply on A's channel: let it reach the hub before B speaks on its own channel.
    await until(() => events.length === 3);
    await b.call({ cmd: "join", nodeId: "m1" });
    const sb = await eventually(b, (s) => s.events.length === 3);
    expect(sb.events).toEqual([
      "joined n1 hello @a",
      "suspect n1 heartbeat_missed @a",
      "recovered n1 heartbeat @a",
    ]);
    expect(sb.view).toEqual(["n1@a:online"]);
    const sa = await eventually(a, (s) => s.view.length === 1);
    expect(sa.view).toEqual(["m1@b:online"]);
    expect(sa.events).toEqual(["joined m1 hello @b"]); // nothing about its own node
    await until(() => h.nodes().size === 2);
    expect(h.nodes().get("n1")).toEqual({ nodeId: "n1", labels: { zone: "x" }, state: "online", memberId: "a" });
    expect(h.locate("m1")).toBe("b");
    expect(events).toEqual([
      "joined n1 hello @a",
      "suspect n1 heartbeat_missed @a",
      "recovered n1 heartbeat @a",
      "joined m1 hello @b",
    ]);
    await a.call({ cmd: "leave", nodeId: "n1", kind: "timed_out", reason: "heartbeat_timeout" });
    await eventually(b, (s) => expect(s.events.at(-1)).toBe("timed_out n1 heartbeat_timeout @a"));
    expect(h.locate("n1")).toBeUndefined();
  });

  it("relays publish and broadcast to every other worker, direct and reply to the holder only, bytes intact", async () => {
    const { hub: h } = hub();
    const [a, b, c] = (await workers(h, ["a", "b", "c"])) as [WorkerProcess, WorkerProcess, WorkerProcess];
    await c.call({ cmd: "join", nodeId: "n3" });
    await eventually(a, (s) => expect(s.view).toEqual(["n3@c:online"]));
    const p = bytes(300, 1);
    const bc = bytes(0, 0);
    const d = bytes(100, 2);
    const r = bytes(256, 3);
    await a.call({ cmd: "send", envelope: { type: "publish", subject: "telemetry.eu", body: p } });
    await a.call({ cmd: "send", envelope: { type: "broadcast", body: bc, exceptNodeId: "n9" } });
    const direct = await a.call({ cmd: "send", envelope: { type: "direct", nodeId: "n3", body: d }, locate: true });
    expect(direct.to).toBe("c");
    await a.call({ cmd: "send", envelope: { type: "reply", nodeId: "n3", body: r }, locate: true });
    // The fixture answers before its batch leaves (end of turn): wait for the relay before the primary sends.
    await eventually(c, (s) => s.delivered.length === 4);
    h.send({ type: "publish", subject: "from.primary", body: Uint8Array.of(9) });
    h.send({ type: "direct", nodeId: "n3", body: Uint8Array.of(8) }, "c");
    const sc = await eventually(c, (s) => s.delivered.length === 6);
    expect(sc.delivered).toEqual([
      { type: "publish", subject: "telemetry.eu", body: p, from: "a" },
      { type: "broadcast", body: bc, exceptNodeId: "n9", from: "a" },
      { type: "direct", nodeId: "n3", body: d, from: "a" },
      { type: "reply", nodeId: "n3", body: r, from: "a" },
      { type: "publish", subject: "from.primary", body: [9], from: "primary" },
      { type: "direct", nodeId: "n3", body: [8], from: "primary" },
    ]);
    const sb = await eventually(b, (s) => s.delivered.length === 3);
    expect(sb.delivered.map((x) => [x.type, x.from])).toEqual([
      ["publish", "a"],
      ["broadcast", "a"],
      ["publish", "primary"],
    ]);
    expect(sb.delivered[0]?.body).toEqual(p);
    const sa = await a.state();
    expect(sa.delivered.map((x) => [x.type, x.from])).toEqual([["publish", "primary"]]); // never its own
    expect(sa.stats).toMatchObject({ relayedOut: 4, dropped: 0, decodeErrors: 0 });
    expect(h.stats()).toMatchObject({ relayedIn: 4, undeliverable: 0, decodeErrors: 0, protocolErrors: 0 });
  });

  it("a new worker receives the directory on join, silently; its own start nodes reach the others", async () => {
    const { hub: h, events } = hub();
    const [a, b] = (await workers(h, ["a", "b"])) as [WorkerProcess, WorkerProcess];
    await a.call({ cmd: "join", nodeId: "n1" });
    await a.call({ cmd: "join", nodeId: "n2", labels: { role: "gw" } });
    await b.call({ cmd: "join", nodeId: "m1" });
    await until(() => h.nodes().size === 3);
    const c = new WorkerProcess();
    processes.push(c);
    h.attach(c.port);
    await c.booted;
    const started = await c.call({ cmd: "start", member: "c", nodes: ["k1", "k2"] });
    // Loaded before start() resolved.
    expect(started.view).toEqual(["m1@b:online", "n1@a:online", "n2@a:online"]);
    const sc = await c.state();
    expect(sc.events).toEqual([]);
    await eventually(a, (s) => expect(s.view).toEqual(["k1@c:online", "k2@c:online", "m1@b:online"]));
    const sb = await eventually(b, (s) => s.view.length === 4);
    expect(sb.events.slice(-2)).toEqual(["joined k1 resync @c", "joined k2 resync @c"]);
    expect(events.slice(-2)).toEqual(["joined k1 resync @c", "joined k2 resync @c"]);
    // Live changes after the snapshot.
    await a.call({ cmd: "leave", nodeId: "n1" });
    await eventually(c, (s) => expect(s.events).toEqual(["left n1 goodbye @a"]));
  });

  it("kill -9 of a worker: the hub and every other worker get memberLost once with exactly its nodes; a restarted worker rejoins", async () => {
    const { hub: h, lost, joined } = hub();
    const [a, b, c] = (await workers(h, ["a", "b", "c"])) as [WorkerProcess, WorkerProcess, WorkerProcess];
    await a.call({ cmd: "join", nodeId: "n1" });
    await a.call({ cmd: "join", nodeId: "n2" });
    await b.call({ cmd: "join", nodeId: "m1" });
    await eventually(c, (s) => s.view.length === 3);
    await a.kill9();
    await until(() => lost.length === 1);
    expect(lost).toEqual([{ memberId: "a", nodes: ["n1", "n2"] }]);
    for (const w of [b, c]) {
      await eventually(w, (s) => expect(s.lost).toEqual([{ memberId: "a", nodes: ["n1", "n2"] }]));
    }
    expect([...h.nodes().keys()]).toEqual(["m1"]);
    expect(h.members()).toEqual(["b", "c"]);
    // A relay to the dead worker is undeliverable, not an error.
    await b.call({ cmd: "send", envelope: { type: "direct", nodeId: "n1", body: [1] }, toMember: "a" });
    await until(() => h.stats().undeliverable === 1);

    // The supervisor restarts it; its nodes come back as their clients reconnect.
    const a2 = new WorkerProcess();
    processes.push(a2);
    h.attach(a2.port);
    await a2.booted;
    const started = await a2.call({ cmd: "start", member: "a" });
    expect(started.view).toEqual(["m1@b:online"]);
    await a2.call({ cmd: "join", nodeId: "n1" });
    const sb = await eventually(b, (s) => expect(s.view).toEqual(["n1@a:online"]));
    expect(sb.events.filter((e) => e.includes(" n1 "))).toEqual(["joined n1 hello @a", "joined n1 hello @a"]);
    await c.call({ cmd: "send", envelope: { type: "direct", nodeId: "n1", body: [5] }, locate: true });
    await eventually(a2, (s) => expect(s.delivered.map((d) => d.body)).toEqual([[5]]));
    expect(joined).toEqual(["a", "b", "c", "a"]);
    // Still exactly once everywhere.
    expect(lost).toHaveLength(1);
    expect((await b.state()).lost).toHaveLength(1);
    expect((await c.state()).lost).toHaveLength(1);
  });

  it("a clean close says bye: memberLost with no nodes (announced gone first)", async () => {
    const { hub: h, lost, events } = hub();
    const [a, b] = (await workers(h, ["a", "b"])) as [WorkerProcess, WorkerProcess];
    await a.call({ cmd: "join", nodeId: "n1" });
    await a.call({ cmd: "leave", nodeId: "n1", reason: "server_shutdown" });
    await a.call({ cmd: "close" });
    await until(() => lost.length === 1);
    expect(lost).toEqual([{ memberId: "a", nodes: [] }]);
    expect(events).toEqual(["joined n1 hello @a", "left n1 server_shutdown @a"]);
    await eventually(b, (s) => expect(s.lost).toEqual([{ memberId: "a", nodes: [] }]));
    expect((await a.state()).health).toEqual({ state: "degraded", detail: "closed" });
    // The process is still alive, but nothing more: its exit is not a second loss.
    await a.kill9();
    await new Promise((r) => setTimeout(r, 50));
    expect(lost).toHaveLength(1);
  });

  it("refuses a duplicate member id", async () => {
    const { hub: h } = hub();
    await workers(h, ["a"]);
    const dup = new WorkerProcess();
    processes.push(dup);
    h.attach(dup.port);
    await dup.booted;
    await expect(dup.call({ cmd: "start", member: "a" })).rejects.toThrow(/already on the bus/);
    // The primary's own id is taken too; a refused channel may try again.
    await expect(dup.call({ cmd: "start", member: "primary" })).rejects.toThrow(/"primary" is already on the bus/);
    await dup.call({ cmd: "start", member: "b" });
    expect(h.stats().refused).toBe(2);
    expect(h.members()).toEqual(["a", "b"]);
  });

  it("a hub attached after the worker's hello: `ready` makes the worker say it again", async () => {
    const { hub: h } = hub();
    const w = new WorkerProcess();
    processes.push(w);
    await w.booted;
    const start = w.call({ cmd: "start", member: "late" });
    await new Promise((r) => setTimeout(r, 100)); // the hello reached a primary that did not listen
    h.attach(w.port);
    await start;
    expect(h.members()).toEqual(["late"]);
  });

  it("works under json serialization too (detected in the handshake), bytes intact", async () => {
    const { hub: h } = hub();
    const [a, b] = (await workers(h, ["a", "b"], "json")) as [WorkerProcess, WorkerProcess];
    expect(h.serialization("a")).toBe("json");
    const body = bytes(256, 7);
    await b.call({ cmd: "join", nodeId: "m1", labels: { k: "v é" } });
    await eventually(a, (s) => expect(s.view).toEqual(["m1@b:online"]));
    await a.call({ cmd: "send", envelope: { type: "direct", nodeId: "m1", body }, locate: true });
    const sb = await eventually(b, (s) => s.delivered.length === 1);
    expect(sb.delivered[0]).toEqual({ type: "direct", nodeId: "m1", body, from: "a" });
    expect(h.nodes().get("m1")?.labels).toEqual({ k: "v é" });
  });

  it("batches what is sent in one event-loop turn into one IPC message; unbatched sends one per envelope", async () => {
    const { hub: h } = hub();
    const [a, b] = (await workers(h, ["a", "b"])) as [WorkerProcess, WorkerProcess];
    const [c, d] = (await workers(h, ["c", "d"], "advanced", { batching: false })) as [WorkerProcess, WorkerProcess];
    const N = 2_000;
    for (const [from, subject] of [
      [a, "batched"],
      [c, "unbatched"],
    ] as const) {
      const before = (await from.state()).stats.batchesOut as number;
      await from.call({ cmd: "sendMany", count: N, size: 100, subject });
      const after = (await from.state()).stats.batchesOut as number;
      if (subject === "batched") {
        // 2 000 × ~120 bytes: under maxBatchBytes (256 KiB), one batch at the end of the turn.
        expect(after - before).toBeLessThanOrEqual(2);
      } else {
        expect(after - before).toBe(N);
      }
    }
    for (const w of [b, d]) {
      const s = await eventually(w, (x) => x.delivered.length === 2 * N);
      for (const subject of ["batched", "unbatched"]) {
        const got = s.delivered.filter((x) => x.subject === subject);
        expect(got).toHaveLength(N);
        // In order, each body intact.
        expect(got.every((x, i) => x.body.length === 100 && x.body[0] === (i & 0xff) && x.body[99] === 7)).toBe(true);
      }
    }
  });

  it("node:cluster workers: relay, presence and kill -9 work the same", async () => {
    const { hub: h, lost } = hub();
    const [a, b] = (await workers(h, ["a", "b"], "advanced", {}, "cluster")) as [WorkerProcess, WorkerProcess];
    expect(h.serialization("a")).toBe("advanced");
    await a.call({ cmd: "join", nodeId: "n1" });
    await eventually(b, (s) => expect(s.view).toEqual(["n1@a:online"]));
    await b.call({ cmd: "send", envelope: { type: "direct", nodeId: "n1", body: [1, 2] }, locate: true });
    await eventually(a, (s) => expect(s.delivered).toEqual([{ type: "direct", nodeId: "n1", body: [1, 2], from: "b" }]));
    await a.kill9();
    await until(() => lost.length === 1);
    expect(lost).toEqual([{ memberId: "a", nodes: ["n1"] }]);
    await eventually(b, (s) => expect(s.lost).toEqual([{ memberId: "a", nodes: ["n1"] }]));
  });
});
