import { ErrorCode, type FrameBodyCase, type FrameBodyInit, makeFrame } from "@hb/codec";
import { frameTypeName } from "../../describe-frame.js";
import type { ServerScenario } from "../../server-scenario.js";

// Frames a client never sends (PROTOCOL.md §5.2), with a plausible body each.
const SERVER_ONLY: { [K in FrameBodyCase]?: FrameBodyInit<K> } = {
  welcome: { nodeId: "x", sessionId: "s", heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000, protocolVersion: 1 },
  heartbeatAck: { seq: 1n, sendTimeUs: 1n },
  attached: { handle: 1, nodeId: "x" },
  subscribed: { requestId: 1, channel: 1, subject: "a.b" },
  delivery: { payload: new Uint8Array([1]) },
  presence: { nodeId: "x" },
  goAway: { reason: "conformance" },
};

/** A frame only a server may send → PROTOCOL_VIOLATION fatal (PROTOCOL.md §5.2). */
export const serverOnlyFrame: ServerScenario = {
  name: "server-only-frame",
  description:
    "each server-only frame (Welcome, HeartbeatAck, Attached, Subscribed, Delivery, PresenceEvent, GoAway) sent by a client after the handshake → ProtocolError{PROTOCOL_VIOLATION, fatal} and close",
  async run(ctx) {
    for (const [kind, value] of Object.entries(SERVER_ONLY) as [FrameBodyCase, never][]) {
      const { conn } = await ctx.open(`connection sending ${frameTypeName(kind)}`);
      conn.send(makeFrame(kind, value));
      await ctx.expectFatal(conn, ErrorCode.PROTOCOL_VIOLATION, `after sending ${frameTypeName(kind)} (a server-only frame)`);
    }
  },
};
