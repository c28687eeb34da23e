import { randomBytes } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import {
  type Delivery,
  DeliveryKind,
  ErrorCode,
  type Fragment,
  FragmentAssembler,
  FrameSchema,
  encodeFrame,
  fragmentFrame,
  makeFrame,
} from "@hb/codec";
import { describe, expect, it } from "vitest";
import { useChannelFixture, utf8 } from "./channel-helpers.js";
import type { RawPeer } from "./raw-peer.js";
import { waitFor } from "./raw-peer.js";

const fx = useChannelFixture();

/** Sends a frame as fragments of `piece` bytes of data, one write each. */
function sendFragmented(p: RawPeer, frame: ReturnType<typeof makeFrame>, id: number, piece: number): number {
  let n = 0;
  for (const f of fragmentFrame(frame, { id, maxFrameSize: piece + 64 })) {
    p.send("fragment", f.body.value as never, f.channel);
    n++;
  }
  return n;
}

describe("fragments", () => {
  it("20 subscriptions each get a frame above the client's max_frame_size at once: a strict assembler gets all, never more than 16 open (§11 rule 5)", async () => {
    const { port } = await fx.server({ maxMessageSize: 64 * 1024 });
    const rx = await fx.raw(port);
    const welcome = await rx.hello({ nodeId: "strict", maxFrameSize: 1024 });
    for (let i = 1; i <= 20; i++) {
      rx.send("subscribe", { requestId: i, subject: `wide.${i}` });
      await rx.next("subscribed");
    }
    const tx = await fx.raw(port);
    await tx.hello({ nodeId: "wide-tx" });
    // Twenty 5,000-byte messages in one write: all ready for `strict` in the same turn.
    for (let i = 1; i <= 20; i++) tx.send("publish", { subject: `wide.${i}`, payload: new Uint8Array(5000).fill(i) });
    const strict = new FragmentAssembler({ maxMessageSize: Number(welcome.maxMessageSize), maxConcurrent: 16 });
    let maxOpen = 0;
    const got: number[] = [];
    while (got.length < 20) {
      const f = await rx.nextOf(["fragment"], 10_000);
      const whole = strict.push(f.body.value as Fragment); // throws MESSAGE_TOO_LARGE on a 17th open message
      maxOpen = Math.max(maxOpen, strict.pending);
      if (whole?.body.case === "delivery") {
        const p = whole.body.value.payload;
        expect(p.length).toBe(5000);
        expect(p.every((b) => b === p[0])).toBe(true);
        got.push(p[0] as number);
      }
    }
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(maxOpen).toBeLessThanOrEqual(16);
    expect(rx.count("error")).toBe(0);
  });

  it("a 50 MB message goes client → server → subscriber as fragments and arrives byte for byte", async () => {
    const { server, port } = await fx.server();
    const sender = await fx.client(port, "sender");
    const receiver = await fx.client(port, "receiver");
    expect(sender.welcome).toMatchObject({ maxMessageSize: 64 * 2 ** 20, initialWindow: 8 * 2 ** 20, maxFrameSize: 2 ** 20 });
    const sub = receiver.subscribe("big.blob");
    await sub.ready;
    const payload = randomBytes(50 * 1000 * 1000);
    const t0 = performance.now();
    const arrived = (async () => {
      for await (const m of sub) return m;
    })();
    await sender.publish("big.blob", payload);
    const m = await arrived;
    console.log(`50 MB through the server in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(m?.from).toBe("sender");
    expect(m?.payload.length).toBe(payload.length);
    expect(Buffer.compare(Buffer.from(m?.payload as Uint8Array), payload)).toBe(0);
    const s = server.stats();
    expect(s.reassembled).toBe(1);
    expect(s.windowUpdates).toBeGreaterThan(5); // the 8 MiB window was credited back as the pieces came in
    expect(receiver.stats().framesIn).toBeGreaterThan(700); // ≤ 64 KiB fragments
  });

  it("a client announcing max_frame_size 1024 gets larger frames as fragments (or, with fragments off, not at all)", async () => {
    for (const maxMessageSize of [64 * 1024, 0]) {
      const { server, port } = await fx.server({ maxMessageSize });
      const p = await fx.raw(port);
      await p.hello({ nodeId: "tiny", maxFrameSize: 1024 });
      p.send("subscribe", { requestId: 1, subject: "s" });
      await p.next("subscribed");
      const payload = randomBytes(5000);
      expect(server.publish("s", payload)).toBe(maxMessageSize > 0 ? 1 : 0);
      expect(server.publish("s", utf8("small"))).toBe(1);
      const small = await p.next("delivery");
      expect(new TextDecoder().decode(small.payload)).toBe("small");
      const fragments = p.drain("fragment");
      if (maxMessageSize === 0) {
        expect(fragments).toEqual([]);
        expect(server.stats().dropped.tooLarge).toBe(1);
        expect(server.subscriptions("tiny")[0]?.dropped).toBe(1);
        continue;
      }
      // Every fragment fits 1024 bytes; reassembled they are the Delivery.
      for (const f of p.received.filter((x) => x.body.case === "fragment")) {
        expect(toBinary(FrameSchema, f).length).toBeLessThanOrEqual(1024);
      }
      const asm = new FragmentAssembler();
      let whole: ReturnType<FragmentAssembler["push"]>;
      for (const f of fragments) whole = asm.push(f) ?? whole;
      expect(whole?.channel).toBe(1);
      const d = whole?.body.value as Delivery;
      expect(d.kind).toBe(DeliveryKind.PUBLISH);
      expect(Buffer.compare(Buffer.from(d.payload), payload)).toBe(0);
    }
  });

  it("an oversize or unfinished fragment stream is fatal (MESSAGE_TOO_LARGE / PROTOCOL_VIOLATION)", async () => {
    const { port } = await fx.server({ maxMessageSize: 4096 });
    const big = await fx.raw(port);
    await big.hello({ nodeId: "big" });
    big.send("fragment", { id: 1, totalLength: 5000n, data: new Uint8Array(100) });
    expect(await big.error()).toMatchObject({ code: ErrorCode.MESSAGE_TOO_LARGE, fatal: true });
    const liar = await fx.raw(port);
    await liar.hello({ nodeId: "liar" });
    liar.send("fragment", { id: 1, totalLength: 100n, data: new Uint8Array(60) });
    liar.send("fragment", { id: 1, data: new Uint8Array(60), final: true });
    expect(await liar.error()).toMatchObject({ code: ErrorCode.PROTOCOL_VIOLATION, fatal: true });
    const nested = await fx.raw(port);
    await nested.hello({ nodeId: "nested" });
    const inner = toBinary(FrameSchema, makeFrame("fragment", { id: 9, totalLength: 3n, data: new Uint8Array(3), final: true }));
    nested.send("fragment", { id: 1, totalLength: BigInt(inner.length), data: inner, final: true });
    expect(await nested.error()).toMatchObject({ code: ErrorCode.PROTOCOL_VIOLATION, fatal: true });
  });

  it("fragments draw from their own rate budget (64 KiB per token): a large message passes a tight frame limit, a flood of tiny fragments does not", async () => {
    const { port } = await fx.server({ rateLimit: { framesPerSecond: 5, burst: 20 } });
    const p = await fx.raw(port);
    await p.hello({ nodeId: "frag" });
    p.send("subscribe", { requestId: 1, subject: "me" });
    await p.next("subscribed");
    const payload = randomBytes(1024 * 1024);
    const n = sendFragmented(p, makeFrame("publish", { subject: "me", payload }), 1, 65_536 - 64);
    expect(n).toBe(17); // 17 frames: more than the frame bucket's burst of 20 leaves room for
    p.heartbeat();
    await p.next("heartbeatAck");
    await waitFor(() => p.count("fragment") > 0 || p.count("delivery") > 0, 5_000);
    const flood = await fx.raw(port);
    await flood.hello({ nodeId: "flood" });
    for (let i = 0; i < 30; i++) flood.send("fragment", { id: 100, totalLength: i === 0 ? 1000n : 0n, data: new Uint8Array(1) });
    expect(await flood.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED, fatal: true });
  });
});

describe("flow control", () => {
  it("credits payload bytes back with WindowUpdate; a client that exceeds its window gets FLOW_CONTROL", async () => {
    const { server, port } = await fx.server({ publishWindow: 4096 });
    const p = await fx.raw(port);
    const w = await p.hello({ nodeId: "flow" });
    expect(w.initialWindow).toBe(4096n);
    p.send("publish", { subject: "x", payload: new Uint8Array(3000) });
    expect((await p.next("windowUpdate")).credit).toBe(3000n); // at the end of the read batch
    p.send("send", { nodeId: "flow", payload: new Uint8Array(4000) });
    expect((await p.next("windowUpdate")).credit).toBe(4000n);
    await p.next("delivery"); // sent to itself
    // A frame larger than the whole window (no fragments): over the limit.
    p.send("publish", { subject: "x", payload: new Uint8Array(5000) });
    expect(await p.error()).toMatchObject({ code: ErrorCode.FLOW_CONTROL, fatal: true });
    await p.closed;
    expect(server.stats().errors.FLOW_CONTROL).toBe(1);
  });

  it("counts fragment data as it arrives and credits it at once, so a message larger than the window completes", async () => {
    const { server, port } = await fx.server({ publishWindow: 4096 });
    const p = await fx.raw(port);
    await p.hello({ nodeId: "chunky" });
    p.send("subscribe", { requestId: 1, subject: "c" });
    await p.next("subscribed");
    const payload = randomBytes(20_000);
    const frames = [...fragmentFrame(makeFrame("publish", { subject: "c", payload }), { id: 7, maxFrameSize: 3000 + 64 })];
    for (const f of frames) {
      p.send("fragment", f.body.value as never, f.channel);
      const credit = await p.next("windowUpdate");
      expect(Number(credit.credit)).toBe((f.body.value as { data: Uint8Array }).data.length);
    }
    const d = await p.next("delivery");
    expect(Buffer.compare(Buffer.from(d.payload), payload)).toBe(0);
    // 1500 bytes (not credited yet: under half the window), then 3000 without waiting: 4500 > 4096.
    const a = makeFrame("fragment", { id: 8, totalLength: 10_000n, data: new Uint8Array(1500) }, 1);
    const b = makeFrame("fragment", { id: 8, data: new Uint8Array(3000) }, 1);
    p.sendRaw(Buffer.concat([encodeFrame(a), encodeFrame(b)]));
    expect(await p.error()).toMatchObject({ code: ErrorCode.FLOW_CONTROL, fatal: true });
    expect(server.stats().reassembled).toBe(1);
  });
});
