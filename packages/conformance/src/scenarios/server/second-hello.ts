import { ErrorCode, PROTOCOL_VERSION } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/** A second Hello → PROTOCOL_VIOLATION fatal (PROTOCOL.md §5.2). */
export const secondHello: ServerScenario = {
  name: "second-hello",
  description: "Hello, Welcome, then another Hello → ProtocolError{PROTOCOL_VIOLATION, fatal} and the server closes",
  async run(ctx) {
    const { conn, welcome } = await ctx.open("connection");
    conn.sendBody("hello", { protocolVersion: PROTOCOL_VERSION, nodeId: welcome.nodeId });
    await ctx.expectFatal(conn, ErrorCode.PROTOCOL_VIOLATION, "after sending a second Hello");
  },
};
