import { ErrorCode, FrameSchema } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

const UNSUBSCRIBE = FrameSchema.field.unsubscribe?.number as number;

/** §4.15: Unsubscribe on channel 0 never names a subscription. */
export const unsubscribeChannel0: ServerScenario = {
  name: "unsubscribe-channel-0",
  description:
    "Unsubscribe on channel 0 → ProtocolError{UNKNOWN_CHANNEL, fatal false, ref 0, ref_body 15} on channel 0; the connection goes on",
  async run(ctx) {
    const a = await ctx.open("client");
    a.conn.sendBody("unsubscribe", {}, 0);
    await a.conn.expectError({ code: ErrorCode.UNKNOWN_CHANNEL, fatal: false, ref: 0n, refBody: UNSUBSCRIBE }, ctx.replyTimeoutMs, {
      after: "after Unsubscribe on channel 0",
    });
    a.conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 7n });
    await a.conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "after the refused Unsubscribe" });
  },
};
