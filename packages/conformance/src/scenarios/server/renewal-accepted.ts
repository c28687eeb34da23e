import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";
import { openRenewable } from "./renewal-session.js";

/** A Renew with a valid credential → Renewed, and the session outlives the first credential (PROTOCOL.md §5.8). */
export const renewalAccepted: ServerScenario = {
  name: "renewal-accepted",
  description:
    "Welcome with token_expires_in_ms E and token_grace_ms G → Renew{renewable token} answered by Renewed, and the connection is still acked after E + G; SKIP without an expiring authentication",
  async run(ctx) {
    const { conn, expiresMs, graceMs } = await openRenewable(ctx, "renewing connection");
    conn.sendBody("renew", { token: ctx.renewableToken });
    const renewed = await conn.expectFrame("renewed", ctx.replyTimeoutMs, { after: "after Renew with the renewable credential", ignore: ["heartbeatAck"] });
    // Past the first credential's expiry + grace, renewing each new one at 3/4 of its life.
    const wait = expiresMs + graceMs + ctx.slackMs(0);
    const until = performance.now() + wait;
    let life = Number(renewed.tokenExpiresInMs);
    while (performance.now() < until) {
      const step = life > 0 ? Math.min(Math.floor(life * 0.75), until - performance.now()) : until - performance.now();
      await ctx.sleep(Math.max(0, step));
      if (life > 0 && performance.now() < until) {
        conn.sendBody("renew", { token: ctx.renewableToken });
        const r = await conn.expectFrame("renewed", ctx.replyTimeoutMs, { after: "after another Renew", ignore: ["heartbeatAck"] });
        life = Number(r.tokenExpiresInMs);
      }
    }
    if (conn.end !== undefined) fail(`the connection was closed by the ${conn.end.by} after the credential was renewed`);
    conn.sendBody("heartbeat", { seq: 2n, sendTimeUs: 1n });
    await conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "past the first credential's expiry + grace" });
    return `renewed; still up ${wait} ms later`;
  },
};
