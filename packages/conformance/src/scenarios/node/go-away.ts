import { ErrorCode } from "@hb/codec";
import { hexBytes } from "../../describe-frame.js";
import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const DRAIN_MS = 1000;

/**
 * On GoAway the node closes the connection without Goodbye (it is not
 * leaving) and reconnects with backoff, presenting its resume token
 * (PROTOCOL.md §4.6, §5.5).
 */
export const goAway: NodeScenario = {
  name: "go-away",
  description: `GoAway{SHUTTING_DOWN, drain_ms: ${DRAIN_MS}} → the node closes the connection within drain_ms + slack without Goodbye, then connects again with a Hello carrying its resume token`,
  async run(ctx) {
    const s = await ctx.session("the node's first connection");
    await ctx.settle(s);
    s.conn.sendBody("goAway", { code: ErrorCode.SHUTTING_DOWN, reason: "conformance: draining", drainMs: DRAIN_MS });
    const sentAt = performance.now();
    const slack = ctx.slackMs(DRAIN_MS);
    await s.conn.expectClose(DRAIN_MS + slack, {
      after: `by the node after GoAway{drain_ms: ${DRAIN_MS}} (+ slack ${slack} ms), without Goodbye (it is not leaving)`,
      forbid: ["goodbye"],
    });
    const closedAfter = Math.round(performance.now() - sentAt);
    const conn = await ctx.accept("a new connection after GoAway", ctx.maxWaitMs);
    const hello = await ctx.expectHello(conn, "Hello as the first frame after reconnecting on GoAway");
    const token = s.welcome.resumeToken;
    if (!Buffer.from(hello.resumeToken).equals(Buffer.from(token))) {
      const got = hello.resumeToken.length === 0 ? "no resume token" : `resume token ${hexBytes(hello.resumeToken)}`;
      fail(`the Hello after GoAway carries ${got}; expected the token of the last Welcome, ${hexBytes(token)}`);
    }
    return `closed ${closedAfter} ms after GoAway, reconnected ${Math.round(conn.openedAt - sentAt)} ms after it`;
  },
};
