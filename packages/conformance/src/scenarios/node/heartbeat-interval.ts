import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const COUNT = 8;

/**
 * Heartbeats come at the negotiated interval with seq 1, 2, 3, … on the
 * connection (PROTOCOL.md §4.7, §6.2).
 */
export const heartbeatInterval: NodeScenario = {
  name: "heartbeat-interval",
  description: `with an advertised interval (default 200 ms), ${COUNT} Heartbeats arrive at that interval (±50 %: no gap above 1.5 × interval, median gap ≥ 0.5 × interval) with seq 1, 2, 3, …, none carrying last_rtt_us (feature heartbeat-rtt not granted)`,
  async run(ctx) {
    const s = await ctx.session("the node's connection");
    await ctx.expectHeartbeats(s, COUNT);
    const beats = s.log.beats.slice(0, COUNT);
    const interval = ctx.intervalMs;
    const first = beats[0] as (typeof beats)[number];
    if (first.seq !== 1n) fail(`the first Heartbeat on the connection has seq ${first.seq}, expected 1`);
    for (let i = 1; i < beats.length; i++) {
      const b = beats[i] as (typeof beats)[number];
      if (b.seq !== first.seq + BigInt(i)) {
        fail(`Heartbeat seq values are ${beats.map((x) => x.seq).join(", ")}; expected each to be one more than the previous`);
      }
    }
    const times = [s.welcomeAt, ...beats.map((b) => b.at)];
    const gaps = times.slice(1).map((t, i) => Math.round(t - (times[i] as number)));
    const maxGap = Math.round(interval * (1 + 0.5 * ctx.timeoutScale));
    const worst = Math.max(...gaps);
    if (worst > maxGap) {
      fail(
        `a gap between Heartbeats (counting from Welcome) was ${worst} ms, more than 1.5 × the advertised heartbeat_interval_ms ${interval} (gaps: ${gaps.join(", ")} ms)`,
      );
    }
    // Feature heartbeat-rtt was not granted (this Welcome lists no feature): no report may be sent (§15.1).
    const reporting = beats.find((b) => b.lastRttUs !== 0);
    if (reporting !== undefined) {
      fail(`Heartbeat seq ${reporting.seq} carries last_rtt_us ${reporting.lastRttUs}, but the Welcome did not grant feature heartbeat-rtt`);
    }
    const sorted = gaps.slice(1).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    if (median < interval * 0.5) {
      fail(`Heartbeats come every ${median} ms (median), far more often than the advertised heartbeat_interval_ms ${interval} (gaps: ${gaps.join(", ")} ms)`);
    }
    return `gaps ${gaps.join(", ")} ms`;
  },
};
