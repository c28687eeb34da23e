import { Feature } from "@hb/codec";
import { fail, skip } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Feature `heartbeat-rtt` (PROTOCOL.md §6.7, §15.1): a client that lists it
 * and gets it in Welcome sends `Heartbeat.last_rtt_us`; every such
 * Heartbeat is acked like any other (the field never changes liveness), and
 * the connection stays. Skipped when the server does not negotiate it.
 */
export const heartbeatRttAccepted: ServerScenario = {
  name: "heartbeat-rtt-accepted",
  description: "Hello lists heartbeat-rtt → when Welcome lists it, 5 Heartbeats with last_rtt_us (0, 1, a typical value, uint32 max) are each acked, the connection stays; SKIP when not negotiated",
  async run(ctx) {
    const { conn, welcome } = await ctx.open("connection", { features: [Feature.heartbeatRtt] });
    if (!welcome.features.includes(Feature.heartbeatRtt)) skip("the server does not negotiate heartbeat-rtt (not in Welcome.features)");
    const reports = [0, 1, 850, 4_294_967_295, 1_200];
    for (const [i, lastRttUs] of reports.entries()) {
      const seq = BigInt(i + 1);
      conn.sendBody("heartbeat", { seq, sendTimeUs: 7n, lastRttUs });
      const ack = await conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: `after Heartbeat{seq: ${seq}, last_rtt_us: ${lastRttUs}}` });
      if (ack.seq !== seq) fail(`HeartbeatAck for seq ${seq} has seq ${ack.seq}`);
    }
    return `${reports.length} heartbeats with last_rtt_us acked`;
  },
};
