import type { ServerCounters } from "../core/ports/server-stats.js";
import type { ChannelSubscription } from "./channel-subscription.js";
import type { RoutePeer } from "./route-peer.js";
import type { SlicedTask, TurnSlicer } from "./turn-slicer.js";

/**
 * Bytes of a large payload copied into its Delivery body per step: ≈ 1–3 ms
 * of copying (page faults included) on the 2-core dev machine, well inside
 * one slice. Payloads up to this size are copied at once.
 */
export const COPY_STEP_BYTES = 4 * 1024 * 1024;

/** Where a fan-out stands: the index of the next subscription. */
export interface FanOutCursor {
  /** Index of the next subscription to queue on. */
  next: number;
}

/**
 * Queues `body` on `subs[cursor.next…]` until the turn's budget is spent
 * (checked with {@link TurnSlicer.spend}: one clock read per 256
 * deliveries), skipping subscriptions that ended meanwhile and those
 * whose permissions deny `subject` (a wider subscription, PROTOCOL.md
 * §4.28); counts them in `stats.deliveries`. No allocation.
 *
 * @returns the number of subscriptions it was queued on (`cursor.next` is
 *   `subs.length` when the fan-out is done)
 */
export function relayFrom(
  subs: readonly ChannelSubscription[],
  body: Uint8Array,
  subject: string,
  cursor: FanOutCursor,
  slicer: TurnSlicer,
  stats: ServerCounters,
): number {
  const len = subs.length;
  let i = cursor.next;
  let n = 0;
  while (i < len) {
    const end = Math.min(len, i + 64);
    const count = end - i;
    for (; i < end; i++) {
      const sub = subs[i] as ChannelSubscription;
      if (!sub.ended && (sub.deny === undefined || !sub.deny.denies(subject)) && sub.relay(body)) n++;
    }
    if (slicer.spend(count) && i < len) break;
  }
  cursor.next = i;
  stats.deliveries += n;
  return n;
}

/**
 * Routing work that did not fit its event-loop turn (or had to queue behind
 * such work, to keep per-publisher order): one encoded message and where it
 * goes, continued slice by slice ({@link TurnSlicer}). Optionally it first
 * copies a large payload into the body, {@link COPY_STEP_BYTES} per step.
 *
 * Targets: the subscriptions a subject matched (from an index on), one
 * connection's channel 0 (a direct message or reply), or every connection
 * (a broadcast; peers that joined meanwhile get it too, closed ones are
 * skipped).
 */
export class RouteJob implements SlicedTask {
  readonly #stats: ServerCounters;
  readonly #body: Uint8Array;
  // Copy phase: the payload and where it goes in the body.
  #payload: Uint8Array | undefined;
  #at = 0;
  #copied = 0;
  // Targets.
  readonly #subs: readonly ChannelSubscription[] | undefined;
  readonly #subject: string;
  readonly #cursor: FanOutCursor = { next: 0 };
  readonly #peer: RoutePeer | undefined;
  readonly #peers: Iterator<RoutePeer> | undefined;
  readonly #except: RoutePeer | undefined;
  readonly #head: Uint8Array | undefined;
  readonly #frameLength: number;
  readonly #then: (() => void) | undefined;

  /**
   * @param stats - counters (`deliveries`)
   * @param body - the encoded Delivery (or Reply) body
   * @param target - subscriptions (from index `from`), one peer, or every peer but `except`, with the channel-0 head
   * @param then - called once everything is queued (e.g. the bus send of a publish)
   */
  constructor(
    stats: ServerCounters,
    body: Uint8Array,
    target:
      | { subs: readonly ChannelSubscription[]; from: number; subject: string }
      | { peer: RoutePeer; head: Uint8Array; frameLength: number }
      | { peers: Iterable<RoutePeer>; except: RoutePeer | undefined; head: Uint8Array; frameLength: number },
    then?: () => void,
  ) {
    this.#stats = stats;
    this.#body = body;
    this.#then = then;
    if ("subs" in target) {
      this.#subs = target.subs;
      this.#subject = target.subject;
      this.#cursor.next = target.from;
      this.#frameLength = 0;
    } else {
      this.#subject = "";
      this.#head = target.head;
      this.#frameLength = target.frameLength;
      if ("peer" in target) this.#peer = target.peer;
      else {
        this.#peers = target.peers[Symbol.iterator]();
        this.#except = target.except;
      }
    }
  }

  /**
   * Copies `payload` into the body at `at` in steps before delivering (the
   * body was encoded without it, see `encodeDelivery`'s `copyPayload`).
   */
  copyFirst(payload: Uint8Array, at: number): this {
    this.#payload = payload;
    this.#at = at;
    return this;
  }

  /** See {@link SlicedTask.runSlice}. */
  runSlice(slicer: TurnSlicer): boolean {
    const payload = this.#payload;
    if (payload !== undefined) {
      while (this.#copied < payload.length) {
        const end = Math.min(payload.length, this.#copied + COPY_STEP_BYTES);
        this.#body.set(payload.subarray(this.#copied, end), this.#at + this.#copied);
        this.#copied = end;
        if (end < payload.length && slicer.expired()) return false;
      }
      this.#payload = undefined;
      if (slicer.expired()) return false;
    }
    const subs = this.#subs;
    if (subs !== undefined) {
      relayFrom(subs, this.#body, this.#subject, this.#cursor, slicer, this.#stats);
      if (this.#cursor.next < subs.length) return false;
    } else if (this.#peer !== undefined) {
      if (this.#peer.relay(0, this.#head as Uint8Array, this.#body, this.#frameLength)) this.#stats.deliveries++;
    } else if (this.#peers !== undefined) {
      const head = this.#head as Uint8Array;
      let n = 0;
      let over = false;
      for (;;) {
        const r = this.#peers.next();
        if (r.done === true) break;
        if (r.value !== this.#except && r.value.relay(0, head, this.#body, this.#frameLength)) n++;
        if (slicer.spend(1)) {
          over = true;
          break;
        }
      }
      this.#stats.deliveries += n;
      if (over) return false;
    }
    this.#then?.();
    return true;
  }
}
