import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * The negotiated interval is clamp(requested, min, timeout/2) (PROTOCOL.md
 * §6.1): a tiny and a huge request both land inside the allowed range.
 */
export const handshakeIntervalNegotiation: ServerScenario = {
  name: "handshake-interval-negotiation",
  description:
    "Hello.heartbeat_interval_ms 1 and 4 000 000 000 are clamped: the Welcome interval is ≥ 10 ms and ≤ heartbeat_timeout_ms/2 in both cases",
  async run(ctx) {
    const problems: string[] = [];
    for (const requested of [1, 4_000_000_000]) {
      const { welcome: w } = await ctx.open(`connection asking ${requested} ms`, { heartbeatIntervalMs: requested });
      const max = Math.floor(w.heartbeatTimeoutMs / 2);
      if (w.heartbeatIntervalMs < 10 || w.heartbeatIntervalMs > max) {
        problems.push(
          `asking ${requested} ms gave heartbeat_interval_ms ${w.heartbeatIntervalMs}, expected a value in 10..${max} (heartbeat_timeout_ms ${w.heartbeatTimeoutMs} / 2)`,
        );
      }
    }
    if (problems.length > 0) fail(problems.join("; "));
  },
};
