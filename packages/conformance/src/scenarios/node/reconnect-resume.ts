import { hexBytes } from "../../describe-frame.js";
import type { NodeScenario } from "../../node-scenario.js";
import type { NodeScenarioContext, NodeSession } from "../../node-scenario-context.js";
import { fail } from "../../scenario-outcome.js";

async function dropAndExpectResume(ctx: NodeScenarioContext, previous: NodeSession, round: number): Promise<{ next: NodeSession; delay: number }> {
  await ctx.settle(previous);
  previous.conn.destroy();
  const droppedAt = performance.now();
  const what = `a reconnect after the server dropped connection #${round}`;
  const next = await ctx.session(
    what,
    { nodeId: previous.welcome.nodeId, sessionId: previous.welcome.sessionId, resumed: true },
    ctx.maxWaitMs,
  );
  const delay = Math.round(next.conn.openedAt - droppedAt);
  const token = previous.welcome.resumeToken;
  if (!Buffer.from(next.hello.resumeToken).equals(Buffer.from(token))) {
    const got = next.hello.resumeToken.length === 0 ? "no resume token" : `resume token ${hexBytes(next.hello.resumeToken)}`;
    fail(`the Hello of ${what} carries ${got}; expected the token of the last Welcome, ${hexBytes(token)}`);
  }
  const id = next.hello.nodeId;
  if (id !== previous.welcome.nodeId) {
    fail(
      `the Hello of ${what} asks for node id ${JSON.stringify(id)}; expected the node id of the last Welcome, ${JSON.stringify(previous.welcome.nodeId)}`,
    );
  }
  return { next, delay };
}

/**
 * After a lost connection the node reconnects and presents the resume token
 * and node id of the last Welcome (PROTOCOL.md §6.6, §8.2). Done twice, so
 * that a node reusing its first token instead of the rotated one fails.
 */
export const reconnectResume: NodeScenario = {
  name: "reconnect-resume",
  description:
    "the server drops the connection twice; each time the node reconnects (within --max-wait) and its Hello carries the resume token and node id of the last Welcome (the token rotates)",
  async run(ctx) {
    const first = await ctx.session("the node's first connection");
    const a = await dropAndExpectResume(ctx, first, 1);
    const b = await dropAndExpectResume(ctx, a.next, 2);
    return `reconnected after ${a.delay} ms and ${b.delay} ms`;
  },
};
