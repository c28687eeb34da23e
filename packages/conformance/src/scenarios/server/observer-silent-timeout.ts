import { ErrorCode } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import { openObserver } from "../../observer-connection.js";
import { expectStories, openAlive, watchEveryProcess } from "../../presence-watch.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * §5.7, §6.3: an observer that sends nothing for heartbeat_timeout gets
 * HEARTBEAT_TIMEOUT fatal and is closed, with no presence event at all (it
 * was never SUSPECT, nor TIMED_OUT).
 */
export const observerSilentTimeout: ServerScenario = {
  name: "observer-silent-timeout",
  description:
    "watchers on every server process; an observer that sends nothing after Welcome → ProtocolError{HEARTBEAT_TIMEOUT, fatal} and close once heartbeat_timeout_ms has passed (not before, at most slack after), and no watcher receives any presence event about it; skipped when Welcome.role is not OBSERVER",
  async run(ctx) {
    const watches = await watchEveryProcess(ctx);
    const observer = await openObserver(ctx, "silent observer", {}, true);
    const start = performance.now();
    const id = observer.welcome.nodeId;
    const timeout = observer.welcome.heartbeatTimeoutMs;
    const slack = ctx.slackMs(timeout, observer.welcome.checkIntervalMs);
    ctx.requireWait(timeout + slack, `heartbeat_timeout_ms ${timeout} + slack ${slack}`);
    await observer.conn.expectError({ code: ErrorCode.HEARTBEAT_TIMEOUT, fatal: true }, timeout + slack, {
      after: `while the observer stays silent (heartbeat_timeout_ms ${timeout} + slack ${slack})`,
    });
    const elapsed = Math.round(performance.now() - start);
    if (elapsed < ctx.earliestMs(timeout)) {
      fail(`HEARTBEAT_TIMEOUT came ${elapsed} ms after Welcome, earlier than the advertised heartbeat_timeout_ms ${timeout}`);
    }
    await observer.conn.expectClose(ctx.replyTimeoutMs, { after: "after its fatal ProtocolError{code: HEARTBEAT_TIMEOUT}" });
    // A node joining and leaving afterwards shows every watcher received what came before.
    const marker = await openAlive(ctx, "node after it", { nodeId: ctx.nodeId("marker") });
    marker.conn.sendBody("goodbye", { reason: "done" });
    await expectStories(ctx, watches, marker.welcome.nodeId, ["JOINED hello", "LEFT goodbye"], "a node after the observer timed out");
    for (const w of watches) {
      const story = w.story(id);
      if (story.length > 0) fail(`the watcher on server_id ${JSON.stringify(w.serverId)} received [${story.join(", ")}] about the silent observer ${id}`);
    }
    return `timed out after ${elapsed} ms (advertised ${timeout} ms), silently`;
  },
};
