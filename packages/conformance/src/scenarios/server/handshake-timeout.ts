import { ErrorCode } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/** No Hello within handshakeTimeout → HANDSHAKE_TIMEOUT fatal (PROTOCOL.md §5.1, §14). */
export const handshakeTimeout: ServerScenario = {
  name: "handshake-timeout",
  description:
    "a connection that sends nothing → ProtocolError{HANDSHAKE_TIMEOUT, fatal} and close within the server's handshake timeout (not advertised: --handshake-timeout, default 10 s) + slack",
  async run(ctx) {
    const limit = ctx.handshakeTimeoutMs;
    const slack = ctx.slackMs(limit);
    ctx.requireWait(limit + slack, `--handshake-timeout ${limit} + slack ${slack}`);
    const conn = await ctx.connect("silent connection");
    const start = performance.now();
    await conn.expectError({ code: ErrorCode.HANDSHAKE_TIMEOUT, fatal: true }, limit + slack, {
      after: `while sending nothing (handshake timeout ${limit} ms + slack ${slack} ms)`,
    });
    const elapsed = Math.round(performance.now() - start);
    if (elapsed < ctx.earliestMs(limit)) {
      fail(`HANDSHAKE_TIMEOUT came after ${elapsed} ms, earlier than the handshake timeout of ${limit} ms (pass --handshake-timeout if the server uses another value)`);
    }
    await conn.expectClose(ctx.replyTimeoutMs, { after: "after its fatal ProtocolError{code: HANDSHAKE_TIMEOUT}" });
    return `closed after ${elapsed} ms`;
  },
};
