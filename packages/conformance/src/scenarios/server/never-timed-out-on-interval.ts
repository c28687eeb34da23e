import { PresenceKind } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * The promise of PROTOCOL.md §6.3 to node authors, whatever the server's
 * failure detector, holds and load: a node heartbeating on its negotiated
 * interval is never reported `TIMED_OUT` nor `SUSPECT heartbeat_missed`.
 * A watcher subscribed to `$hb.presence` (undamped) sees every transition
 * of the node for three timeouts.
 */
export const neverTimedOutOnInterval: ServerScenario = {
  name: "never-timed-out-on-interval",
  description:
    "a node sends Heartbeat every negotiated heartbeat_interval_ms for 3 × heartbeat_timeout_ms while a watcher subscribes to $hb.presence → no SUSPECT heartbeat_missed, no TIMED_OUT for it, and its connection stays open",
  async run(ctx) {
    const watcher = await ctx.open("watcher");
    const keep = ctx.keepAlivePeriod(watcher.welcome);
    ctx.repeat(keep, () => watcher.conn.sendBody("heartbeat", {}));
    watcher.conn.sendBody("subscribe", { requestId: 1, subject: "$hb.presence", undamped: true });
    await watcher.conn.expectFrame("subscribed", ctx.replyTimeoutMs, { after: "after Subscribe{$hb.presence}", ignore: ["heartbeatAck"] });
    const nodeId = ctx.nodeId("on-interval");
    const { conn, welcome } = await ctx.open("node", { nodeId });
    const interval = welcome.heartbeatIntervalMs;
    const wait = 3 * welcome.heartbeatTimeoutMs;
    ctx.requireWait(wait, `3 × heartbeat_timeout_ms ${welcome.heartbeatTimeoutMs}`);
    let seq = 0n;
    ctx.repeat(interval, () => conn.sendBody("heartbeat", { seq: ++seq }));
    const deadline = performance.now() + wait;
    const seen: string[] = [];
    while (performance.now() < deadline) {
      const event = await watcher.conn.next(Math.max(0, deadline - performance.now()));
      if (event === undefined) break;
      if (event.kind === "end") fail("watcher: the server closed the connection while watching presence");
      const body = event.frame.body;
      if (body.case !== "presence" || body.value.nodeId !== nodeId) continue;
      const kind = body.value.kind;
      seen.push(`${PresenceKind[kind]} ${body.value.reason}`);
      if (kind === PresenceKind.TIMED_OUT || (kind === PresenceKind.SUSPECT && body.value.reason === "heartbeat_missed")) {
        fail(`watcher: got ${PresenceKind[kind]} ${body.value.reason} for a node heartbeating every ${interval} ms (its negotiated interval)`);
      }
    }
    await conn.expectNothing(0, { after: `after ${seq} heartbeats on the interval`, ignore: ["heartbeatAck"] });
    return `${seq} heartbeats every ${interval} ms over ${wait} ms; presence of the node: ${seen.join(", ") || "nothing after its join"}`;
  },
};
