import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/** Hello with an empty node id → the server assigns one (PROTOCOL.md §4.2). */
export const handshakeAssignsNodeId: ServerScenario = {
  name: "handshake-assigns-node-id",
  description: "Hello with an empty node_id → Welcome carries a server-assigned, non-empty node id; two such connections get different ids",
  async run(ctx) {
    const a = await ctx.open("connection A", { nodeId: "" });
    const b = await ctx.open("connection B", { nodeId: "" });
    if (a.welcome.nodeId === "") fail("Welcome.node_id is empty after a Hello with an empty node_id; expected a server-assigned id");
    if (a.welcome.nodeId === b.welcome.nodeId) {
      fail(`two connections with an empty Hello.node_id were both assigned ${JSON.stringify(a.welcome.nodeId)}`);
    }
    // The assigned id must itself be a valid node id.
    const bytes = Buffer.byteLength(a.welcome.nodeId, "utf8");
    if (bytes > 128 || /[\u0000-\u001f\u007f]/.test(a.welcome.nodeId)) {
      fail(`the assigned node id ${JSON.stringify(a.welcome.nodeId)} breaks the node id rules (1..128 bytes, no control characters)`);
    }
    return `assigned ${JSON.stringify(a.welcome.nodeId)}`;
  },
};
