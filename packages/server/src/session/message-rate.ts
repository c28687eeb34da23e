import { ErrorCode } from "@hb/codec";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { ResolvedMessageRate } from "../options/auth-option-checks.js";
import { TokenBucket } from "./token-bucket.js";

/**
 * One connection's message limits (the `messageRate` option): a message
 * bucket and a byte bucket for the messages (Publish, Send, Broadcast,
 * Reply) of its node and its attached nodes. A message over either rate
 * is refused with a non-fatal `RATE_LIMITED` and counted
 * (`messagesLimited`).
 */
export class MessageRate {
  readonly #messages: TokenBucket | undefined;
  readonly #bytes: TokenBucket | undefined;

  /** The limits of `rate` from `now`, or `undefined` when it limits nothing. */
  static start(rate: ResolvedMessageRate, now: number): MessageRate | undefined {
    if (rate.messagesPerSecond <= 0 && rate.bytesPerSecond <= 0) return undefined;
    return new MessageRate(rate, now);
  }

  private constructor(rate: ResolvedMessageRate, now: number) {
    if (rate.messagesPerSecond > 0) this.#messages = new TokenBucket(rate.messagesPerSecond, rate.messageBurst, now);
    if (rate.bytesPerSecond > 0) this.#bytes = new TokenBucket(rate.bytesPerSecond, rate.byteBurst, now);
  }

  /**
   * Takes one message of `bytes` payload bytes at `now`: `undefined`, or
   * the refusal (counted in `stats`). `rate`: the option in force (its
   * figures name the limit in the refusal; the buckets keep the rates they
   * started with).
   */
  limited(bytes: number, now: number, rate: ResolvedMessageRate, stats: ServerCounters): { code: ErrorCode; message: string } | undefined {
    const messages = this.#messages;
    if (messages !== undefined && !messages.take(now)) {
      stats.messagesLimited++;
      return { code: ErrorCode.RATE_LIMITED, message: `over the message rate (messageRate.messagesPerSecond ${rate.messagesPerSecond})` };
    }
    const b = this.#bytes;
    if (b !== undefined && bytes > 0 && !b.take(now, Math.min(bytes, rate.byteBurst))) {
      stats.messagesLimited++;
      return { code: ErrorCode.RATE_LIMITED, message: `over the byte rate (messageRate.bytesPerSecond ${rate.bytesPerSecond})` };
    }
    return undefined;
  }
}
