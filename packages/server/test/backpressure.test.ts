import { type DisconnectInfo, ErrorCode, type Message } from "@hb/client";
import { describe, expect, it } from "vitest";
import { collect, useChannelFixture } from "./channel-helpers.js";
import { sleep, waitFor } from "./raw-peer.js";

const fx = useChannelFixture();
const seqOf = (m: Message) => new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0);
const numbered = (i: number, size = 4) => {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, i);
  return p;
};

describe("queues, overflow policies and backpressure", () => {
  it("each overflow policy does what it says, and every drop is counted", async () => {
    const { server, port } = await fx.server();
    const oldest = await fx.client(port, "oldest");
    const newest = await fx.client(port, "newest");
    const strict = await fx.client(port, "strict");
    const subOld = oldest.subscribe("q", { queueSize: 10, overflow: "drop-oldest" });
    const subNew = newest.subscribe("q", { queueSize: 10, overflow: "drop-newest" });
    const subStrict = strict.subscribe("q", { queueSize: 10, overflow: "disconnect" });
    const gotOld = collect(subOld);
    const gotNew = collect(subNew);
    await Promise.all([subOld.ready, subNew.ready, subStrict.ready]);
    const lost = new Promise<DisconnectInfo>((resolve) => strict.once("disconnect", resolve));
    // 50 messages in one event-loop turn: nothing is written before the queues are full.
    const queued = Array.from({ length: 50 }, (_, i) => server.publish("q", numbered(i)));
    expect(queued.slice(0, 10)).toEqual(Array(10).fill(3));
    expect(queued.slice(10)).toEqual(Array(40).fill(1)); // drop-newest refused them; the strict one is closing
    expect((await lost).error).toMatchObject({ code: ErrorCode.SLOW_CONSUMER });
    await waitFor(() => gotOld.length === 10 && gotNew.length === 10);
    await sleep(20);
    expect(gotOld.map(seqOf)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]); // the newest survive
    expect(gotNew.map(seqOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // the oldest survive
    expect(server.subscriptions("oldest")[0]).toMatchObject({ overflow: "drop-oldest", queueSize: 10, dropped: 40 });
    expect(server.subscriptions("newest")[0]).toMatchObject({ overflow: "drop-newest", queueSize: 10, dropped: 40 });
    const s = server.stats();
    expect(s.dropped).toMatchObject({ dropOldest: 40, dropNewest: 40, slowConsumer: 1 });
    expect(s.errors.SLOW_CONSUMER).toBe(1);
    await waitFor(() => server.get("strict") === undefined);
    expect(server.stats().queuedBytes).toBe(0); // the gauge does not leak through drops and closes
  });

  it("queue_size 0 takes channelMaxQueueSize; larger ones are clamped to maxSubscriptionQueueSize", async () => {
    const { server, port } = await fx.server({ channelMaxQueueSize: 7, maxSubscriptionQueueSize: 50 });
    const c = await fx.client(port, "c");
    await c.subscribe("a").ready;
    await c.subscribe("b", { queueSize: 1_000_000 }).ready;
    expect(server.subscriptions("c").map((s) => s.queueSize)).toEqual([7, 50]);
  });

  it("a consumer that stops reading keeps server memory bounded while another one gets all 200 MB at full speed", async () => {
    const N = 12_800;
    const SIZE = 16 * 1024; // 200 MiB in all
    const { server, port } = await fx.server({
      rateLimit: { framesPerSecond: 1_000_000, burst: 1_000_000 },
      heartbeatTimeout: 20_000, // a busy 2-core test box must not time anyone out
    });
    const slow = await fx.raw(port, false);
    await slow.hello({ nodeId: "slow" });
    slow.send("subscribe", { requestId: 1, subject: "bulk" }); // default queue (1 000), drop-oldest
    await waitFor(() => slow.count("subscribed") === 1);
    slow.socket.pause(); // reads nothing from now on…
    const keepAlive = setInterval(() => slow.heartbeat(), 200); // …but is alive
    const fast = await fx.client(port, "fast");
    const pub = await fx.client(port, "pub");
    const sub = fast.subscribe("bulk", { queueSize: 20_000 });
    let received = 0;
    let inOrder = true;
    sub.on("message", (m) => {
      if (seqOf(m) !== received) inOrder = false;
      received++;
    });
    await sub.ready;
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxQueued = Math.max(maxQueued, server.stats().queuedBytes);
    }, 10);
    const t0 = performance.now();
    try {
      for (let i = 0; i < N; i++) await pub.publish("bulk", numbered(i, SIZE));
      await waitFor(() => received === N, 60_000, "all 200 MB at the fast consumer");
    } finally {
      clearInterval(sampler);
      clearInterval(keepAlive);
    }
    const seconds = (performance.now() - t0) / 1000;
    const [slowSub] = server.subscriptions("slow");
    const [fastSub] = server.subscriptions("fast");
    console.log(
      `200 MiB to a fast and a stalled subscriber in ${seconds.toFixed(1)} s (${((N * SIZE) / 2 ** 20 / seconds).toFixed(0)} MiB/s); ` +
        `max queued ${(maxQueued / 2 ** 20).toFixed(1)} MiB; stalled one dropped ${slowSub?.dropped}`,
    );
    expect(inOrder).toBe(true);
    expect(fastSub?.dropped).toBe(0);
    // The stalled subscriber holds at most its 1 000 queued messages (plus what its socket took).
    expect(slowSub?.dropped).toBeGreaterThan(N / 2);
    expect(maxQueued).toBeLessThan(48 * 2 ** 20);
    expect(server.stats().queuedBytes).toBeLessThan(20 * 2 ** 20);
    expect(server.get("slow")?.state).toBe("online");
    slow.destroy();
    await waitFor(() => server.stats().queuedBytes === 0, 5_000, "queues released");
  }, 90_000);

  it("heartbeat RTT stays low while another channel of the same connection streams large (fragmented) messages", async () => {
    const { server, port } = await fx.server({ heartbeatInterval: 50, minHeartbeatInterval: 50 });
    const c = await fx.client(port, "busy", { heartbeatInterval: 50 });
    const sub = c.subscribe("bulk", { queueSize: 100 });
    let bytes = 0;
    sub.on("message", (m) => {
      bytes += m.payload.length;
    });
    await sub.ready;
    const rtts: number[] = [];
    c.on("heartbeat", (h) => rtts.push(h.rtt));
    const payload = new Uint8Array(2 * 2 ** 20).fill(1); // 2 MiB: over the client's 1 MiB frames, so fragmented
    const until = performance.now() + 1_500;
    await new Promise<void>((resolve) => {
      const pump = () => {
        if (performance.now() > until) return resolve();
        if (server.stats().queuedBytes < 8 * 2 ** 20) server.publish("bulk", payload);
        setImmediate(pump);
      };
      pump();
    });
    const sorted = [...rtts].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)] as number;
    console.log(
      `heartbeat RTT while streaming ${(bytes / 2 ** 20).toFixed(0)} MiB: ${rtts.length} acks, ` +
        `median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`,
    );
    expect(bytes).toBeGreaterThan(20 * 2 ** 20);
    expect(rtts.length).toBeGreaterThan(10);
    expect(p90).toBeLessThan(50);
  });
});
