import { ErrorCode } from "@hb/codec";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * A Will that is present must have a valid concrete subject outside `$hb.`,
 * else INVALID_ARGUMENT fatal (PROTOCOL.md §4.3, §10.1, §10.3).
 */
export const invalidWill: ServerScenario = {
  name: "invalid-will",
  description:
    "Hello.will with an empty subject, a wildcard subject (a.*), a $hb. subject, or an empty token (a..b) → ProtocolError{INVALID_ARGUMENT, fatal} and close; a will on a.b is accepted",
  async run(ctx) {
    const payload = new Uint8Array([1]);
    for (const subject of ["", "a.*", "$hb.presence", "a..b"]) {
      const conn = await ctx.connect(`connection with will subject ${JSON.stringify(subject)}`);
      conn.sendBody("hello", { protocolVersion: 1, nodeId: ctx.nodeId("will"), will: { subject, payload } });
      await ctx.expectFatal(conn, ErrorCode.INVALID_ARGUMENT, `after sending Hello with will.subject ${JSON.stringify(subject)}`);
    }
    await ctx.open("connection with a will on a.b", { will: { subject: "a.b", payload } });
  },
};
