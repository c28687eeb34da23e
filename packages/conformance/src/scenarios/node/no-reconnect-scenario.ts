import { type ErrorCode, errorCodeName } from "@hb/codec";
import type { NodeScenario } from "../../node-scenario.js";
import type { NodeScenarioContext } from "../../node-scenario-context.js";
import type { RawConnection } from "../../raw-connection.js";
import { fail } from "../../scenario-outcome.js";

const WATCH_MS = 2500;

/**
 * Builds a scenario checking that the node does not reconnect by itself
 * after a fatal `code` that PROTOCOL.md §6.6 lists as permanent.
 *
 * @param when - `"session"`: the error ends an established session;
 *   `"reconnect"`: it refuses the Hello of a reconnect
 */
export function noReconnectScenario(name: string, code: ErrorCode, when: "session" | "reconnect"): NodeScenario {
  const codeName = errorCodeName(code);
  const where = when === "session" ? "on an established session" : "in answer to the Hello of a reconnect";
  return {
    name,
    description: `ProtocolError{${codeName}, fatal} ${where} → the node does not connect again (watched for ${WATCH_MS / 1000} s)`,
    async run(ctx) {
      const s = await ctx.session("the node's first connection");
      await ctx.settle(s);
      let conn: RawConnection = s.conn;
      if (when === "reconnect") {
        s.conn.destroy();
        conn = await ctx.accept("a reconnect after the server dropped the connection", ctx.maxWaitMs);
        await ctx.expectHello(conn, "Hello as the first frame of the reconnect");
      }
      conn.sendBody("error", { code, message: `conformance: ${codeName}`, fatal: true });
      conn.endWrites();
      const sentAt = performance.now();
      await conn.expectClose(ctx.replyTimeoutMs, { after: `by the node after a fatal ProtocolError{${codeName}}` });
      await expectNoConnection(ctx, Math.min(WATCH_MS, ctx.maxWaitMs), sentAt, codeName);
    },
  };
}

async function expectNoConnection(ctx: NodeScenarioContext, watchMs: number, since: number, codeName: string): Promise<void> {
  const conn = await ctx.server.accept(Math.max(0, since + watchMs - performance.now()));
  if (conn !== undefined) {
    fail(
      `the node connected again ${Math.round(conn.openedAt - since)} ms after a fatal ProtocolError{${codeName}}; after ${codeName} a client must not reconnect by itself`,
    );
  }
}
