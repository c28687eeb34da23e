import { ErrorCode } from "@hb/codec";
import { openObserver } from "../../observer-connection.js";
import { expectStories, openAlive, processes, watchEveryProcess } from "../../presence-watch.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * §5.7, §8.1: one id space across roles, the newer wins — an observer
 * taking a node's id makes the node LEFT replaced with no JOINED after it;
 * a node taking an observer's id is JOINED hello; the older connection gets
 * DUPLICATE_NODE fatal either way.
 */
export const observerTakeover: ServerScenario = {
  name: "observer-takeover",
  description:
    "watchers on every server process; a node id taken by an observer, then by a node again, until both directions crossed processes (where there are several) → every watcher sees JOINED hello, then LEFT replaced and JOINED hello per round (no JOINED for the observer), then LEFT goodbye; the older connection gets DUPLICATE_NODE fatal each time; skipped when Welcome.role is not OBSERVER",
  async run(ctx) {
    const watches = await watchEveryProcess(ctx);
    const nodeId = ctx.nodeId("shared");
    let node = await openAlive(ctx, "node", { nodeId });
    const expected = ["JOINED hello"];
    let observerCrossed = false;
    let nodeCrossed = false;
    for (let round = 1; round <= 8 && !(observerCrossed && nodeCrossed); round++) {
      const observer = await openObserver(ctx, `observer ${round}`, { nodeId });
      await node.conn.expectError({ code: ErrorCode.DUPLICATE_NODE, fatal: true, ref: 0n }, ctx.replyTimeoutMs, {
        after: "after an observer registered the node's id",
      });
      expected.push("LEFT replaced");
      observerCrossed ||= observer.welcome.serverId !== node.welcome.serverId || processes(watches) < 2;
      node = await openAlive(ctx, `node ${round}`, { nodeId });
      await observer.conn.expectError({ code: ErrorCode.DUPLICATE_NODE, fatal: true, ref: 0n }, ctx.replyTimeoutMs, {
        after: "after a node registered the observer's id",
      });
      expected.push("JOINED hello");
      nodeCrossed ||= node.welcome.serverId !== observer.welcome.serverId || processes(watches) < 2;
      await expectStories(ctx, watches, nodeId, expected, `takeovers across roles, round ${round}`);
    }
    node.conn.sendBody("goodbye", { reason: "done" });
    expected.push("LEFT goodbye");
    await expectStories(ctx, watches, nodeId, expected, "takeovers across roles");
    const crossed = observerCrossed && nodeCrossed;
    return `${processes(watches)} server process(es) seen; ${crossed ? "both directions crossed processes" : "not every takeover crossed processes"}`;
  },
};
