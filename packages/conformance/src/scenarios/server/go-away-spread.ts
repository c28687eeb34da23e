import { fail, skip } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/** Connections that watch the drain. */
const CONNECTIONS = 8;

/**
 * A draining server spreads its connections' departures (PROTOCOL.md §5.5):
 * each GoAway carries its own `reconnect_delay_ms` in (0, `drain_ms`], and a
 * connection that stays is still served (a Heartbeat is acked) until it
 * leaves. Needs a way to make the server drain (the `drain` option of the
 * runner: it closes the server, so run it alone); skipped without one. Not
 * in the default list (`serverSetupScenarios`).
 */
export const goAwaySpread: ServerScenario = {
  name: "go-away-spread",
  description: `${CONNECTIONS} connections, then the server drains → each GoAway has reconnect_delay_ms in (0, drain_ms], not all equal, and a Heartbeat after the GoAway is still acked`,
  async run(ctx) {
    if (ctx.drain === undefined) skip("the runner was given no way to make the server drain (option drain)");
    const conns = [];
    for (let i = 0; i < CONNECTIONS; i++) conns.push((await ctx.open(`connection ${i + 1}`)).conn);
    await ctx.drain();
    const delays: number[] = [];
    for (const [i, conn] of conns.entries()) {
      const goAway = await conn.expectFrame("goAway", ctx.replyTimeoutMs, { after: "after the server began to drain", ignore: ["heartbeatAck"] });
      const d = goAway.reconnectDelayMs;
      if (d === 0) fail(`connection ${i + 1}: GoAway has reconnect_delay_ms 0 (not said); a draining server should spread its connections (§5.5)`);
      if (d > goAway.drainMs) fail(`connection ${i + 1}: GoAway has reconnect_delay_ms ${d} > drain_ms ${goAway.drainMs}`);
      delays.push(d);
    }
    if (new Set(delays).size === 1) fail(`all ${CONNECTIONS} GoAways have reconnect_delay_ms ${delays[0]}: not spread over the drain (§5.5)`);
    // The connection that leaves last is still served meanwhile.
    const last = conns[delays.indexOf(Math.max(...delays))];
    last?.sendBody("heartbeat", { seq: 1n, sendTimeUs: 7n });
    const ack = await last?.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "after a Heartbeat sent while draining, before its reconnect delay" });
    if (ack?.sendTimeUs !== 7n) fail("the HeartbeatAck after the GoAway does not echo send_time_us");
    return `reconnect_delay_ms ${delays.sort((a, b) => a - b).join(", ")}`;
  },
};
