// The IPC bus's protocol details, in one process: links and hub joined by
// fake channels that copy each message like Node does (structured clone or
// JSON) and deliver it on a later turn. The real-process suite is
// ipc-bus.test.ts.
import { EventEmitter } from "node:events";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { NodeState } from "../../src/gen/hb/internal/v1/bus_pb.js";
import { IpcBatchSchema, MemberSnapshotSchema } from "../../src/gen/hb/internal/v1/ipc_pb.js";
import { describe, expect, it } from "vitest";
import type { BusNode } from "../../src/core/ports/bus-link.js";
import { readIpcBatch } from "../../src/workers/ipc-batch-reader.js";
import { IpcBatchWriter } from "../../src/workers/ipc-batch-writer.js";
import { IpcBusHub } from "../../src/workers/ipc-bus-hub.js";
import { IpcBusLink } from "../../src/workers/ipc-bus-link.js";
import type { IpcSerialization } from "../../src/workers/ipc-bus-message.js";
import {
  type IpcBusHubOptions,
  resolveIpcBusHubOptions,
  resolveIpcBusLinkOptions,
} from "../../src/workers/ipc-bus-options.js";
import {
  IpcFrame,
  decodeFrameString,
  decodeMemberSnapshot,
  encodeFrameString,
  envelopeToHead,
  encodeMemberSnapshot,
  readEnvelopeTo,
} from "../../src/workers/ipc-frame.js";
import type { IpcPort } from "../../src/workers/ipc-port.js";
import { FakeMember, until } from "./fake-member.js";

/** One end of an in-process channel. */
class FakeEnd extends EventEmitter implements IpcPort {
  peer: FakeEnd | undefined;
  connected = true;
  /** While true, send callbacks are held back (a peer that does not read). */
  stalled = false;
  readonly held: (() => void)[] = [];

  constructor(readonly mode: IpcSerialization) {
    super();
  }

  send(message: unknown, callback: (error: Error | null) => void): boolean {
    if (!this.connected) {
      process.nextTick(callback, new Error("channel closed"));
      return false;
    }
    const copy = this.mode === "advanced" ? structuredClone(message) : JSON.parse(JSON.stringify(message));
    const peer = this.peer as FakeEnd;
    setImmediate(() => {
      if (peer.connected) peer.emit("message", copy);
    });
    if (this.stalled) this.held.push(() => callback(null));
    else process.nextTick(callback, null);
    return true;
  }

  /** Closes both ends, like a process exit. */
  disconnect(): void {
    const peer = this.peer as FakeEnd;
    this.connected = false;
    peer.connected = false;
    this.emit("disconnect");
    peer.emit("disconnect");
  }
}

function channel(mode: IpcSerialization = "advanced"): { primary: FakeEnd; worker: FakeEnd } {
  const primary = new FakeEnd(mode);
  const worker = new FakeEnd(mode);
  primary.peer = worker;
  worker.peer = primary;
  return { primary, worker };
}

/** A hub with `ids.length` started workers. */
async function bus(ids: string[], mode: IpcSerialization = "advanced", hubOptions: IpcBusHubOptions = {}) {
  const hub = new IpcBusHub(hubOptions);
  const members: FakeMember[] = [];
  const ends: { primary: FakeEnd; worker: FakeEnd }[] = [];
  for (const id of ids) {
    const ch = channel(mode);
    hub.attach(ch.primary);
    const m = new FakeMember(id, new IpcBusLink({ port: ch.worker }));
    await m.start();
    members.push(m);
    ends.push(ch);
  }
  return { hub, members, ends };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe("IPC frames and batches", () => {
  it("round-trips frames through a batch, in order, as views", () => {
    const w = new IpcBatchWriter(64);
    w.frame(IpcFrame.ENVELOPE, Uint8Array.of(0x10, 1, 2));
    w.frame(IpcFrame.ENVELOPE_TO, new Uint8Array(300).fill(9), envelopeToHead(Buffer.from("w2"), 300));
    w.frame(IpcFrame.LOST, encodeFrameString("w1"));
    expect(w.frames).toBe(3);
    const batch = w.take() as Buffer;
    expect(w.take()).toBeUndefined();
    const seen: [number, number[]][] = [];
    expect(readIpcBatch(batch, (kind, body) => seen.push([kind, [...body]]))).toBe(3);
    expect(seen[0]).toEqual([IpcFrame.ENVELOPE, [0x10, 1, 2]]);
    expect(seen[1]?.[0]).toBe(IpcFrame.ENVELOPE_TO);
    const to = Buffer.from(seen[1]?.[1] ?? []);
    expect(readEnvelopeTo(to)).toEqual({ toMember: "w2", envelopeAt: 7 });
    expect(to.subarray(7)).toEqual(Buffer.alloc(300, 9));
    expect(seen[2]?.[0]).toBe(IpcFrame.LOST);
    expect(decodeFrameString(Uint8Array.from(seen[2]?.[1] ?? []))).toBe("w1");
    // A view, not a copy.
    readIpcBatch(batch, (_kind, body) => expect(body.buffer).toBe(batch.buffer));
    // The hb.internal.v1.IpcBatch of the schema.
    const valid = new IpcBatchWriter();
    const env = Buffer.of(0x0a, 2, 0x77, 0x31, 0x10, 3, 0x1a, 1, 0x78); // from "w1", broadcast, except "x"
    valid.frame(IpcFrame.ENVELOPE, env);
    valid.frame(IpcFrame.ENVELOPE_TO, env, envelopeToHead(Buffer.from("w2"), env.length));
    valid.frame(IpcFrame.LOST, encodeFrameString("w1"));
    const generated = fromBinary(IpcBatchSchema, valid.take() as Buffer);
    expect([generated.envelope[0]?.fromMember, generated.envelopeTo.map((e) => [e.toMember, e.envelope?.key]), generated.lost]).toEqual([
      "w1",
      [["w2", "x"]],
      ["w1"],
    ]);
    expect(() => readIpcBatch(batch.subarray(0, batch.length - 1), () => {})).toThrow(RangeError);
  });

  it("round-trips member snapshots", () => {
    const nodes: BusNode[] = [
      { nodeId: "n1", labels: { zone: "eu", "é": "ü" }, state: "online", memberId: "w1" },
      { nodeId: "n2", labels: {}, state: "suspect", memberId: "w1" },
    ];
    const body = encodeMemberSnapshot("w1", nodes);
    expect(decodeMemberSnapshot(body)).toEqual({ memberId: "w1", nodes });
    expect(decodeMemberSnapshot(encodeMemberSnapshot("w2", []))).toEqual({ memberId: "w2", nodes: [] });
    // The hb.internal.v1.MemberSnapshot of the schema, both ways.
    const generated = fromBinary(MemberSnapshotSchema, body);
    expect(generated.memberId).toBe("w1");
    expect(generated.nodes.map((n) => [n.nodeId, n.entry?.state, n.entry?.labels])).toEqual([
      ["n1", NodeState.ONLINE, { zone: "eu", "é": "ü" }],
      ["n2", NodeState.SUSPECT, {}],
    ]);
    expect(decodeMemberSnapshot(toBinary(MemberSnapshotSchema, generated))).toEqual({ memberId: "w1", nodes });
    expect(() => decodeMemberSnapshot(body.subarray(0, body.length - 2))).toThrow(RangeError);
    expect(() => readEnvelopeTo(Buffer.concat([envelopeToHead(Buffer.from("w2"), 5), Buffer.alloc(4)]))).toThrow(RangeError);
  });

  it("validates options", () => {
    expect(resolveIpcBusLinkOptions()).toMatchObject({ batching: true, maxBatchBytes: 262_144, startTimeout: 10_000 });
    expect(resolveIpcBusHubOptions()).toMatchObject({ memberId: "primary", maxBacklogBytes: 64 * 1024 * 1024 });
    expect(() => resolveIpcBusLinkOptions({ maxBatchBytes: 10 })).toThrow(/maxBatchBytes must be an integer in 1024/);
    expect(() => resolveIpcBusHubOptions({ memberId: "" })).toThrow(TypeError);
    expect(() => new IpcBusLink({ startTimeout: 0 })).toThrow(RangeError);
  });
});

describe("IPC bus protocol (in-process channels)", () => {
  it("a takeover across workers is reported as left replaced then joined, at the hub and at the old holder", async () => {
    const { hub, members } = await bus(["a", "b", "c"]);
    const [a, b, c] = members as [FakeMember, FakeMember, FakeMember];
    const events: string[] = [];
    hub.on("presence", (e) => events.push(`${e.kind} ${e.nodeId} ${e.reason} @${e.memberId}`));
    a.join("x");
    await until(() => hub.locate("x") === "a");
    b.join("x", {}, "replaced");
    await until(() => a.story("x").length === 1);
    expect(a.story("x")).toEqual(["joined replaced @b"]);
    a.leave("x", "left", "replaced");
    await until(() => c.story("x").length === 3);
    expect(c.story("x")).toEqual(["joined hello @a", "left replaced @a", "joined replaced @b"]);
    expect(events).toEqual(["joined x hello @a", "left x replaced @a", "joined x replaced @b"]);
    expect(hub.locate("x")).toBe("b");
  });

  it("a batch of 50 barriers is answered in one IPC message per worker, each answer after the others have the change", async () => {
    const { hub, members } = await bus(["a", "b", "c"]);
    const [a, b, c] = members as [FakeMember, FakeMember, FakeMember];
    await turns();
    const before = hub.stats().batchesOut as number;
    // 50 Hellos handled in one turn of worker a: an announcement and a barrier each.
    const answered: string[][] = [];
    const all = Array.from({ length: 50 }, (_, i) => {
      a.join(`n${i}`);
      return new Promise<void>((resolve) =>
        (a.link as IpcBusLink).sync(() => {
          // What b and c know when a's barrier for n<i> is answered.
          answered.push([b.view().includes(`n${i}@a:online`) ? "b" : "-", c.view().includes(`n${i}@a:online`) ? "c" : "-"]);
          resolve();
        }),
      );
    });
    await Promise.all(all);
    expect(answered).toEqual(Array.from({ length: 50 }, () => ["b", "c"]));
    // One batch to each of b and c, one to a (its 50 answers): not one per barrier.
    expect((hub.stats().batchesOut as number) - before).toBe(3);
    expect(hub.stats().syncs).toBe(50);
  });

  it("changes announced while starting go out before the start snapshot, with their reasons", async () => {
    const hub = new IpcBusHub();
    const seen: string[] = [];
    hub.on("presence", (e) => seen.push(`${e.kind} ${e.nodeId} ${e.reason}`));
    const ch = channel();
    hub.attach(ch.primary);
    const m = new FakeMember("a", new IpcBusLink({ port: ch.worker }));
    const started = m.start();
    m.join("n1", {}, "attach");
    await started;
    await until(() => seen.length === 1);
    await turns();
    expect(seen).toEqual(["joined n1 attach"]);
  });

  it("ignores foreign messages and counts malformed ones, without breaking the relay", async () => {
    const { hub, members, ends } = await bus(["a", "b"], "json");
    const [a, b] = members as [FakeMember, FakeMember];
    const w = ends[0]?.worker as FakeEnd;
    const noop = () => {};
    w.send({ cmd: "drain" }, noop); // the integrator's own message
    w.send({ hbBus: 1, t: "batch", d: 42 }, noop);
    w.send({ hbBus: 1, t: "batch", d: Buffer.from([5, 1]).toString("base64") }, noop); // truncated frame
    const forged = new IpcBatchWriter();
    forged.frame(IpcFrame.MEMBER, encodeMemberSnapshot("b", [{ nodeId: "z", labels: {}, state: "online", memberId: "b" }]));
    w.send({ hbBus: 1, t: "batch", d: forged.take()?.toString("base64") }, noop); // a speaks for b
    a.link.send({ type: "publish", subject: "s", body: Uint8Array.of(1) });
    await until(() => b.delivered.length === 1);
    expect(hub.stats()).toMatchObject({ decodeErrors: 2, protocolErrors: 1 });
    expect(hub.locate("z")).toBeUndefined();
    (ends[0]?.primary as FakeEnd).send({ other: true }, noop);
    await turns();
    expect(a.link.stats().decodeErrors).toBe(0);
  });

  it("drops relayed messages for a worker that does not read, never presence", async () => {
    const { hub, members, ends } = await bus(["a", "b"], "advanced", { maxBacklogBytes: 65_536 });
    const [a, b] = members as [FakeMember, FakeMember];
    (ends[1]?.primary as FakeEnd).stalled = true; // b's writes never complete
    const body = new Uint8Array(100);
    for (let turn = 0; turn < 3; turn++) {
      for (let i = 0; i < 1_000; i++) a.link.send({ type: "publish", subject: "s", body });
      await turns(2);
    }
    a.join("n1");
    await until(() => b.story("n1").length === 1);
    const dropped = () => hub.stats().dropped ?? 0;
    expect(dropped()).toBeGreaterThan(0);
    expect(b.delivered.length).toBe(3_000 - dropped());
    for (const done of (ends[1]?.primary as FakeEnd).held.splice(0)) done();
    a.link.send({ type: "publish", subject: "s", body });
    await until(() => b.delivered.length === 3_001 - dropped());
  });

  it("the worker's link: degraded once the primary is gone; start times out without a hub", async () => {
    const { members, ends } = await bus(["a"]);
    const [a] = members as [FakeMember];
    (ends[0]?.worker as FakeEnd).disconnect();
    expect(a.link.health()).toEqual({ state: "degraded", detail: "IPC channel to the primary closed" });
    a.link.send({ type: "publish", subject: "s", body: Uint8Array.of(1) });
    expect(a.link.stats().dropped).toBe(1);
    await a.link.close();

    const lonely = new IpcBusLink({ port: channel().worker, startTimeout: 50 });
    await expect(new FakeMember("x", lonely).start()).rejects.toThrow(/startTimeout \(50 ms\)/);
    expect(lonely.health().state).toBe("degraded");
    const closing = new IpcBusLink({ port: channel().worker });
    const start = new FakeMember("y", closing).start();
    await closing.close();
    await expect(start).rejects.toThrow(/closed before/);
  });
});
