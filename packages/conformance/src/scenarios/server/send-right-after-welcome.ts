import { fail } from "../../scenario-outcome.js";
import { openAlive } from "../../presence-watch.js";
import type { ServerScenario } from "../../server-scenario.js";

const TRIALS = 50;

/**
 * §5.3 "When a welcomed node is reachable": a Send to a node, sent the
 * moment its Welcome arrived, is delivered — whatever process of the server
 * holds sender and target — never answered UNKNOWN_NODE.
 */
export const sendRightAfterWelcome: ServerScenario = {
  name: "send-right-after-welcome",
  description: `${TRIALS} times: a new node's Welcome, then at once a Send to it from another connection → Delivery{DIRECT} at the target, no UNKNOWN_NODE`,
  async run(ctx) {
    const sender = await openAlive(ctx, "sender", { nodeId: ctx.nodeId("sender") });
    let cross = 0;
    for (let i = 0; i < TRIALS; i++) {
      const nodeId = ctx.nodeId("target");
      const target = await ctx.open(`target ${i + 1}`, { nodeId });
      if (target.welcome.serverId !== sender.welcome.serverId) cross++;
      sender.conn.sendBody("send", { nodeId, payload: new Uint8Array([i]) });
      const d = await target.conn.expectFrame("delivery", ctx.replyTimeoutMs, {
        after: `after another connection sent to ${nodeId} right after its Welcome`,
      });
      if (d.fromNodeId !== sender.welcome.nodeId) fail(`Delivery.from_node_id is ${JSON.stringify(d.fromNodeId)}`);
      target.conn.destroy();
    }
    await sender.conn.expectNothing(50, { after: "after its Sends", ignore: ["heartbeatAck", "windowUpdate"] });
    return `${cross} of ${TRIALS} targets on another server process than the sender`;
  },
};
