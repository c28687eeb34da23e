import { ErrorCode, FrameSchema } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

const SEND = FrameSchema.field.send?.number as number;

/** §10.6 / §13.2: a plain Send to an id nobody holds → UNKNOWN_NODE naming the target. */
export const sendUnknownNodeNamesTarget: ServerScenario = {
  name: "send-unknown-node-names-target",
  description:
    "Send{node_id: <nobody>, request_id 0} → ProtocolError{UNKNOWN_NODE, fatal false, ref 0, ref_body 17, node_id = the target}",
  async run(ctx) {
    const a = await ctx.open("sender");
    const target = ctx.nodeId("nobody");
    a.conn.sendBody("send", { nodeId: target, payload: new Uint8Array([1]) });
    await a.conn.expectError({ code: ErrorCode.UNKNOWN_NODE, fatal: false, ref: 0n, refBody: SEND, nodeId: target }, ctx.replyTimeoutMs, {
      after: "after a Send to a node id nobody holds",
      ignore: ["windowUpdate"],
    });
  },
};
