import { ErrorCode, FrameSchema } from "@hb/codec";
import { expectStories, openAlive, processes, watchEveryProcess } from "../../presence-watch.js";
import type { ServerScenario } from "../../server-scenario.js";

const ATTACH = FrameSchema.field.attach?.number as number;

/**
 * §8.1 (Attach): a Hello for a node id a gateway attached, from a connection
 * on another process → LEFT replaced, JOINED replaced everywhere; the gateway
 * gets a non-fatal DUPLICATE_NODE naming the handle and the node (§13.2).
 */
export const gatewayTakeoverAcrossProcesses: ServerScenario = {
  name: "gateway-takeover-across-processes",
  description:
    "a gateway attaches a node; a Hello for that id lands on another server process → every watcher sees JOINED attach, LEFT replaced, JOINED replaced; the gateway gets ProtocolError{DUPLICATE_NODE, fatal false, ref = handle, ref_body 9, node_id}",
  async run(ctx) {
    const watches = await watchEveryProcess(ctx);
    const gateway = await openAlive(ctx, "gateway", { nodeId: ctx.nodeId("gateway") });
    const nodeId = ctx.nodeId("attached");
    const expected: string[] = [];
    let crossed = false;
    for (let handle = 1; handle <= 8 && !crossed; handle++) {
      gateway.conn.sendBody("attach", { handle, nodeId });
      await gateway.conn.expectFrame("attached", ctx.replyTimeoutMs, { after: `after Attach{handle: ${handle}}` });
      expected.push("JOINED attach");
      const taker = await openAlive(ctx, `taker ${handle}`, { nodeId });
      expected.push("LEFT replaced", "JOINED replaced");
      await gateway.conn.expectError(
        { code: ErrorCode.DUPLICATE_NODE, fatal: false, ref: BigInt(handle), refBody: ATTACH, nodeId },
        ctx.replyTimeoutMs,
        { after: "after a Hello registered the attached node's id" },
      );
      crossed = taker.welcome.serverId !== gateway.welcome.serverId || processes(watches) < 2;
      taker.conn.sendBody("goodbye", { reason: "next round" });
      expected.push("LEFT goodbye");
      await expectStories(ctx, watches, nodeId, expected, `takeover round ${handle}`);
    }
    return `${processes(watches)} server process(es) seen; ${crossed ? "the takeover crossed processes" : "never crossed"}`;
  },
};
