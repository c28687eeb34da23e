import { create, toBinary } from "@bufbuild/protobuf";
import { PresenceEventSchema, type PresenceKind } from "@hb/codec";
import type { NodeLabels } from "../registry/node-labels.js";
import type { ChannelSubscription } from "../routing/channel-subscription.js";

/**
 * Encodes a `PresenceEvent` message body (PROTOCOL.md §4.21), once per
 * event: every matching `$hb.presence` subscription gets the same bytes
 * behind its own head.
 */
export function encodePresenceEvent(
  kind: PresenceKind,
  nodeId: string,
  labels: NodeLabels,
  timeMs: number,
  reason: string,
  serverId: string,
): Uint8Array {
  return toBinary(
    PresenceEventSchema,
    create(PresenceEventSchema, { kind, nodeId, labels: { ...labels }, timeMs: BigInt(timeMs), reason, serverId }),
  );
}

/**
 * The `$hb.presence` subscriptions (PROTOCOL.md §7.2) and the publishing of
 * presence events to them: each event is encoded once, only if some
 * subscription's label filter accepts the node, and queued on each such
 * subscription in the order the server observed it. Costs nothing while
 * nobody watches.
 */
export class PresenceFeed {
  readonly #subs = new Set<ChannelSubscription>();
  readonly #serverId: string;

  /** @param serverId - `PresenceEvent.server_id` */
  constructor(serverId: string) {
    this.#serverId = serverId;
  }

  /** Number of presence subscriptions. */
  get size(): number {
    return this.#subs.size;
  }

  /** Adds a subscription (after its snapshot, if any, was queued). */
  add(sub: ChannelSubscription): void {
    this.#subs.add(sub);
  }

  /** Removes a subscription. */
  remove(sub: ChannelSubscription): void {
    this.#subs.delete(sub);
  }

  /**
   * Queues one event on every subscription whose label filter accepts
   * `labels`.
   *
   * @param serverId - `PresenceEvent.server_id`: this server by default, the holder for a node of another bus member
   * @returns the number of subscriptions it was queued on
   */
  publish(
    kind: PresenceKind,
    nodeId: string,
    labels: NodeLabels,
    timeMs: number,
    reason: string,
    serverId = this.#serverId,
  ): number {
    if (this.#subs.size === 0) return 0;
    let body: Uint8Array | undefined;
    let n = 0;
    for (const sub of this.#subs) {
      if (!sub.accepts(labels)) continue;
      body ??= encodePresenceEvent(kind, nodeId, labels, timeMs, reason, serverId);
      if (sub.relay(body)) n++;
    }
    return n;
  }

  /** Queues one event on `sub` alone (the §7.2 snapshot). */
  publishTo(
    sub: ChannelSubscription,
    kind: PresenceKind,
    nodeId: string,
    labels: NodeLabels,
    timeMs: number,
    reason: string,
    serverId = this.#serverId,
  ): boolean {
    return sub.relay(encodePresenceEvent(kind, nodeId, labels, timeMs, reason, serverId));
  }
}
