import { ErrorCode } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";
import { openRenewable } from "./renewal-session.js";

/** Without a Renew the session is closed with a fatal TOKEN_EXPIRED after expiry + grace, not before (PROTOCOL.md §5.8 rule 4). */
export const renewalExpiryCloses: ServerScenario = {
  name: "renewal-expiry-closes",
  description:
    "Welcome with token_expires_in_ms E, token_grace_ms G, no Renew, heartbeats on time → ProtocolError{TOKEN_EXPIRED, fatal} no earlier than E + G, then close; SKIP without an expiring authentication",
  async run(ctx) {
    const start = performance.now();
    const { conn, expiresMs, graceMs } = await openRenewable(ctx, "unrenewed connection");
    const deadline = expiresMs + graceMs;
    await conn.expectError({ code: ErrorCode.TOKEN_EXPIRED, fatal: true }, deadline + ctx.slackMs(deadline), {
      after: `after E + G = ${deadline} ms without Renew`,
      ignore: ["heartbeatAck"],
    });
    const after = Math.round(performance.now() - start);
    if (after < ctx.earliestMs(deadline)) fail(`TOKEN_EXPIRED came ${after} ms after the Hello, before E + G = ${deadline} ms`);
    await conn.expectClose(ctx.replyTimeoutMs, { after: "after the fatal TOKEN_EXPIRED" });
    return `closed ${after} ms after the Hello (E + G = ${deadline} ms)`;
  },
};
