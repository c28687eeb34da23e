import { expectStories, openAlive, processes, watchEveryProcess } from "../../presence-watch.js";
import { skip } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * §8.1 step 3: a Hello (no token) for a node id whose session waits in its
 * resume grace, wherever it lands → SUSPECT connection_closed, then LEFT
 * replaced, JOINED replaced on every watcher.
 */
export const graceTakeoverAcrossProcesses: ServerScenario = {
  name: "grace-takeover-across-processes",
  description:
    "a node's connection is lost (resume grace > 0: SUSPECT connection_closed); a fresh Hello for its id on another server process → every watcher sees LEFT replaced, JOINED replaced; skipped when Welcome.resume_grace_ms is 0",
  async run(ctx) {
    const watches = await watchEveryProcess(ctx);
    const nodeId = ctx.nodeId("grace");
    let current = await openAlive(ctx, "first connection", { nodeId });
    if (current.welcome.resumeGraceMs === 0) skip("the server has no resume grace (Welcome.resume_grace_ms 0)");
    const expected = ["JOINED hello"];
    let crossed = false;
    for (let round = 1; round <= 8 && !crossed; round++) {
      current.conn.destroy();
      expected.push("SUSPECT connection_closed");
      await expectStories(ctx, watches, nodeId, expected, "a lost connection in its grace");
      const next = await openAlive(ctx, `newer connection ${round}`, { nodeId });
      expected.push("LEFT replaced", "JOINED replaced");
      crossed = next.welcome.serverId !== current.welcome.serverId || processes(watches) < 2;
      current = next;
    }
    current.conn.sendBody("goodbye", { reason: "done" });
    expected.push("LEFT goodbye");
    await expectStories(ctx, watches, nodeId, expected, "a takeover of a session in its grace");
    return `${processes(watches)} server process(es) seen; ${crossed ? "crossed processes" : "never crossed"}`;
  },
};
