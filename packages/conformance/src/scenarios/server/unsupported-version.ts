import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/** protocol_version ≠ 1 → UNSUPPORTED_VERSION fatal (PROTOCOL.md §5.3, §15). */
export const unsupportedVersion: ServerScenario = {
  name: "unsupported-version",
  description: "Hello.protocol_version 2, and 0 (unset) → ProtocolError{UNSUPPORTED_VERSION, fatal} and the server closes",
  async run(ctx) {
    for (const version of [2, 0]) {
      const conn = await ctx.connect(`connection with protocol_version ${version}`);
      conn.sendBody("hello", { protocolVersion: version, nodeId: ctx.nodeId("version") });
      await ctx.expectFatal(conn, ErrorCode.UNSUPPORTED_VERSION, `after sending Hello{protocol_version: ${version}}`);
    }
  },
};
