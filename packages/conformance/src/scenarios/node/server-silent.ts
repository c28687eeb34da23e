import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

/**
 * When nothing arrives from the server for the advertised timeout, the node
 * drops the connection and reconnects (PROTOCOL.md §6.5: "if nothing
 * arrives from the server for the negotiated timeout, it drops the
 * connection and reconnects").
 */
export const serverSilent: NodeScenario = {
  name: "server-silent",
  description:
    "after Welcome the server never answers (no acks) → the node closes the connection once heartbeat_timeout_ms has passed (not before it, at most slack after it) and connects again",
  async run(ctx) {
    const timeout = ctx.timeoutMs;
    const slack = ctx.slackMs(timeout);
    ctx.requireWait(timeout + slack, `heartbeat_timeout_ms ${timeout} + slack ${slack}`);
    const s = await ctx.session("the node's first connection");
    s.log.acking = false;
    await s.conn.expectClose(timeout + slack, {
      after: `by the node while the server stays silent (heartbeat_timeout_ms ${timeout} + slack ${slack} ms)`,
    });
    const closedAfter = Math.round(performance.now() - s.welcomeAt);
    if (closedAfter < ctx.earliestMs(timeout)) {
      fail(`the node closed the connection ${closedAfter} ms after Welcome, before the advertised heartbeat_timeout_ms ${timeout} passed`);
    }
    const conn = await ctx.accept("a new connection after the silent server was dropped", ctx.maxWaitMs);
    await ctx.expectHello(conn, "Hello as the first frame after reconnecting");
    return `dropped the silent connection after ${closedAfter} ms (advertised ${timeout} ms)`;
  },
};
