import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

// 64-bit values a double cannot hold exactly catch servers that pass
// send_time_us through a JavaScript number (or a signed 64-bit integer).
const SEND_TIMES = [1n, 1_000_000n, 2n ** 53n + 1n, 2n ** 63n + 12_345n, 2n ** 64n - 1n];

/** Every Heartbeat is acked at once, echoing seq and send_time_us unchanged, in order (PROTOCOL.md §4.8, §6.4). */
export const heartbeatAck: ServerScenario = {
  name: "heartbeat-ack",
  description:
    "five Heartbeats → five HeartbeatAcks in order, each echoing seq and send_time_us unchanged (also full 64-bit values), with server_time_ms set",
  async run(ctx) {
    const { conn } = await ctx.open("connection");
    SEND_TIMES.forEach((sendTimeUs, i) => conn.sendBody("heartbeat", { seq: BigInt(i + 1), sendTimeUs }));
    for (const [i, sendTimeUs] of SEND_TIMES.entries()) {
      const seq = BigInt(i + 1);
      const ack = await conn.expectFrame("heartbeatAck", ctx.replyTimeoutMs, {
        what: `HeartbeatAck ${i + 1} of ${SEND_TIMES.length}`,
        after: `after sending Heartbeat seq 1..${SEND_TIMES.length}`,
      });
      if (ack.seq !== seq) fail(`HeartbeatAck number ${i + 1} has seq ${ack.seq}, expected ${seq} (acks must echo seq, in order)`);
      if (ack.sendTimeUs !== sendTimeUs) {
        fail(`HeartbeatAck for seq ${seq} has send_time_us ${ack.sendTimeUs}, expected ${sendTimeUs} echoed unchanged`);
      }
      if (ack.serverTimeMs === 0n) fail(`HeartbeatAck for seq ${seq} has server_time_ms 0, expected the server's wall clock`);
    }
  },
};
