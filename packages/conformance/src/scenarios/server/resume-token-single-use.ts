import { ErrorCode } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * A resume token works once: after a resume the used token stops working, so
 * presenting it again gives a fresh session and the usual "newer wins" rule
 * (PROTOCOL.md §4.4 `resume_token`, §8.2).
 */
export const resumeTokenSingleUse: ServerScenario = {
  name: "resume-token-single-use",
  description:
    "resume with token T1 (→ resumed, new token T2), then Hello with T1 again → resumed = false with a new session id, and the connection holding the node gets DUPLICATE_NODE",
  async run(ctx) {
    const nodeId = ctx.nodeId("once");
    const a = await ctx.open("first connection", { nodeId });
    const t1 = a.welcome.resumeToken.slice();
    const b = await ctx.open("resuming connection", { nodeId, resumeToken: t1 });
    if (!b.welcome.resumed) fail("a resume with the token of a live session was not resumed (see resume-live-session)");
    const c = await ctx.open("connection reusing the spent token", { nodeId, resumeToken: t1 });
    if (c.welcome.resumed) fail("Welcome.resumed is true for a resume token that was already used once; a used token must stop working");
    if (c.welcome.sessionId === a.welcome.sessionId) {
      fail(`the reused token gave the old session id ${JSON.stringify(a.welcome.sessionId)}; expected a fresh session`);
    }
    await b.conn.expectError({ code: ErrorCode.DUPLICATE_NODE, fatal: true }, ctx.replyTimeoutMs, {
      after: "after a newer connection registered the node id with a spent token (fresh session, newer wins)",
      ignore: ["heartbeatAck"],
    });
  },
};
