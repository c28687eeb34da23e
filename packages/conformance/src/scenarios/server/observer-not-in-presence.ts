import { fail } from "../../scenario-outcome.js";
import { openObserver } from "../../observer-connection.js";
import { expectStories, keepAlive, openAlive, PresenceWatch, processes, watchEveryProcess } from "../../presence-watch.js";
import type { ServerScenario } from "../../server-scenario.js";
import type { ServerScenarioContext } from "../../server-scenario-context.js";

/**
 * §5.7: an observer is not a node — watchers on every process, and a
 * watcher subscribed with a snapshot after it connected, receive nothing
 * about its Hello, heartbeats or Goodbye.
 */
export const observerNotInPresence: ServerScenario = {
  name: "observer-not-in-presence",
  description:
    "watchers on every server process; an observer (Hello.role OBSERVER → Welcome.role OBSERVER) heartbeats (acked) and says Goodbye; a watcher subscribed with snapshot while it is online → no presence event and no snapshot entry names it (a node connected alongside shows the watchers are live); skipped when Welcome.role is not OBSERVER",
  async run(ctx) {
    const watches = await watchEveryProcess(ctx);
    const observer = await openObserver(ctx, "observer", {}, true);
    const id = observer.welcome.nodeId;
    observer.conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 7n });
    await observer.conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "after the observer's Heartbeat" });
    keepAlive(ctx, observer.conn, observer.welcome);
    const marker = await openAlive(ctx, "node alongside", { nodeId: ctx.nodeId("marker") });
    await expectStories(ctx, watches, marker.welcome.nodeId, ["JOINED hello"], "a node alongside the observer");
    const snapshot = await openSnapshotWatch(ctx);
    await expectStories(ctx, [snapshot], marker.welcome.nodeId, ["JOINED snapshot"], "a snapshot with a node and an observer online");
    observer.conn.sendBody("goodbye", { reason: "done" });
    await observer.conn.expectClose(ctx.replyTimeoutMs, { after: "after the observer's Goodbye", forbid: ["error"] });
    marker.conn.sendBody("goodbye", { reason: "done" });
    await expectStories(ctx, watches, marker.welcome.nodeId, ["JOINED hello", "LEFT goodbye"], "a node alongside the observer");
    await expectStories(ctx, [snapshot], marker.welcome.nodeId, ["JOINED snapshot", "LEFT goodbye"], "a node alongside the observer");
    for (const w of [...watches, snapshot]) {
      const story = w.story(id);
      if (story.length > 0) fail(`the watcher on server_id ${JSON.stringify(w.serverId)} received [${story.join(", ")}] about the observer ${id}`);
    }
    return `${processes(watches)} server process(es) watched`;
  },
};

// A watcher subscribed with `snapshot`: the nodes already online are reported JOINED snapshot (§7.3).
async function openSnapshotWatch(ctx: ServerScenarioContext): Promise<PresenceWatch> {
  const o = await ctx.open("watcher with snapshot", { nodeId: ctx.nodeId("watch") });
  // Recording from before the Subscribe: the snapshot follows Subscribed at once.
  const w = new PresenceWatch(o);
  o.conn.sendBody("subscribe", { subject: "$hb.presence", requestId: 1, snapshot: true, undamped: true });
  await o.conn.expectFrame("subscribed", ctx.replyTimeoutMs, { after: "after Subscribe{$hb.presence, snapshot, undamped}" });
  keepAlive(ctx, o.conn, o.welcome);
  return w;
}
