import type { RawConnection } from "./raw-connection.js";

/** One Heartbeat received from the node. */
export interface ReceivedHeartbeat {
  /** Heartbeat.seq. */
  readonly seq: bigint;
  /** Heartbeat.send_time_us. */
  readonly sendTimeUs: bigint;
  /** Heartbeat.last_rtt_us (feature heartbeat-rtt; 0 when absent). */
  readonly lastRttUs: number;
  /** `performance.now()` at arrival. */
  readonly at: number;
}

/**
 * Records the Heartbeats a node sends on one connection and, while
 * {@link HeartbeatLog.acking} is true, answers each at once with a
 * HeartbeatAck, as a server does. Heartbeats are consumed (they do not reach
 * the `expect…` queue of the connection); other frames are left queued.
 */
export class HeartbeatLog {
  /** Heartbeats in arrival order. */
  readonly beats: ReceivedHeartbeat[] = [];
  /** Whether to answer heartbeats with acks (default true). */
  acking = true;
  /** How long each ack is held before it is sent, ms (default 0: at once). */
  ackDelayMs = 0;

  readonly #conn: RawConnection;

  /** Installs the log as `conn.onFrame`. */
  constructor(conn: RawConnection) {
    this.#conn = conn;
    conn.onFrame = (frame, at) => {
      if (frame.body.case !== "heartbeat") return false;
      const { seq, sendTimeUs, lastRttUs } = frame.body.value;
      this.beats.push({ seq, sendTimeUs, lastRttUs, at });
      if (this.acking) {
        const ack = (): void => conn.sendBody("heartbeatAck", { seq, sendTimeUs, serverTimeMs: BigInt(Date.now()) });
        if (this.ackDelayMs > 0) setTimeout(() => conn.end === undefined && ack(), this.ackDelayMs);
        else ack();
      }
      return true;
    };
  }

  /**
   * Waits until at least `count` heartbeats have arrived.
   *
   * @returns whether they did within `timeoutMs` (false at once if the
   *   connection closes first)
   */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.beats.length < count) {
      if (performance.now() > deadline || this.#conn.end !== undefined) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }
}
