import { toBinary } from "@bufbuild/protobuf";
import { WelcomeSchema, encodeFrame, makeFrame, sizeDelimit, varintSize, writeVarint32 } from "@hb/codec";
import { describeFrame } from "../../describe-frame.js";
import { HeartbeatLog } from "../../heartbeat-log.js";
import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const BEATS = 4;

/** `tag` + varint length + `body`, for hand-built protobuf. */
function lengthDelimited(tag: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(tag.length + varintSize(body.length) + body.length);
  out.set(tag, 0);
  out.set(body, writeVarint32(out, tag.length, body.length));
  return out;
}

/**
 * A node decodes a byte stream, not writes: it accepts a Welcome split into
 * one-byte writes and carrying unknown fields, and silently discards frames
 * it does not need — a Delivery or PresenceEvent on a channel it never
 * subscribed, a WindowUpdate of 0 (PROTOCOL.md §3.1, §3.4, §10.8, §4.23).
 */
export const tolerantDecoding: NodeScenario = {
  name: "tolerant-decoding",
  description: `a Welcome with unknown fields, written one byte at a time, then a Delivery and a PresenceEvent on unknown channels and a WindowUpdate{0} → the node keeps heartbeating (${BEATS} Heartbeats) without an error or a close`,
  async run(ctx) {
    const conn = await ctx.accept("a connection from the node");
    const log = new HeartbeatLog(conn);
    const hello = await ctx.expectHello(conn);
    // Welcome + unknown field 111 (varint) inside it, + unknown field 99 in the Frame.
    const welcome = new Uint8Array([...toBinary(WelcomeSchema, ctx.makeWelcome(hello)), 0xf8, 0x06, 0x01]);
    const wire = sizeDelimit(new Uint8Array([...lengthDelimited([0x1a], welcome), 0x98, 0x06, 0x01]));
    for (const byte of wire) {
      conn.sendBytes(new Uint8Array([byte]));
      await ctx.sleep(1);
    }
    const welcomeAt = performance.now();
    conn.sendBytes(encodeFrame(makeFrame("delivery", { kind: 1, subject: "not.subscribed", payload: new Uint8Array([1]) }, 77)));
    conn.sendBytes(encodeFrame(makeFrame("presence", { kind: 1, nodeId: "someone" }, 78)));
    conn.sendBytes(encodeFrame(makeFrame("windowUpdate", { credit: 0n })));
    const timeout = (BEATS + 1) * ctx.intervalMs * 1.5 + ctx.slackMs(ctx.intervalMs);
    const ok = await log.waitFor(BEATS, timeout);
    const frame = await conn.next(0);
    if (frame?.kind === "frame") {
      fail(`${conn.label}: the node answered the tolerated frames with ${describeFrame(frame.frame)}`);
    }
    if (!ok) {
      const end = conn.end;
      const closed = end === undefined ? "" : `; the node closed the connection ${Math.round(end.at - welcomeAt)} ms after the Welcome`;
      fail(
        `expected ${BEATS} Heartbeats after a split Welcome with unknown fields and frames on unknown channels, got ${log.beats.length}${closed}; ${ctx.node.describe()}`,
      );
    }
  },
};
