import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * A Hello for the id of a node attached on a gateway takes it over: the
 * gateway gets a non-fatal DUPLICATE_NODE with ref = handle and carries on
 * (PROTOCOL.md §8.1, §13.1).
 */
export const gatewayDuplicateTakeover: ServerScenario = {
  name: "gateway-duplicate-takeover",
  description:
    "a gateway attaches node X as handle 9; another connection Hellos as X → the gateway gets ProtocolError{DUPLICATE_NODE, ref: 9, fatal: false} and stays up; handle 9 is free again",
  async run(ctx) {
    const gw = await ctx.open("gateway connection");
    const nodeId = ctx.nodeId("taken");
    gw.conn.sendBody("attach", { handle: 9, nodeId });
    await gw.conn.expectFrame("attached", ctx.replyTimeoutMs, { after: "after Attach{handle: 9}" });
    await ctx.open("connection taking the id over", { nodeId });
    await gw.conn.expectError({ code: ErrorCode.DUPLICATE_NODE, ref: 9n, fatal: false }, ctx.replyTimeoutMs, {
      after: "after another connection registered the attached node's id",
    });
    gw.conn.sendBody("attach", { handle: 9, nodeId: ctx.nodeId("again") });
    await gw.conn.expectFrame("attached", ctx.replyTimeoutMs, {
      after: "after attaching handle 9 again (the handle is free once its node was taken over)",
    });
  },
};
