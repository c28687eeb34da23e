import { hexBytes } from "../../describe-frame.js";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

// Valid Heartbeats no canonical encoder writes; each must be acked with its seq and send_time_us.
const CASES: readonly { what: string; bytes: number[]; seq: bigint; sendTimeUs: bigint }[] = [
  { what: "a 5-byte (non-minimal) length prefix", bytes: [0x84, 0x80, 0x80, 0x80, 0x00, 0x3a, 0x02, 0x08, 0x07], seq: 7n, sendTimeUs: 0n },
  {
    what: "unknown fields in Frame and in Heartbeat",
    bytes: [0x10, 0x98, 0x06, 0x01, 0x3a, 0x0b, 0x78, 0x01, 0x08, 0x08, 0x10, 0x05, 0x82, 0x01, 0x02, 0x61, 0x62],
    seq: 8n,
    sendTimeUs: 5n,
  },
  { what: "fields in reverse order", bytes: [0x06, 0x3a, 0x04, 0x10, 0x09, 0x08, 0x09], seq: 9n, sendTimeUs: 9n },
  { what: "a non-minimal varint for seq", bytes: [0x07, 0x3a, 0x05, 0x08, 0x8a, 0x80, 0x80, 0x00], seq: 10n, sendTimeUs: 0n },
  { what: "a non-zero Frame.channel (ignored for Heartbeat)", bytes: [0x06, 0x08, 0x05, 0x3a, 0x02, 0x08, 0x0b], seq: 11n, sendTimeUs: 0n },
];

/**
 * Receivers accept every valid protobuf encoding, not only the canonical
 * one (PROTOCOL.md §3.2, §3.4, §3.6).
 */
export const noncanonicalFrames: ServerScenario = {
  name: "noncanonical-frames",
  description:
    "Heartbeats with a non-minimal length prefix, unknown fields, fields out of order, a non-minimal varint, a non-zero channel → each acked with its seq and send_time_us",
  async run(ctx) {
    const { conn } = await ctx.open("connection");
    for (const c of CASES) {
      conn.sendBytes(new Uint8Array(c.bytes));
      const after = `after a Heartbeat with ${c.what} (bytes ${hexBytes(c.bytes)})`;
      const ack = await conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after });
      if (ack.seq !== c.seq || ack.sendTimeUs !== c.sendTimeUs) {
        fail(`HeartbeatAck{seq: ${ack.seq}, send_time_us: ${ack.sendTimeUs}} ${after}; expected seq ${c.seq}, send_time_us ${c.sendTimeUs}`);
      }
    }
  },
};
