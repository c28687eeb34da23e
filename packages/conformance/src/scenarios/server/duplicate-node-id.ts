import { ErrorCode } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * A second Hello with a node id online elsewhere, without a resume token:
 * the newer connection wins, the older gets DUPLICATE_NODE fatal (ref 0)
 * and is closed (PROTOCOL.md §8.1).
 */
export const duplicateNodeId: ServerScenario = {
  name: "duplicate-node-id",
  description:
    "two connections Hello with the same node id (no resume token) → the newer gets a fresh Welcome (resumed = false); the older gets ProtocolError{DUPLICATE_NODE, fatal, ref 0} and is closed",
  async run(ctx) {
    const nodeId = ctx.nodeId("dup");
    const a = await ctx.open("older connection", { nodeId });
    const b = await ctx.open("newer connection", { nodeId });
    if (b.welcome.resumed) fail("the newer connection's Welcome has resumed = true without a resume token");
    if (b.welcome.nodeId !== nodeId) fail(`the newer connection's Welcome.node_id is ${JSON.stringify(b.welcome.nodeId)}, expected ${JSON.stringify(nodeId)}`);
    await a.conn.expectError({ code: ErrorCode.DUPLICATE_NODE, fatal: true, ref: 0n }, ctx.replyTimeoutMs, {
      after: "after a newer connection registered the same node id",
      ignore: ["heartbeatAck"],
    });
    await a.conn.expectClose(ctx.replyTimeoutMs, { after: "after its fatal ProtocolError{code: DUPLICATE_NODE}" });
    b.conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 7n });
    await b.conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "on the newer connection after the older was replaced" });
  },
};
