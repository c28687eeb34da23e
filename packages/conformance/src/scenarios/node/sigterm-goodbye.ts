import { describeFrame } from "../../describe-frame.js";
import type { NodeScenario } from "../../node-scenario.js";
import type { RawConnection } from "../../raw-connection.js";
import { fail, skip } from "../../scenario-outcome.js";

/**
 * On SIGTERM the node leaves gracefully: Goodbye, then exit. Without
 * Goodbye the server reports the node lost (`connection_closed`) and
 * publishes its will (PROTOCOL.md §5.4, §7.1), so every deploy looks like a
 * crash. The protocol cannot say what a process does on a signal; this is
 * the runner's expectation of a well-behaved node program. A missing
 * Goodbye fails unless `allowMissingGoodbye` is set, which turns it into a
 * skip.
 */
export const sigtermGoodbye: NodeScenario = {
  name: "sigterm-goodbye",
  description:
    "SIGTERM to the node's process group → the node sends Goodbye, nothing after it, and exits once the server closes the connection (a missing Goodbye fails; --allow-missing-goodbye makes it a skip)",
  async run(ctx) {
    const s = await ctx.session("the node's connection");
    await ctx.settle(s);
    ctx.node.signal("SIGTERM");
    const sentAt = performance.now();
    const wait = ctx.replyTimeoutMs;
    const event = await goodbyeOrClose(s.conn, wait);
    if (event === "goodbye") {
      const goodbyeAt = performance.now();
      const beatsBefore = s.log.beats.length;
      // A client sends nothing after Goodbye (PROTOCOL.md §4.5); watch briefly before closing as a server does.
      const late = await framesUntil(s.conn, 200);
      if (late !== undefined) fail(`the node sent ${late} after Goodbye; a client sends nothing after Goodbye`);
      const lateBeat = s.log.beats[beatsBefore];
      if (lateBeat !== undefined) {
        fail(`the node sent a Heartbeat ${Math.round(lateBeat.at - goodbyeAt)} ms after Goodbye; a client sends nothing after Goodbye`);
      }
      s.conn.endWrites(); // a server closes the connection after Goodbye
      const exitWait = ctx.replyTimeoutMs + 2000;
      const exited = await ctx.waitForExit(exitWait);
      if (exited === undefined) {
        fail(`the node sent Goodbye after SIGTERM but was still running ${exitWait} ms after the server closed; ${ctx.node.describe()}`);
      }
      return `Goodbye ${Math.round(performance.now() - sentAt)} ms after SIGTERM`;
    }
    if (event === "closed") {
      await ctx.waitForExit(500); // so that the message can say how it ended
      const message = `after SIGTERM the node closed the connection without Goodbye (the server reports it lost and publishes its will instead of a graceful leave); ${ctx.node.describe()}`;
      if (ctx.allowMissingGoodbye) skip(`${message} — allowed by --allow-missing-goodbye`);
      fail(`${message}; pass --allow-missing-goodbye to accept this`);
    }
    fail(`no Goodbye and no close within ${wait} ms of SIGTERM; ${ctx.node.describe()}`);
  },
};

/** The description of the first frame arriving within `ms` (a close ends the wait quietly), or undefined. */
async function framesUntil(conn: RawConnection, ms: number): Promise<string | undefined> {
  const e = await conn.next(ms);
  return e?.kind === "frame" ? describeFrame(e.frame) : undefined;
}

/** Waits for Goodbye or the close, skipping any other frame (a gateway may Detach first). */
async function goodbyeOrClose(conn: RawConnection, timeoutMs: number): Promise<"goodbye" | "closed" | "timeout"> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const e = await conn.next(Math.max(0, deadline - performance.now()));
    if (e === undefined) return "timeout";
    if (e.kind === "end") return "closed";
    if (e.frame.body.case === "goodbye") return "goodbye";
  }
}
