import { ErrorCode } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Nothing heard for heartbeat_timeout → HEARTBEAT_TIMEOUT fatal and close
 * (PROTOCOL.md §6.3), never early and not much later than advertised.
 */
export const silentClientTimeout: ServerScenario = {
  name: "silent-client-timeout",
  description:
    "handshake, then no frames → ProtocolError{HEARTBEAT_TIMEOUT, fatal} and close once the advertised heartbeat_timeout_ms has passed (not before it, at most slack after it)",
  async run(ctx) {
    const { conn, welcome } = await ctx.open("silent connection");
    const start = performance.now();
    const timeout = welcome.heartbeatTimeoutMs;
    const slack = ctx.slackMs(timeout, welcome.checkIntervalMs);
    ctx.requireWait(timeout + slack, `heartbeat_timeout_ms ${timeout} + slack ${slack}`);
    await conn.expectError({ code: ErrorCode.HEARTBEAT_TIMEOUT, fatal: true }, timeout + slack, {
      after: `while the client stays silent (heartbeat_timeout_ms ${timeout} + slack ${slack})`,
    });
    const elapsed = Math.round(performance.now() - start);
    if (elapsed < ctx.earliestMs(timeout)) {
      fail(`HEARTBEAT_TIMEOUT came ${elapsed} ms after Welcome, earlier than the advertised heartbeat_timeout_ms ${timeout}`);
    }
    await conn.expectClose(ctx.replyTimeoutMs, { after: "after its fatal ProtocolError{code: HEARTBEAT_TIMEOUT}" });
    return `timed out after ${elapsed} ms (advertised ${timeout} ms)`;
  },
};
