import { ErrorCode } from "@hb/codec";
import { expectStories, openAlive, processes, watchEveryProcess } from "../../presence-watch.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * §8.1 (Hello): a newer connection takes a node id over wherever each
 * connection landed — watchers on every process of the server see the same
 * JOINED hello, LEFT replaced, JOINED replaced.
 */
export const takeoverAcrossProcesses: ServerScenario = {
  name: "takeover-across-processes",
  description:
    "watchers on every server process (told apart by Welcome.server_id); a node id registered again by a connection on another process → every watcher sees JOINED hello, LEFT replaced, JOINED replaced (then LEFT goodbye); the older connection gets DUPLICATE_NODE fatal",
  async run(ctx) {
    const watches = await watchEveryProcess(ctx);
    const nodeId = ctx.nodeId("takeover");
    let current = await openAlive(ctx, "first connection", { nodeId });
    const expected = ["JOINED hello"];
    let crossed = false;
    for (let round = 1; round <= 8 && !crossed; round++) {
      const next = await openAlive(ctx, `newer connection ${round}`, { nodeId });
      expected.push("LEFT replaced", "JOINED replaced");
      await current.conn.expectError({ code: ErrorCode.DUPLICATE_NODE, fatal: true, ref: 0n }, ctx.replyTimeoutMs, {
        after: "after a newer connection registered the same node id",
      });
      crossed = next.welcome.serverId !== current.welcome.serverId || processes(watches) < 2;
      current = next;
    }
    current.conn.sendBody("goodbye", { reason: "done" });
    expected.push("LEFT goodbye");
    await expectStories(ctx, watches, nodeId, expected, "a takeover");
    return `${processes(watches)} server process(es) seen; ${crossed ? "the takeover crossed processes" : "every newer connection landed on the older one's process"}`;
  },
};
