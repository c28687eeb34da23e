import { DELIVERY_FIELD, type Frame, FrameDecoder, encodeDelivery, makeFrame, relayFrameLength, relayHead } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { ServerCounters } from "../src/core/ports/server-stats.js";
import type { SessionTransport } from "../src/internal.js";
import { type DropReason, SessionWriter, WRITE_HIGH_WATER } from "../src/session/session-writer.js";
import { TurnSlicer } from "../src/routing/turn-slicer.js";
import { sleep } from "./raw-peer.js";

class Sink implements SessionTransport {
  readonly remoteAddress = "test";
  writableLength = 0;
  writes = 0;
  readonly frames: Frame[] = [];
  readonly #decoder = new FrameDecoder({ maxFrameSize: 64 * 2 ** 20 });
  write(bytes: Uint8Array): void {
    this.writes++;
    const err = this.#decoder.push(bytes, (f) => this.frames.push(f));
    if (err) throw err;
  }
  end(): void {}
  destroy(): void {}
  kinds(): string[] {
    return this.frames.map((f) => `${f.body.case}@${f.channel}`);
  }
}

function setup() {
  const sink = new Sink();
  const stats = new ServerCounters();
  const drops: [number, DropReason][] = [];
  const overflows: number[] = [];
  const w = new SessionWriter(sink, stats, {
    onDrop: (c, r) => drops.push([c, r]),
    onOverflow: (c) => overflows.push(c),
  }, new TurnSlicer());
  return { sink, stats, drops, overflows, w };
}

const ack = (seq: number) => makeFrame("heartbeatAck", { seq: BigInt(seq) });
function relay(w: SessionWriter, channel: number, payload: Uint8Array): boolean {
  const body = encodeDelivery(1, "s", "n", payload, 0n, "");
  return w.relay(channel, relayHead(channel, DELIVERY_FIELD, body.length), body, relayFrameLength(channel, DELIVERY_FIELD, body.length));
}

describe("SessionWriter", () => {
  it("writes control frames of one turn in one write, without a scheduler", async () => {
    const { sink, stats, w } = setup();
    w.open(2 ** 20, 0, 1000);
    for (let i = 1; i <= 3; i++) w.control(ack(i));
    expect(sink.writes).toBe(0);
    expect(stats.queuedBytes).toBeGreaterThan(0);
    await sleep(1);
    expect(sink.writes).toBe(1);
    expect(sink.kinds()).toEqual(["heartbeatAck@0", "heartbeatAck@0", "heartbeatAck@0"]);
    expect(w.scheduling).toBe(false);
    expect(stats).toMatchObject({ queuedBytes: 0, framesOut: 3 });
  });

  it("creates a scheduler for data (control frames stay first) and releases it once idle without subscriptions", async () => {
    const { sink, stats, w } = setup();
    w.open(2 ** 20, 0, 1000);
    w.control(ack(1));
    expect(relay(w, 0, new Uint8Array(10))).toBe(true);
    w.control(ack(2));
    expect(w.scheduling).toBe(true);
    await sleep(1);
    expect(sink.kinds()).toEqual(["heartbeatAck@0", "heartbeatAck@0", "delivery@0"]);
    expect(w.scheduling).toBe(false); // released after the write that emptied it
    w.configureChannel(5, 10, "drop-newest");
    relay(w, 5, new Uint8Array(1));
    await sleep(1);
    expect(w.scheduling).toBe(true); // a subscription keeps it
    w.removeChannel(5);
    expect(w.scheduling).toBe(false);
    expect(stats).toMatchObject({ queuedBytes: 0, framesOut: 4 });
  });

  it("pauses while the transport is backed up, resumes on drain; 1 MiB of control frames while paused is an overflow", async () => {
    const { sink, stats, overflows, w } = setup();
    w.open(2 ** 20, 0, 1000);
    w.control(ack(1));
    sink.writableLength = WRITE_HIGH_WATER + 1;
    await sleep(1);
    expect(w.paused).toBe(true);
    w.control(ack(2));
    relay(w, 0, new Uint8Array(100));
    await sleep(1);
    expect(sink.kinds()).toEqual(["heartbeatAck@0", "heartbeatAck@0", "delivery@0"]); // one batch of overshoot, then paused
    relay(w, 0, new Uint8Array(100));
    await sleep(1);
    expect(sink.frames).toHaveLength(3);
    sink.writableLength = 0;
    w.drained();
    await sleep(1);
    expect(sink.frames).toHaveLength(4);
    sink.writableLength = WRITE_HIGH_WATER + 1;
    relay(w, 0, new Uint8Array(100));
    await sleep(1);
    const big = makeFrame("error", { code: 15, message: "x".repeat(100) });
    for (let i = 0; i < 20_000 && overflows.length === 0; i++) w.control(big);
    expect(overflows).toEqual([0]);
    expect(stats.queuedBytes).toBe(0);
    expect(relay(w, 0, new Uint8Array(1))).toBe(false);
  });

  it("fragments frames over the client's max frame size, or drops them as too large when fragments are off", async () => {
    for (const maxMessageSize of [1 << 20, 0]) {
      const { sink, drops, stats, w } = setup();
      w.open(1024, maxMessageSize, 1000);
      expect(relay(w, 3, new Uint8Array(5000))).toBe(maxMessageSize > 0);
      await sleep(5);
      if (maxMessageSize === 0) {
        expect(drops).toEqual([[3, "tooLarge"]]);
        expect(stats.framesDropped).toBe(1);
      } else {
        expect(new Set(sink.kinds())).toEqual(new Set(["fragment@3"]));
        expect(stats.queuedBytes).toBe(0);
      }
    }
  });

  it("a fatal frame is written even while paused, and nothing after it", async () => {
    const { sink, w } = setup();
    w.open(2 ** 20, 0, 1000);
    sink.writableLength = WRITE_HIGH_WATER + 1;
    w.control(ack(1));
    await sleep(1);
    w.control(ack(2)); // waits: paused
    w.fatal(makeFrame("error", { code: 19, fatal: true }));
    w.control(ack(3));
    await sleep(1);
    expect(sink.kinds()).toEqual(["heartbeatAck@0", "error@0"]);
  });
});
