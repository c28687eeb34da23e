import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * §3.2 / §5.6: a stream that ends inside a frame is TRUNCATED, and the end
 * may be a half-close by a client that still reads: the server sends the
 * fatal error, then closes.
 */
export const decodeTruncatedHalfClose: ServerScenario = {
  name: "decode-truncated-half-close",
  description:
    "after Welcome, the bytes 05 3a 02 (a frame cut short) then a half-close (FIN, still reading) → ProtocolError{TRUNCATED, fatal}, then the server closes",
  async run(ctx) {
    const a = await ctx.open("client");
    a.conn.sendBytes(new Uint8Array([0x05, 0x3a, 0x02]));
    a.conn.endWrites();
    await ctx.expectFatal(a.conn, ErrorCode.TRUNCATED, "after a frame cut short and a half-close");
  },
};
