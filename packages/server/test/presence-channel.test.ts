import type { PresenceNotice } from "@hb/client";
import { ErrorCode, FrameEncoder, OverflowPolicy, PresenceKind, makeFrame } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { collect, useChannelFixture } from "./channel-helpers.js";
import { sleep, waitFor } from "./raw-peer.js";

const fx = useChannelFixture();

describe("presence as the $hb.presence channel", () => {
  it("delivers join, suspect, recover, timeout and leave events, filtered by labels", async () => {
    const { server, port } = await fx.server();
    const watcher = await fx.client(port, "watcher");
    const all = watcher.watchPresence();
    const lab = watcher.watchPresence({ labels: { room: "lab" } });
    const allEvents = collect<PresenceNotice>(all);
    const labEvents = collect<PresenceNotice>(lab);
    await Promise.all([all.ready, lab.ready]);

    const quiet = await fx.raw(port);
    await quiet.hello({ nodeId: "quiet", labels: { room: "lab", kind: "sensor" }, heartbeatIntervalMs: 200 });
    await waitFor(() => labEvents.some((e) => e.kind === "suspect"), 2_000, "suspect"); // silent for 1.5 × 200 ms
    quiet.heartbeat();
    await waitFor(() => labEvents.some((e) => e.kind === "recovered"), 2_000, "recovered");
    await waitFor(() => labEvents.some((e) => e.kind === "timed_out"), 3_000, "timed out"); // silent again
    const office = await fx.client(port, "office", { metadata: { room: "office" } });
    await office.close();
    await waitFor(() => allEvents.filter((e) => e.nodeId === "office").length === 2);

    const story = (events: PresenceNotice[], id: string) =>
      events.filter((e) => e.nodeId === id).map((e) => `${e.kind} ${e.reason}`);
    const quietStory = [
      "joined hello",
      "suspect heartbeat_missed",
      "recovered heartbeat",
      "suspect heartbeat_missed",
      "timed_out heartbeat_timeout",
    ];
    expect(story(labEvents, "quiet")).toEqual(quietStory);
    expect(story(allEvents, "quiet")).toEqual(quietStory);
    expect(story(allEvents, "office")).toEqual(["joined hello", "left goodbye"]);
    expect(story(labEvents, "office")).toEqual([]); // filtered out
    expect(labEvents[0]).toMatchObject({ labels: { room: "lab", kind: "sensor" }, serverId: server.options.serverId });
    expect(Math.abs((labEvents[0] as PresenceNotice).time - Date.now())).toBeLessThan(5_000);
    const presenceSubs = server.subscriptions("watcher");
    expect(presenceSubs.map((s) => [s.subject, s.labelFilter])).toEqual([
      ["$hb.presence", {}],
      ["$hb.presence", { room: "lab" }],
    ]);
    expect(server.stats().channels).toBe(1);
  });

  it("snapshot: Subscribed, then one JOINED `snapshot` per matching node online or suspect, then live events", async () => {
    const { server, port } = await fx.server();
    await fx.client(port, "eu-1", { metadata: { region: "eu" } });
    await fx.client(port, "eu-2", { metadata: { region: "eu", tier: "gold" } });
    await fx.client(port, "us-1", { metadata: { region: "us" } });
    const gw = await fx.client(port, "gw");
    await gw.attach("eu-dev", { region: "eu" });
    const p = await fx.raw(port);
    await p.hello({ nodeId: "watcher", labels: { region: "eu" } });
    p.send("subscribe", { requestId: 7, subject: "$hb.presence", snapshot: true, labelFilter: { region: "eu" } });
    const subscribed = await p.nextOf(["subscribed"]);
    expect(subscribed.body.value).toMatchObject({ requestId: 7, channel: 1, subject: "$hb.presence" });
    await waitFor(() => p.received.filter((f) => f.body.case === "presence").length === 4);
    const late = await fx.client(port, "eu-3", { metadata: { region: "eu" } });
    await fx.client(port, "us-2", { metadata: { region: "us" } });
    await late.close();
    await waitFor(() => p.received.filter((f) => f.body.case === "presence").length === 6);
    await sleep(30);
    const frames = p.received.filter((f) => f.body.case === "subscribed" || f.body.case === "presence");
    expect(frames[0]?.body.case).toBe("subscribed"); // before any frame of its channel
    const events = frames.slice(1).map((f) => {
      expect(f.channel).toBe(1);
      const e = f.body.value as { kind: PresenceKind; nodeId: string; reason: string };
      return `${PresenceKind[e.kind]} ${e.nodeId} ${e.reason}`;
    });
    expect(events.slice(0, 4).sort()).toEqual([
      "JOINED eu-1 snapshot",
      "JOINED eu-2 snapshot",
      "JOINED eu-dev snapshot",
      "JOINED watcher snapshot", // its own node too
    ]);
    expect(events.slice(4)).toEqual(["JOINED eu-3 hello", "LEFT eu-3 goodbye"]);
    expect(server.stats().routed.presence).toBeGreaterThanOrEqual(2);
  });

  it("a snapshot larger than the subscription's queue arrives whole (streamed outside the overflow queue), then live events", async () => {
    const { server, port } = await fx.server();
    const ids = Array.from({ length: 40 }, (_, i) => `n${i}`);
    for (const id of ids) await (await fx.raw(port)).hello({ nodeId: id });
    const p = await fx.raw(port);
    await p.hello({ nodeId: "watcher" });
    p.send("subscribe", {
      requestId: 1,
      subject: "$hb.presence",
      overflow: OverflowPolicy.DISCONNECT,
      queueSize: 2,
      snapshot: true,
    });
    const seen: string[] = [];
    for (let i = 0; i < ids.length + 1; i++) {
      const ev = await p.next("presence");
      expect(ev).toMatchObject({ kind: PresenceKind.JOINED, reason: "snapshot" });
      seen.push(ev.nodeId);
    }
    expect(seen.sort()).toEqual([...ids, "watcher"].sort());
    // Then live events, in order.
    await (await fx.raw(port)).hello({ nodeId: "late" });
    expect(await p.next("presence")).toMatchObject({ kind: PresenceKind.JOINED, nodeId: "late", reason: "hello" });
    expect(p.count("error")).toBe(0);
    expect(server.stats().dropped.slowConsumer).toBe(0);
  });

  it("live events still go through the subscription's queue: a disconnect-policy queue that overflows is SLOW_CONSUMER", async () => {
    const { server, port } = await fx.server();
    const p = await fx.raw(port);
    await p.hello({ nodeId: "watcher" });
    p.send("subscribe", { requestId: 1, subject: "$hb.presence", overflow: OverflowPolicy.DISCONNECT, queueSize: 2 });
    await p.next("subscribed");
    // 20 joins from one write (a gateway attaching): far more than two events queued before a flush, whatever
    // the machine's load (three Hellos on three connections could be read in three turns).
    const gw = await fx.raw(port);
    await gw.hello({ nodeId: "gw" });
    const enc = new FrameEncoder();
    for (let i = 1; i <= 20; i++) enc.add(makeFrame("attach", { handle: i, nodeId: `x${i}` }));
    gw.sendRaw(enc.finish());
    const err = await p.error();
    expect(err).toMatchObject({ code: ErrorCode.SLOW_CONSUMER, fatal: true });
    await p.closed;
    expect(server.stats().dropped.slowConsumer).toBe(1);
    await waitFor(() => server.get("watcher") === undefined);
  });
});
