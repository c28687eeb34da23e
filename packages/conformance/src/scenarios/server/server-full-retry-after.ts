import { ErrorCode } from "@hb/codec";
import { fail, skip } from "../../scenario-outcome.js";
import type { RawConnection } from "../../raw-connection.js";
import type { ServerScenario } from "../../server-scenario.js";

/** Most connections the scenario opens looking for the server's limit. */
const MAX_CONNECTIONS = 64;

/**
 * A server at its connection limit refuses the next connection on accept
 * with a fatal `SERVER_FULL` that says when to come back (PROTOCOL.md §5.1,
 * §6.6: `retry_after_ms` > 0). Needs a server started with a small
 * `maxConnections` (≤ 32, counted for the whole server) and a handshake
 * timeout longer than the search (about 300 ms per connection): against
 * another it is skipped. Not in the default list (`serverSetupScenarios`).
 */
export const serverFullRetryAfter: ServerScenario = {
  name: "server-full-retry-after",
  description: `connections opened until one is refused (at most ${MAX_CONNECTIONS}; start the server with maxConnections ≤ 32) → ProtocolError{SERVER_FULL, fatal} with retry_after_ms > 0, then close`,
  async run(ctx) {
    const open: RawConnection[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const conn = await ctx.connect(`connection ${i + 1}`);
      // A refusal comes on accept, before anything is read; a connection that is admitted waits for its Hello.
      const event = await conn.next(Math.min(ctx.replyTimeoutMs, 300));
      if (event === undefined) {
        open.push(conn);
        continue;
      }
      if (event.kind === "end") fail(`connection ${i + 1} was closed on accept without a ProtocolError{SERVER_FULL}`);
      const body = event.frame.body;
      if (body.case !== "error" || body.value.code !== ErrorCode.SERVER_FULL || !body.value.fatal) {
        fail(`connection ${i + 1}: expected nothing or a fatal ProtocolError{SERVER_FULL} on accept, got ${body.case}`);
      }
      if (body.value.retryAfterMs === 0) fail(`the SERVER_FULL refusal of connection ${i + 1} has retry_after_ms 0: it should say when to come back (§6.6)`);
      await conn.expectClose(ctx.replyTimeoutMs, { after: "after its fatal ProtocolError{SERVER_FULL}" });
      return `connection ${i + 1} refused with retry_after_ms ${body.value.retryAfterMs}`;
    }
    skip(`the server accepted ${MAX_CONNECTIONS} connections without refusing one: start it with maxConnections ≤ 32 for this scenario`);
  },
};
