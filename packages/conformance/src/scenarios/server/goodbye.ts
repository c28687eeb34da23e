import type { ServerScenario } from "../../server-scenario.js";

/** Goodbye → the server closes the connection, without an error (PROTOCOL.md §4.5, §5.4). */
export const goodbye: ServerScenario = {
  name: "goodbye",
  description: "Goodbye → the server closes the connection promptly, without a ProtocolError",
  async run(ctx) {
    const { conn, welcome } = await ctx.open("connection");
    conn.sendBody("goodbye", { reason: "conformance test" });
    // Stay below the heartbeat timeout, so that a server ignoring Goodbye is
    // caught as such rather than by its liveness check.
    const wait = Math.min(ctx.replyTimeoutMs, Math.floor(welcome.heartbeatTimeoutMs * 0.8));
    const { afterMs } = await conn.expectClose(wait, { after: "after Goodbye", forbid: ["error"] });
    return `closed ${Math.round(afterMs)} ms after Goodbye`;
  },
};
