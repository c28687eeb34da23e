import { describeFrame } from "./describe-frame.js";
import type { RawConnection } from "./raw-connection.js";
import { fail } from "./scenario-outcome.js";
import type { ServerScenarioContext } from "./server-scenario-context.js";

/**
 * A well-behaved connection that heartbeats in the background while a
 * scenario abuses another connection, to check that one bad client does not
 * disturb the others. It sends a Heartbeat every half interval (at most
 * every 250 ms) and counts the acks; any ProtocolError, other frame or close
 * is recorded as a problem.
 */
export class Bystander {
  /** The bystander's connection. */
  readonly conn: RawConnection;
  #acks = 0;
  #problem: string | undefined;
  readonly #timer: NodeJS.Timeout;
  #seq = 0n;

  private constructor(conn: RawConnection, periodMs: number) {
    this.conn = conn;
    conn.onFrame = (frame) => {
      if (frame.body.case === "heartbeatAck") this.#acks++;
      else this.#problem ??= `received ${describeFrame(frame)}`;
      return true;
    };
    void conn.closed.then(() => {
      this.#problem ??= "was closed by the server";
    });
    this.#timer = setInterval(() => this.#beat(), periodMs);
    this.#beat();
  }

  /** Opens the bystander connection (handshake included) and starts heartbeating. */
  static async start(ctx: ServerScenarioContext): Promise<Bystander> {
    const { conn, welcome } = await ctx.open("bystander connection", { nodeId: ctx.nodeId("bystander") });
    const period = Math.min(250, Math.max(20, Math.floor(welcome.heartbeatIntervalMs / 2)));
    const b = new Bystander(conn, period);
    ctx.defer(() => b.stop());
    return b;
  }

  /** Heartbeat acks received so far. */
  get acks(): number {
    return this.#acks;
  }

  /**
   * Waits until `count` more acks than `since` have arrived.
   *
   * @param during - what happened meanwhile on the other connection, for the message
   * @throws {@link ScenarioFailure} if the bystander saw a problem or the acks stopped
   */
  async expectAcks(since: number, count: number, timeoutMs: number, during: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#problem !== undefined) {
        fail(`a well-behaved connection open ${during} ${this.#problem}`);
      }
      if (this.#acks >= since + count) return;
      if (performance.now() > deadline) {
        fail(
          `a well-behaved connection open ${during} got ${this.#acks - since} heartbeat acks in ${timeoutMs} ms, expected at least ${count}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stops heartbeating (the connection is closed by the context). */
  stop(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    this.#seq++;
    this.conn.sendBody("heartbeat", { seq: this.#seq, sendTimeUs: BigInt(Math.round(performance.now() * 1000)) });
  }
}
