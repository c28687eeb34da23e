import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * A bad Attach is refused with a non-fatal INVALID_ARGUMENT whose ref is the
 * handle, and the connection carries on (PROTOCOL.md §4.9, §8.1, §9.1).
 */
export const gatewayAttachRejects: ServerScenario = {
  name: "gateway-attach-rejects",
  description:
    "Attach with a handle in use, handle 0, a node id with a control character, an empty node id, the connection's own node id, or an id already attached on it → ProtocolError{INVALID_ARGUMENT, ref: handle, fatal: false}; the connection stays up",
  async run(ctx) {
    const { conn, welcome } = await ctx.open("gateway connection");
    const first = ctx.nodeId("gw");
    conn.sendBody("attach", { handle: 1, nodeId: first });
    await conn.expectFrame("attached", ctx.replyTimeoutMs, { after: "after a valid Attach{handle: 1}" });
    const cases: [string, number, string][] = [
      ["handle 1, already in use", 1, ctx.nodeId("gw")],
      ["handle 0", 0, ctx.nodeId("gw")],
      ["a node id with a control character", 2, `bad\u0002${ctx.nodeId("gw")}`],
      ["an empty node id", 3, ""],
      ["the node id of the connection's own node", 4, welcome.nodeId],
      ["the node id already attached as handle 1", 5, first],
    ];
    for (const [what, handle, nodeId] of cases) {
      conn.sendBody("attach", { handle, nodeId });
      await conn.expectError({ code: ErrorCode.INVALID_ARGUMENT, ref: BigInt(handle), fatal: false }, ctx.replyTimeoutMs, {
        after: `after Attach with ${what}`,
      });
    }
    conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 1n });
    await conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "after the refused Attaches (the connection must stay up)" });
  },
};
