import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/** Hello.max_frame_size must be 0 or 1024..67108864, else INVALID_ARGUMENT fatal (PROTOCOL.md §3.3, §4.2). */
export const invalidMaxFrameSize: ServerScenario = {
  name: "invalid-max-frame-size",
  description:
    "Hello.max_frame_size 1023 or 67108865 → ProtocolError{INVALID_ARGUMENT, fatal} and close; 1024 is accepted",
  async run(ctx) {
    for (const size of [1023, 67_108_865]) {
      const conn = await ctx.connect(`connection announcing max_frame_size ${size}`);
      conn.sendBody("hello", { protocolVersion: 1, nodeId: ctx.nodeId("mfs"), maxFrameSize: size });
      await ctx.expectFatal(conn, ErrorCode.INVALID_ARGUMENT, `after sending Hello{max_frame_size: ${size}}`);
    }
    await ctx.open("connection announcing max_frame_size 1024", { maxFrameSize: 1024 });
  },
};
