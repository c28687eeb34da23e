import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/** Renew on a connection that did not negotiate token-renewal is a fatal PROTOCOL_VIOLATION (PROTOCOL.md §15.1). */
export const renewWithoutFeature: ServerScenario = {
  name: "renew-without-feature",
  description: "Hello without features, then Renew → ProtocolError{PROTOCOL_VIOLATION, fatal}, then close",
  async run(ctx) {
    const { conn } = await ctx.open("connection without token-renewal");
    conn.sendBody("renew", { token: ctx.renewableToken });
    await ctx.expectFatal(conn, ErrorCode.PROTOCOL_VIOLATION, "after Renew without the feature negotiated");
  },
};
