import { ErrorCode } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * An attached node that is not refreshed times out alone: the gateway gets
 * ProtocolError{HEARTBEAT_TIMEOUT, ref: handle, fatal: false}, the
 * connection stays up and the handle is free again (PROTOCOL.md §9.3).
 */
export const gatewayAttachedTimeout: ServerScenario = {
  name: "gateway-attached-timeout",
  description:
    "Attach, then only plain Heartbeats (which refresh only the connection's own node) → ProtocolError{HEARTBEAT_TIMEOUT, ref: handle, fatal: false} after heartbeat_timeout_ms; the connection stays up and the handle can be attached again",
  async run(ctx) {
    const { conn, welcome } = await ctx.open("gateway connection");
    conn.sendBody("attach", { handle: 5, nodeId: ctx.nodeId("aging") });
    await conn.expectFrame("attached", ctx.replyTimeoutMs, { after: "after Attach{handle: 5}" });
    const start = performance.now();
    const timeout = welcome.heartbeatTimeoutMs;
    const slack = ctx.slackMs(timeout, welcome.checkIntervalMs);
    ctx.requireWait(timeout + slack, `heartbeat_timeout_ms ${timeout} + slack ${slack}`);
    let seq = 0n;
    ctx.repeat(ctx.keepAlivePeriod(welcome), () => conn.sendBody("heartbeat", { seq: ++seq, sendTimeUs: 1n }));
    await conn.expectError({ code: ErrorCode.HEARTBEAT_TIMEOUT, ref: 5n, fatal: false }, timeout + slack, {
      ignore: ["heartbeatAck"],
      after: `for the attached node that nobody refreshes (heartbeat_timeout_ms ${timeout} + slack ${slack})`,
    });
    const elapsed = Math.round(performance.now() - start);
    if (elapsed < ctx.earliestMs(timeout)) {
      fail(`HEARTBEAT_TIMEOUT for handle 5 came ${elapsed} ms after Attached, earlier than heartbeat_timeout_ms ${timeout}`);
    }
    // The connection's own node was kept alive: the connection must stay up.
    await conn.expectNothing(Math.min(500, timeout / 2), { ignore: ["heartbeatAck"], after: "after the attached node timed out" });
    conn.sendBody("attach", { handle: 5, nodeId: ctx.nodeId("again") });
    await conn.expectFrame("attached", ctx.replyTimeoutMs, {
      ignore: ["heartbeatAck"],
      after: "after attaching handle 5 again (the handle is free once its node timed out)",
    });
    return `attached node timed out after ${elapsed} ms (advertised ${timeout} ms)`;
  },
};
