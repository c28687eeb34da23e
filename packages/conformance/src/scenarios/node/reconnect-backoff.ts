import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const WINDOW_MS = 2000;
const MAX_ATTEMPTS = 10;

/**
 * While every reconnect attempt fails, the node waits between attempts
 * instead of retrying in a tight loop (PROTOCOL.md §6.6:
 * exponential backoff with full jitter).
 */
export const reconnectBackoff: NodeScenario = {
  name: "reconnect-backoff",
  description: `after the server drops an established session and then closes every new connection at once, the node retries with a delay: at most ${MAX_ATTEMPTS} attempts in ${WINDOW_MS / 1000} s, and at least one within --max-wait`,
  async run(ctx) {
    const s = await ctx.session("the node's first connection");
    await ctx.settle(s);
    ctx.server.refusing = true;
    s.conn.destroy();
    const droppedAt = performance.now();
    await ctx.sleep(WINDOW_MS);
    const inWindow = ctx.server.refusedAt.length;
    if (inWindow > MAX_ATTEMPTS) {
      const delays = ctx.server.refusedAt.slice(0, 12).map((t, i, all) => Math.round(t - (i === 0 ? droppedAt : (all[i - 1] as number))));
      fail(`the node made ${inWindow} connection attempts in ${WINDOW_MS} ms while they were refused (delays ${delays.join(", ")} ms): no backoff`);
    }
    const deadline = droppedAt + ctx.maxWaitMs;
    while (ctx.server.refusedAt.length === 0 && performance.now() < deadline && ctx.node.exit === undefined) {
      await ctx.sleep(20);
    }
    const attempts = ctx.server.refusedAt;
    if (attempts.length === 0) {
      fail(`the node did not try to reconnect within ${ctx.maxWaitMs} ms after the server dropped its session; ${ctx.node.describe()}`);
    }
    const delays = attempts.map((t, i) => Math.round(t - (i === 0 ? droppedAt : (attempts[i - 1] as number))));
    return `${inWindow} attempts in ${WINDOW_MS} ms; delays ${delays.join(", ")} ms`;
  },
};
