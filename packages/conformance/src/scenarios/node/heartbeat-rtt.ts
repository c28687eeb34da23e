import { Feature } from "@hb/codec";
import type { NodeScenario } from "../../node-scenario.js";
import { fail } from "../../scenario-outcome.js";

const ACK_DELAY_MS = 150;
const REPORTS = 3;

/**
 * With feature heartbeat-rtt granted, the node reports in each Heartbeat
 * the round trip it measured since the previous one, in microseconds
 * (PROTOCOL.md §6.7): the runner holds every ack 150 ms, so every report is
 * at least that.
 */
export const heartbeatRtt: NodeScenario = {
  name: "heartbeat-rtt",
  description: `Welcome grants feature heartbeat-rtt and every HeartbeatAck is held ${ACK_DELAY_MS} ms → the first Heartbeat carries no last_rtt_us, later ones report round trips of at least ${ACK_DELAY_MS} ms (and not far more); SKIP when the node does not list the feature`,
  async run(ctx) {
    const s = await ctx.session("the node's connection", (hello) =>
      hello.features.includes(Feature.heartbeatRtt) ? { features: [Feature.heartbeatRtt] } : {},
    );
    s.log.ackDelayMs = ACK_DELAY_MS;
    ctx.requireFeature(s.hello, Feature.heartbeatRtt);
    const want = 1 + REPORTS * 3;
    await ctx.expectHeartbeats(s, want);
    const beats = s.log.beats;
    const first = beats[0];
    if (first !== undefined && first.lastRttUs !== 0) {
      fail(`the first Heartbeat on the connection reports last_rtt_us ${first.lastRttUs}; nothing can have been measured yet (expected 0)`);
    }
    const reports = beats.filter((b) => b.lastRttUs > 0);
    if (reports.length < REPORTS) {
      fail(
        `${reports.length} of ${beats.length} Heartbeats carried last_rtt_us (values: ${beats.map((b) => b.lastRttUs).join(", ")}); expected at least ${REPORTS} once acks arrive (each held ${ACK_DELAY_MS} ms)`,
      );
    }
    // Timers of the runner may fire a millisecond early (libuv rounds its clock to ms): allow 5 ms below.
    const lower = (ACK_DELAY_MS - 5) * 1000;
    const upper = (ACK_DELAY_MS + ctx.slackMs(ACK_DELAY_MS)) * 1000;
    for (const b of reports) {
      if (b.lastRttUs < lower || b.lastRttUs > upper) {
        fail(
          `Heartbeat seq ${b.seq} reports last_rtt_us ${b.lastRttUs}; every ack was held ${ACK_DELAY_MS} ms, so a round trip is between ${lower} and ${upper} µs`,
        );
      }
    }
    return `reported ${reports.map((b) => Math.round(b.lastRttUs / 1000)).join(", ")} ms`;
  },
};
