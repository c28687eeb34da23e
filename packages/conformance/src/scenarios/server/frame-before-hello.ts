import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/** Anything but Hello first → PROTOCOL_VIOLATION fatal (PROTOCOL.md §5.2). */
export const frameBeforeHello: ServerScenario = {
  name: "frame-before-hello",
  description: "a Heartbeat as the first frame → ProtocolError{PROTOCOL_VIOLATION, fatal} and the server closes",
  async run(ctx) {
    const conn = await ctx.connect("connection");
    conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 1n });
    await ctx.expectFatal(conn, ErrorCode.PROTOCOL_VIOLATION, "after sending a Heartbeat before Hello");
  },
};
