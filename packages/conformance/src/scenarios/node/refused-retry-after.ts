import { ErrorCode } from "@hb/codec";
import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const RETRY_AFTER_MS = 1500;

/**
 * A refusal's retry_after_ms delays the next attempt (PROTOCOL.md §6.6):
 * the reconnect is refused with a fatal SERVER_FULL that says "not before
 * 1.5 s", and the node's next attempt comes no earlier.
 */
export const refusedRetryAfter: NodeScenario = {
  name: "refused-retry-after",
  description: `a reconnect refused with ProtocolError{SERVER_FULL, fatal, retry_after_ms: ${RETRY_AFTER_MS}} → the node's next attempt comes no earlier than ${RETRY_AFTER_MS} ms later (and within --max-wait)`,
  async run(ctx) {
    const s = await ctx.session("the node's first connection");
    await ctx.settle(s);
    s.conn.destroy();
    const conn = await ctx.accept("a reconnect after the server dropped the connection", ctx.maxWaitMs);
    await ctx.expectHello(conn, "Hello as the first frame of the reconnect");
    conn.sendBody("error", { code: ErrorCode.SERVER_FULL, message: "conformance: full, come back later", fatal: true, retryAfterMs: RETRY_AFTER_MS });
    conn.endWrites();
    const refusedAt = performance.now();
    await conn.expectClose(ctx.replyTimeoutMs, { after: "by the node after a fatal ProtocolError{SERVER_FULL}" });
    ctx.requireWait(RETRY_AFTER_MS + ctx.slackMs(RETRY_AFTER_MS), `retry_after_ms ${RETRY_AFTER_MS}`);
    const next = await ctx.accept(`a new attempt after retry_after_ms ${RETRY_AFTER_MS}`, ctx.maxWaitMs);
    const after = Math.round(next.openedAt - refusedAt);
    if (after < ctx.earliestMs(RETRY_AFTER_MS)) {
      fail(`the node tried again ${after} ms after a refusal with retry_after_ms ${RETRY_AFTER_MS}; it must wait at least that long`);
    }
    await ctx.expectHello(next, "Hello as the first frame of the attempt after the refusal");
    return `tried again ${after} ms after the refusal`;
  },
};
