import type { FrameBodyInit } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Builds a scenario that attaches a node and refreshes it with
 * `batch` (sent with a Heartbeat every keep-alive period) for one heartbeat
 * timeout + slack, expecting no ProtocolError at all.
 */
export function gatewayKeepAliveScenario(name: string, batch: FrameBodyInit<"batchHeartbeat">, what: string): ServerScenario {
  return {
    name,
    description: `Attach, then Heartbeat + ${what} every half interval for heartbeat_timeout_ms + slack → no ProtocolError (no HEARTBEAT_TIMEOUT for the handle)`,
    async run(ctx) {
      const { conn, welcome } = await ctx.open("gateway connection");
      conn.sendBody("attach", { handle: 1, nodeId: ctx.nodeId("kept") });
      await conn.expectFrame("attached", ctx.replyTimeoutMs, { after: "after Attach{handle: 1}" });
      const timeout = welcome.heartbeatTimeoutMs;
      const wait = timeout + ctx.slackMs(timeout, welcome.checkIntervalMs);
      ctx.requireWait(wait, `heartbeat_timeout_ms ${timeout} + slack`);
      let seq = 0n;
      ctx.repeat(ctx.keepAlivePeriod(welcome), () => {
        conn.sendBody("heartbeat", { seq: ++seq, sendTimeUs: 1n });
        conn.sendBody("batchHeartbeat", batch);
      });
      await conn.expectNothing(wait, {
        ignore: ["heartbeatAck"],
        after: `while refreshing handle 1 with ${what} every ${ctx.keepAlivePeriod(welcome)} ms`,
      });
    },
  };
}
