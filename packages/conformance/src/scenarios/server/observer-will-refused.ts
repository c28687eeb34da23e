import { ErrorCode, Role } from "@hb/codec";
import { openObserver } from "../../observer-connection.js";
import type { ServerScenario } from "../../server-scenario.js";

/** §5.7: an observer is never "lost", so a Hello with ROLE_OBSERVER and a will is INVALID_ARGUMENT, fatal. */
export const observerWillRefused: ServerScenario = {
  name: "observer-will-refused",
  description:
    "Hello{role OBSERVER, will on a.b} → ProtocolError{INVALID_ARGUMENT, fatal} and close (an observer without a will is welcomed); skipped when Welcome.role is not OBSERVER",
  async run(ctx) {
    const ok = await openObserver(ctx, "observer without a will");
    ok.conn.sendBody("goodbye", { reason: "done" });
    const conn = await ctx.connect("observer with a will");
    conn.sendBody("hello", {
      protocolVersion: 1,
      nodeId: ctx.nodeId("observer"),
      role: Role.OBSERVER,
      will: { subject: "a.b", payload: new Uint8Array([1]) },
    });
    await ctx.expectFatal(conn, ErrorCode.INVALID_ARGUMENT, "after sending Hello{role: OBSERVER, will}");
  },
};
