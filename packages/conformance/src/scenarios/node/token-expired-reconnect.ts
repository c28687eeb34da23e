import { ErrorCode, Feature } from "@hb/codec";
import { hexBytes } from "../../describe-frame.js";
import type { NodeScenario } from "../../node-scenario.js";
import { INITIAL_TOKEN } from "../../node-scenario-context.js";
import { fail } from "../../scenario-outcome.js";
import { requireTokenFile } from "./token-renewal.js";

/**
 * After a fatal TOKEN_EXPIRED, a node that can obtain a fresh credential
 * (here: from HB_TOKEN_FILE) reconnects with it and its resume token
 * (PROTOCOL.md §5.8, §6.6).
 */
export const tokenExpiredReconnect: NodeScenario = {
  name: "token-expired-reconnect",
  description:
    "with token-renewal granted, ProtocolError{TOKEN_EXPIRED, fatal} → the node closes, connects again with its resume token and the fresh credential now in HB_TOKEN_FILE; SKIP when the node does not list the feature or take its credential from HB_TOKEN_FILE",
  async run(ctx) {
    const s = await ctx.session("the node's first connection", (hello) =>
      hello.features.includes(Feature.tokenRenewal) ? { features: [Feature.tokenRenewal] } : {},
    );
    ctx.requireFeature(s.hello, Feature.tokenRenewal);
    requireTokenFile(s.hello, INITIAL_TOKEN);
    await ctx.settle(s);
    ctx.writeToken("conformance-token-fresh");
    s.conn.sendBody("error", { code: ErrorCode.TOKEN_EXPIRED, message: "conformance: credential expired", fatal: true });
    s.conn.endWrites();
    await s.conn.expectClose(ctx.replyTimeoutMs, { after: "by the node after a fatal ProtocolError{TOKEN_EXPIRED}" });
    const conn = await ctx.accept("a reconnect with a fresh credential after TOKEN_EXPIRED", ctx.maxWaitMs);
    const hello = await ctx.expectHello(conn, "Hello as the first frame after TOKEN_EXPIRED");
    if (hello.token !== "conformance-token-fresh") {
      fail(`the Hello after TOKEN_EXPIRED carries token ${JSON.stringify(hello.token)}; expected the fresh one in HB_TOKEN_FILE, "conformance-token-fresh"`);
    }
    if (!Buffer.from(hello.resumeToken).equals(Buffer.from(s.welcome.resumeToken))) {
      fail(`the Hello after TOKEN_EXPIRED carries resume token ${hexBytes(hello.resumeToken)}; expected ${hexBytes(s.welcome.resumeToken)}`);
    }
    return "reconnected with the fresh credential";
  },
};
