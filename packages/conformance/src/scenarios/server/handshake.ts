import { PROTOCOL_VERSION } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/** Hello → Welcome with every field a client relies on (PROTOCOL.md §4.4, §5.3). */
export const handshake: ServerScenario = {
  name: "handshake",
  description:
    "Hello → Welcome with protocol_version 1, the requested node id, a session id (≤ 128 bytes), interval ≤ timeout/2, max_frame_size 0 or 1024..64 MiB, a resume token of 1..64 bytes, server_time_ms, resumed = false, no features (none were offered), check_interval_ms 0 (not said) or ≤ heartbeat_timeout_ms",
  async run(ctx) {
    const nodeId = ctx.nodeId("hello");
    const { welcome: w } = await ctx.open("connection", { nodeId });
    const problems: string[] = [];
    if (w.protocolVersion !== PROTOCOL_VERSION) problems.push(`protocol_version is ${w.protocolVersion}, expected ${PROTOCOL_VERSION}`);
    if (w.nodeId !== nodeId) problems.push(`node_id is ${JSON.stringify(w.nodeId)}, expected the requested ${JSON.stringify(nodeId)}`);
    if (w.sessionId === "") problems.push("session_id is empty");
    if (w.heartbeatIntervalMs === 0) problems.push("heartbeat_interval_ms is 0");
    if (w.heartbeatTimeoutMs === 0) problems.push("heartbeat_timeout_ms is 0");
    else if (w.heartbeatIntervalMs > Math.floor(w.heartbeatTimeoutMs / 2)) {
      problems.push(`heartbeat_interval_ms ${w.heartbeatIntervalMs} is more than heartbeat_timeout_ms/2 (${w.heartbeatTimeoutMs}/2)`);
    }
    if (w.maxFrameSize !== 0 && (w.maxFrameSize < 1024 || w.maxFrameSize > 67_108_864)) {
      problems.push(`max_frame_size is ${w.maxFrameSize}, expected 0 (1 MiB) or 1024..67108864`);
    }
    if (w.resumeToken.length === 0) problems.push("resume_token is empty");
    if (w.resumeToken.length > 64) problems.push(`resume_token is ${w.resumeToken.length} bytes, more than 64`);
    if (Buffer.byteLength(w.sessionId) > 128) problems.push(`session_id is ${Buffer.byteLength(w.sessionId)} bytes, more than 128`);
    if (w.serverTimeMs === 0n) problems.push("server_time_ms is 0");
    if (w.resumed) problems.push("resumed is true for a new session");
    // §4.4: informative, 0 = not said; when said, a verdict is never more than one check late past the timeout.
    if (w.checkIntervalMs !== 0 && w.heartbeatTimeoutMs !== 0 && w.checkIntervalMs > w.heartbeatTimeoutMs) {
      problems.push(`check_interval_ms ${w.checkIntervalMs} is more than heartbeat_timeout_ms ${w.heartbeatTimeoutMs}`);
    }
    if (w.features.length > 0) problems.push(`features ${JSON.stringify(w.features)}, but the Hello listed none (must be a subset)`);
    if (problems.length > 0) fail(`Welcome: ${problems.join("; ")}`);
    return `interval ${w.heartbeatIntervalMs} ms, timeout ${w.heartbeatTimeoutMs} ms, check ${w.checkIntervalMs || "not said"}, handshake timeout ${w.handshakeTimeoutMs || "not said"}, max_frame_size ${w.maxFrameSize}, resume_grace_ms ${w.resumeGraceMs}`;
  },
};
