import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";
import { openRenewable } from "./renewal-session.js";

/** A Renew with a refused credential is a non-fatal UNAUTHORIZED with ref_body 24; the connection stays (PROTOCOL.md §5.8). */
export const renewalRefused: ServerScenario = {
  name: "renewal-refused",
  description: "Renew{refused token} → ProtocolError{UNAUTHORIZED, ref: 0, ref_body: 24, fatal: false}; the connection is still acked; SKIP without an expiring authentication",
  async run(ctx) {
    const { conn } = await openRenewable(ctx, "renewing connection");
    conn.sendBody("renew", { token: ctx.refusedToken });
    await conn.expectError({ code: ErrorCode.UNAUTHORIZED, fatal: false, ref: 0n, refBody: 24 }, ctx.replyTimeoutMs, {
      after: `after Renew with the refused credential (--refused-token ${JSON.stringify(ctx.refusedToken)})`,
      ignore: ["heartbeatAck"],
    });
    conn.sendBody("heartbeat", { seq: 2n, sendTimeUs: 1n });
    await conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "after the refused Renew (the connection must stay up)" });
    return "refused, connection up";
  },
};
