import { ErrorCode } from "@hb/codec";
import { hexBytes } from "../../describe-frame.js";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * Hello with the resume token of a live session → same node id and session
 * id, resumed = true, a rotated token; the old connection gets
 * DUPLICATE_NODE fatal (PROTOCOL.md §8.2).
 */
export const resumeLiveSession: ServerScenario = {
  name: "resume-live-session",
  description:
    "Hello with the resume token of a still-open session → Welcome{resumed: true, same node id, same session id, a new resume token}; the old connection gets ProtocolError{DUPLICATE_NODE, fatal} and is closed",
  async run(ctx) {
    const nodeId = ctx.nodeId("resume");
    const a = await ctx.open("first connection", { nodeId });
    const token = a.welcome.resumeToken.slice();
    if (token.length === 0) fail("the first Welcome has no resume token to resume with");
    const b = await ctx.open("resuming connection", { nodeId, resumeToken: token });
    const w = b.welcome;
    const problems: string[] = [];
    if (!w.resumed) problems.push("resumed is false");
    if (w.nodeId !== nodeId) problems.push(`node_id is ${JSON.stringify(w.nodeId)}, expected ${JSON.stringify(nodeId)}`);
    if (w.sessionId !== a.welcome.sessionId) {
      problems.push(`session_id is ${JSON.stringify(w.sessionId)}, expected the resumed ${JSON.stringify(a.welcome.sessionId)}`);
    }
    if (Buffer.from(w.resumeToken).equals(Buffer.from(token))) {
      problems.push(`resume_token was not rotated (still ${hexBytes(token)})`);
    }
    if (problems.length > 0) fail(`Welcome after a resume with a valid token: ${problems.join("; ")}`);
    await a.conn.expectError({ code: ErrorCode.DUPLICATE_NODE, fatal: true }, ctx.replyTimeoutMs, {
      after: "after its session was resumed on another connection",
      ignore: ["heartbeatAck"],
    });
    await a.conn.expectClose(ctx.replyTimeoutMs, { after: "after its fatal ProtocolError{code: DUPLICATE_NODE}" });
    b.conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 7n });
    await b.conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, { after: "on the resumed connection" });
  },
};
