import { PROTOCOL_VERSION, encodeFrame, makeFrame } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Frames are a byte stream: a frame split over many TCP segments and many
 * frames in one segment both decode (PROTOCOL.md §3.1).
 */
export const splitWrites: ServerScenario = {
  name: "split-writes",
  description: "Hello written one byte at a time → Welcome; then three Heartbeats in one write and one written byte by byte → four acks in order",
  async run(ctx) {
    const conn = await ctx.connect("connection");
    const hello = encodeFrame(makeFrame("hello", { protocolVersion: PROTOCOL_VERSION, nodeId: ctx.nodeId("split") }));
    for (const byte of hello) {
      conn.sendBytes(new Uint8Array([byte]));
      await ctx.sleep(2);
    }
    await conn.expectFrame("welcome", ctx.replyTimeoutMs, { after: `after a Hello written in ${hello.length} one-byte writes` });
    const beat = (seq: number): Uint8Array => encodeFrame(makeFrame("heartbeat", { seq: BigInt(seq), sendTimeUs: BigInt(seq * 1000) }));
    conn.sendBytes(new Uint8Array([...beat(1), ...beat(2), ...beat(3)]));
    for (const byte of beat(4)) {
      conn.sendBytes(new Uint8Array([byte]));
      await ctx.sleep(2);
    }
    for (let seq = 1n; seq <= 4n; seq++) {
      const ack = await conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, {
        what: `HeartbeatAck for seq ${seq}`,
        after: "after three Heartbeats in one write and a fourth in one-byte writes",
      });
      if (ack.seq !== seq) fail(`got HeartbeatAck seq ${ack.seq}, expected ${seq} (acks in order)`);
    }
  },
};
