import { fail } from "../../scenario-outcome.js";
import { openObserver } from "../../observer-connection.js";
import { openAlive } from "../../presence-watch.js";
import type { ServerScenario } from "../../server-scenario.js";

const ROUNDS = 6;
// Flow-control credit for what a connection sent, and acks of its keep-alive heartbeats.
const QUIET = ["windowUpdate", "heartbeatAck"] as const;

/**
 * §5.7: an observer's id is routable — a node's Send reaches it, what it
 * sends comes from its id, and the Reply to its request reaches it —
 * wherever the observer and the node landed on a server of several
 * processes.
 */
export const observerRoutable: ServerScenario = {
  name: "observer-routable",
  description: `${ROUNDS} rounds: an observer and a node (on different server processes where there are several); the node's Send to the observer's id → Delivery{DIRECT, from_node_id = node}; the observer's request to the node → Delivery{from_node_id = observer}, and the node's Reply → Reply at the observer; skipped when Welcome.role is not OBSERVER`,
  async run(ctx) {
    let cross = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const observer = await openObserver(ctx, `observer ${round}`);
      const node = await openAlive(ctx, `node ${round}`, { nodeId: ctx.nodeId("node") });
      if (node.welcome.serverId !== observer.welcome.serverId) cross++;
      const oid = observer.welcome.nodeId;
      const nid = node.welcome.nodeId;
      node.conn.sendBody("send", { nodeId: oid, payload: new Uint8Array([round]) });
      const d = await observer.conn.expectFrame("delivery", ctx.replyTimeoutMs, { after: `after node ${nid} sent to the observer's id ${oid}`, ignore: QUIET });
      if (d.fromNodeId !== nid) fail(`the observer's Delivery.from_node_id is ${JSON.stringify(d.fromNodeId)}, expected ${JSON.stringify(nid)}`);
      observer.conn.sendBody("send", { nodeId: nid, payload: new Uint8Array([round]), requestId: BigInt(round) });
      const req = await node.conn.expectFrame("delivery", ctx.replyTimeoutMs, { after: `after the observer ${oid} sent a request to ${nid}`, ignore: QUIET });
      if (req.fromNodeId !== oid) fail(`the request's Delivery.from_node_id is ${JSON.stringify(req.fromNodeId)}, expected the observer's id ${JSON.stringify(oid)}`);
      node.conn.sendBody("reply", { nodeId: oid, requestId: req.requestId, payload: new Uint8Array([round, round]) });
      const reply = await observer.conn.expectFrame("reply", ctx.replyTimeoutMs, { after: `after ${nid} replied to the observer's request`, ignore: QUIET });
      if (reply.requestId !== BigInt(round)) fail(`the observer's Reply has request_id ${reply.requestId}, expected ${round}`);
      if (reply.nodeId !== nid) fail(`the observer's Reply.node_id (the replier) is ${JSON.stringify(reply.nodeId)}, expected ${JSON.stringify(nid)}`);
      observer.conn.destroy();
      node.conn.destroy();
    }
    return `${cross} of ${ROUNDS} rounds with the observer and the node on different server processes`;
  },
};
