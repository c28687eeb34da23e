import { ErrorCode } from "@hb/codec";
import { hexBytes } from "../../describe-frame.js";
import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const DRAIN_MS = 5000;
const DELAY_MS = 1200;

/**
 * A client told to wait does (PROTOCOL.md §5.5): after GoAway with
 * reconnect_delay_ms the node keeps the connection, heartbeating, until the
 * delay has passed, then closes it without Goodbye and reconnects at once
 * with its resume token.
 */
export const goAwayReconnectDelay: NodeScenario = {
  name: "go-away-reconnect-delay",
  description: `GoAway{drain_ms: ${DRAIN_MS}, reconnect_delay_ms: ${DELAY_MS}} → the node keeps heartbeating on the connection, does not close it before ${DELAY_MS} ms, then closes it without Goodbye and connects again at once (within slack) with its resume token`,
  async run(ctx) {
    const s = await ctx.session("the node's first connection");
    await ctx.settle(s);
    const before = s.log.beats.length;
    s.conn.sendBody("goAway", {
      code: ErrorCode.SHUTTING_DOWN,
      reason: "conformance: draining with a spread",
      drainMs: DRAIN_MS,
      reconnectDelayMs: DELAY_MS,
    });
    const sentAt = performance.now();
    const slack = ctx.slackMs(DELAY_MS);
    const closed = await s.conn.expectClose(DELAY_MS + slack, {
      after: `by the node ${DELAY_MS} ms after GoAway{reconnect_delay_ms: ${DELAY_MS}} (+ slack ${slack} ms), without Goodbye`,
      forbid: ["goodbye"],
    });
    const closedAfter = Math.round(closed.end.at - sentAt);
    if (closedAfter < ctx.earliestMs(DELAY_MS)) {
      fail(`the node closed the connection ${closedAfter} ms after GoAway, before its reconnect_delay_ms of ${DELAY_MS} ms; it should keep the connection until then`);
    }
    const during = s.log.beats.length - before;
    const expected = Math.floor(DELAY_MS / ctx.intervalMs / 2);
    if (during < expected) {
      fail(`the node sent ${during} Heartbeat(s) in the ${DELAY_MS} ms it should have kept the connection after GoAway (interval ${ctx.intervalMs} ms); expected at least ${expected}`);
    }
    const conn = await ctx.accept("a new connection at the end of the GoAway's reconnect delay", slack);
    const reconnectAfter = Math.round(conn.openedAt - sentAt);
    const hello = await ctx.expectHello(conn, "Hello as the first frame after the GoAway's delay");
    const token = s.welcome.resumeToken;
    if (!Buffer.from(hello.resumeToken).equals(Buffer.from(token))) {
      const got = hello.resumeToken.length === 0 ? "no resume token" : `resume token ${hexBytes(hello.resumeToken)}`;
      fail(`the Hello after GoAway carries ${got}; expected the token of the last Welcome, ${hexBytes(token)}`);
    }
    return `kept the connection ${closedAfter} ms (${during} heartbeats), reconnected ${reconnectAfter} ms after GoAway`;
  },
};
