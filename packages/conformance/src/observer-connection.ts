import { Role } from "@hb/codec";
import { keepAlive } from "./presence-watch.js";
import { skip } from "./scenario-outcome.js";
import type { HelloInit, OpenConnection, ServerScenarioContext } from "./server-scenario-context.js";

/**
 * Opens an observer (`Hello.role = ROLE_OBSERVER`, PROTOCOL.md §5.7), kept
 * alive with heartbeats unless `silent`. Skips the scenario when the server
 * registered something else (`Welcome.role` not `ROLE_OBSERVER`: it does
 * not know roles, or registers every connection as a node, which §5.7
 * allows); the connection is closed then.
 */
export async function openObserver(
  ctx: ServerScenarioContext,
  label: string,
  hello: HelloInit = {},
  silent = false,
): Promise<OpenConnection> {
  const o = await ctx.open(label, { nodeId: ctx.nodeId("observer"), ...hello, role: Role.OBSERVER });
  if (o.welcome.role !== Role.OBSERVER) {
    o.conn.sendBody("goodbye", { reason: "observer role not supported" });
    skip(`the server registers no observers (Welcome.role = ${Role[o.welcome.role] ?? o.welcome.role} for Hello.role = OBSERVER)`);
  }
  if (!silent) keepAlive(ctx, o.conn, o.welcome);
  return o;
}
