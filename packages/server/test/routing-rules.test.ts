// The routing rules of PROTOCOL.md §10, fed frames directly: the server core
// with in-memory sessions and a fake clock (no socket).
import { DeliveryKind, ErrorCode, type Frame, OverflowPolicy, PresenceKind, makeFrame } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { FakeCore, type FakePeer, settle } from "./fake-core.js";

// biome-ignore lint/suspicious/noExplicitAny: test helper, each caller reads the fields of its frame type
const bodies = (p: FakePeer, kind: Frame["body"]["case"]): any[] =>
  p.frames.filter((f) => f.body.case === kind).map((f) => ({ channel: f.channel, ...(f.body.value as object) }));

describe("routing rules (fake clock, no sockets)", () => {
  it("a publish reaches exact and wildcard subscriptions on their own channels, once each, never the $hb. space", async () => {
    const f = new FakeCore();
    const sub = f.hello("sub");
    const pub = f.hello("pub");
    sub.send(
      makeFrame("subscribe", { requestId: 1, subject: "a.b" }),
      makeFrame("subscribe", { requestId: 2, subject: "a.*" }),
      makeFrame("subscribe", { requestId: 3, subject: "x.>" }),
    );
    pub.send(makeFrame("publish", { subject: "a.b", payload: new Uint8Array([7]) }));
    await settle();
    expect((bodies(sub, "subscribed") as { channel: number }[]).map((s) => s.channel)).toEqual([1, 2, 3]);
    const deliveries = bodies(sub, "delivery") as { channel: number; kind: DeliveryKind; subject: string; fromNodeId: string }[];
    expect(deliveries.map((d) => [d.channel, d.kind, d.subject, d.fromNodeId])).toEqual([
      [1, DeliveryKind.PUBLISH, "a.b", "pub"],
      [2, DeliveryKind.PUBLISH, "a.b", "pub"],
    ]);
    pub.send(makeFrame("publish", { requestId: 9n, subject: "$hb.presence", payload: new Uint8Array([1]) }));
    await settle();
    const refused = bodies(pub, "error") as { code: ErrorCode; ref: bigint; fatal: boolean }[];
    expect(refused.map((e) => [e.code, e.ref, e.fatal])).toEqual([[ErrorCode.FORBIDDEN, 9n, false]]);
  });

  it("a Send reaches its node (with to_node_id for an attached one); an offline target is UNKNOWN_NODE", async () => {
    const f = new FakeCore();
    const a = f.hello("a");
    const gw = f.hello("gw");
    gw.send(makeFrame("attach", { handle: 5, nodeId: "dev" }));
    a.send(makeFrame("send", { nodeId: "gw", payload: new Uint8Array([1]) }));
    a.send(makeFrame("send", { nodeId: "dev", payload: new Uint8Array([2]) }));
    a.send(makeFrame("send", { nodeId: "nobody", payload: new Uint8Array([3]) }));
    await settle();
    const got = bodies(gw, "delivery") as { kind: DeliveryKind; fromNodeId: string; toNodeId: string; payload: Uint8Array }[];
    expect(got.map((d) => [d.kind, d.fromNodeId, d.toNodeId, [...d.payload]])).toEqual([
      [DeliveryKind.DIRECT, "a", "", [1]],
      [DeliveryKind.DIRECT, "a", "dev", [2]],
    ]);
    expect((bodies(a, "error") as { code: ErrorCode }[]).map((e) => e.code)).toEqual([ErrorCode.UNKNOWN_NODE]);
    expect(f.stats.dropped.unknownNode).toBe(1);
  });

  it("a drop-newest subscription of 2 keeps the first 2 of a burst and counts the rest", async () => {
    const f = new FakeCore();
    const sub = f.hello("sub");
    const pub = f.hello("pub");
    sub.send(makeFrame("subscribe", { requestId: 1, subject: "t", queueSize: 2, overflow: OverflowPolicy.DROP_NEWEST }));
    await settle();
    // Hold the writer: the transport reports a full buffer until drained.
    sub.transport.writableLength = 10 * 1024 * 1024;
    pub.send(makeFrame("publish", { subject: "t", payload: new Uint8Array([0]) }));
    await settle();
    for (let i = 1; i <= 5; i++) pub.send(makeFrame("publish", { subject: "t", payload: new Uint8Array([i]) }));
    sub.transport.writableLength = 0;
    sub.session.transportDrained();
    await settle();
    const payloads = (bodies(sub, "delivery") as { payload: Uint8Array }[]).map((d) => d.payload[0]);
    expect(payloads).toEqual([0, 1, 2]);
    expect(f.stats.dropped.dropNewest).toBe(3);
  });

  it("presence: a snapshot first, then live changes, filtered by labels, in the order observed", async () => {
    const f = new FakeCore({ heartbeatInterval: 1_000, minHeartbeatInterval: 100, heartbeatTimeout: 4_000, heartbeatCheckInterval: 100 });
    f.hello("old", { labels: { zone: "a" } });
    f.hello("other", { labels: { zone: "b" } });
    const w = f.hello("watcher", { heartbeatIntervalMs: 1_000 });
    w.send(makeFrame("subscribe", { requestId: 1, subject: "$hb.presence", snapshot: true, labelFilter: { zone: "a" } }));
    const late = f.hello("late", { labels: { zone: "a" } });
    await settle();
    for (let t = 500; t <= 5_000; t += 500) {
      f.clock.t = t;
      w.send(makeFrame("heartbeat", { seq: 1n }));
      late.send(makeFrame("heartbeat", { seq: 1n }));
      f.advance(t);
    }
    await settle();
    const events = (bodies(w, "presence") as { kind: PresenceKind; nodeId: string; reason: string }[]).map(
      (e) => `${PresenceKind[e.kind]} ${e.nodeId} ${e.reason}`,
    );
    expect(events).toEqual([
      "JOINED old snapshot",
      "JOINED late hello",
      "SUSPECT old heartbeat_missed",
      "TIMED_OUT old heartbeat_timeout",
    ]);
  });
});
