import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const HOLD_MS = 300;

/**
 * The node's first frame is Hello with protocol_version 1 and fields within
 * their limits, and it sends nothing more until Welcome arrives (PROTOCOL.md
 * §4.2, §5.2 "no pipelining", §14).
 */
export const helloFirst: NodeScenario = {
  name: "hello-first",
  description: `the node connects to HB_ADDR and sends Hello first: protocol_version 1, node id empty or valid, labels and max_frame_size within limits; then nothing until Welcome (held back ${HOLD_MS} ms)`,
  async run(ctx) {
    const conn = await ctx.accept("a connection from the node");
    const hello = await ctx.expectHello(conn);
    const problems: string[] = [];
    const id = hello.nodeId;
    if (Buffer.byteLength(id, "utf8") > 128 || /[\u0000-\u001f\u007f]/.test(id)) {
      problems.push(`node_id ${JSON.stringify(id)} breaks the node id rules (1..128 bytes of UTF-8, no control characters)`);
    }
    const labels = Object.entries(hello.labels);
    if (labels.length > 32) problems.push(`${labels.length} labels, more than 32`);
    for (const [k, v] of labels) {
      const kb = Buffer.byteLength(k);
      if (kb < 1 || kb > 64 || Buffer.byteLength(v) > 256) problems.push(`label ${JSON.stringify(k)} breaks the limits (key 1..64 bytes, value ≤ 256 bytes)`);
    }
    const mfs = hello.maxFrameSize;
    if (mfs !== 0 && (mfs < 1024 || mfs > 67_108_864)) problems.push(`max_frame_size ${mfs} is not 0 or 1024..67108864`);
    if (hello.will !== undefined && hello.will.subject === "") problems.push("a will with an empty subject");
    if (problems.length > 0) fail(`Hello: ${problems.join("; ")}`);
    await conn.expectNothing(HOLD_MS, {
      after: "after Hello while Welcome is held back (a client sends nothing between Hello and Welcome)",
    });
    ctx.sendWelcome(conn, hello);
    return `node_id ${JSON.stringify(id)}, client_name ${JSON.stringify(hello.clientName)}`;
  },
};
