import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Node id rules: 1..128 bytes of UTF-8, no control characters (U+0000–U+001F,
 * U+007F); breaking them → INVALID_ARGUMENT fatal (PROTOCOL.md §4.2, §14).
 */
export const invalidNodeId: ServerScenario = {
  name: "invalid-node-id",
  description:
    "Hello.node_id with a control character (U+0001, U+007F) or of 129 / 200 bytes → ProtocolError{INVALID_ARGUMENT, fatal} and close; a 128-byte id is accepted",
  async run(ctx) {
    const cases: [string, string][] = [
      ["a control character U+0001", `bad\u0001id-${ctx.nodeId()}`],
      ["U+007F (DEL)", `bad\u007fid-${ctx.nodeId()}`],
      ["129 bytes", "b".repeat(129)],
      ["200 bytes", "c".repeat(200)],
    ];
    for (const [what, nodeId] of cases) {
      const conn = await ctx.connect(`connection with a node id of ${what}`);
      conn.sendBody("hello", { protocolVersion: 1, nodeId });
      await ctx.expectFatal(conn, ErrorCode.INVALID_ARGUMENT, `after sending Hello with a node_id of ${what}`);
    }
    // The boundary: exactly 128 bytes is valid (made unique per run).
    const longest = `${ctx.nodeId("max")}-`.padEnd(128, "m");
    await ctx.open("connection with a 128-byte node id", { nodeId: longest });
  },
};
