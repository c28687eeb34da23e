import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/** Attach → Attached echoing the handle and node id (PROTOCOL.md §9.1). */
export const gatewayAttach: ServerScenario = {
  name: "gateway-attach",
  description: "Attach{handle 7, node_id, labels} → Attached{handle 7, node_id}",
  async run(ctx) {
    const { conn } = await ctx.open("gateway connection");
    const nodeId = ctx.nodeId("attached");
    conn.sendBody("attach", { handle: 7, nodeId, labels: { role: "sensor" } });
    const attached = await conn.expectFrame("attached", ctx.replyTimeoutMs, { after: `after Attach{handle: 7, node_id: ${JSON.stringify(nodeId)}}` });
    if (attached.handle !== 7 || attached.nodeId !== nodeId) {
      fail(`Attached is {handle: ${attached.handle}, node_id: ${JSON.stringify(attached.nodeId)}}, expected {handle: 7, node_id: ${JSON.stringify(nodeId)}}`);
    }
  },
};
