import type { ServerScenario } from "../../server-scenario.js";

/**
 * Every frame is proof of life for the connection's own node, not only
 * Heartbeat (PROTOCOL.md §6.3): a client sending only empty BatchHeartbeats
 * is not timed out.
 */
export const proofOfLifeAnyFrame: ServerScenario = {
  name: "proof-of-life-any-frame",
  description:
    "after the handshake, only BatchHeartbeat{} (no Heartbeat) every half interval for heartbeat_timeout_ms + slack → no HEARTBEAT_TIMEOUT: any frame counts as proof of life",
  async run(ctx) {
    const { conn, welcome } = await ctx.open("connection");
    const timeout = welcome.heartbeatTimeoutMs;
    const wait = timeout + ctx.slackMs(timeout, welcome.checkIntervalMs);
    ctx.requireWait(wait, `heartbeat_timeout_ms ${timeout} + slack`);
    const period = ctx.keepAlivePeriod(welcome);
    ctx.repeat(period, () => conn.sendBody("batchHeartbeat", {}));
    await conn.expectNothing(wait, { after: `while sending only an empty BatchHeartbeat every ${period} ms` });
  },
};
