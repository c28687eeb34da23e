import { create, toBinary } from "@bufbuild/protobuf";
import { type OverflowMode, PresenceEventSchema, PresenceKind } from "@hb/codec";
import type { BusNode } from "../core/ports/bus-link.js";
import type { Clock } from "../core/ports/clock.js";
import type { NodeEventName } from "../core/ports/event-sink.js";
import type { NodeDirectory } from "../core/ports/node-directory.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { NodeLabels } from "../registry/node-labels.js";

/** The PresenceEvent kind of each node event. */
const PRESENCE_KINDS = {
  nodeJoined: PresenceKind.JOINED,
  nodeLeft: PresenceKind.LEFT,
  nodeSuspect: PresenceKind.SUSPECT,
  nodeTimeout: PresenceKind.TIMED_OUT,
  nodeRecovered: PresenceKind.RECOVERED,
} as const satisfies Record<NodeEventName, PresenceKind>;

/** What the feed needs of a `$hb.presence` subscription. */
export interface PresenceSubscriber {
  /** Whether a node with `labels` passes its label filter. */
  accepts(labels: NodeLabels): boolean;
  /** Queues an encoded PresenceEvent body on it; `false` when dropped. */
  relay(body: Uint8Array): boolean;
  /** Its label filter (empty: every node). */
  readonly labelFilter: NodeLabels;
  /** Its queue limit, messages. */
  readonly queueSize: number;
  /** What happens when its queue is full. */
  readonly overflow: OverflowMode;
  /** Messages it dropped (counted here for snapshot events never queued). */
  dropped: number;
}

/** Dependencies of a {@link PresenceFeed}. */
export interface PresenceFeedOptions {
  /** `PresenceEvent.server_id` of local nodes. */
  serverId: string;
  /** The local nodes, for snapshots and events. */
  nodes: NodeDirectory<unknown>;
  /** The remote nodes (with a bus), for snapshots. */
  remoteNodes: () => ReadonlyMap<string, BusNode> | undefined;
  /** Times of events and snapshots. */
  clock: Clock;
  /** Counters (`routed.presence`, `deliveries`). */
  stats: ServerCounters;
}

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
  readonly #subs = new Set<PresenceSubscriber>();
  readonly #serverId: string;
  readonly #o: PresenceFeedOptions;

  constructor(options: PresenceFeedOptions) {
    this.#o = options;
    this.#serverId = options.serverId;
  }

  /** Number of presence subscriptions. */
  get size(): number {
    return this.#subs.size;
  }

  /**
   * Adds a subscription; with `snapshot`, first queues one JOINED event
   * (reason `snapshot`) per matching node online or suspect now, local and
   * (with a bus) remote (§7.2), synchronously, before any live event can
   * reach it.
   */
  add(sub: PresenceSubscriber, snapshot: boolean): void {
    if (snapshot) this.#snapshot(sub);
    this.#subs.add(sub);
  }

  /** Removes a subscription. */
  remove(sub: PresenceSubscriber): void {
    this.#subs.delete(sub);
  }

  /** A presence change of the local node in `slot`: queued on the matching subscriptions. */
  local(name: NodeEventName, slot: number, reason: string, now: number): void {
    if (this.#subs.size === 0) return;
    const o = this.#o;
    o.stats.routed.presence++;
    o.stats.deliveries += this.publish(PRESENCE_KINDS[name], o.nodes.id(slot), o.nodes.labels(slot), o.clock.epoch(now), reason);
  }

  /** A presence change of a node held by another server of the bus (`serverId`), at `time` (ms since the epoch). */
  remote(name: NodeEventName, nodeId: string, labels: NodeLabels, time: number, reason: string, serverId: string): void {
    if (this.#subs.size === 0) return;
    const o = this.#o;
    o.stats.routed.presence++;
    o.stats.deliveries += this.publish(PRESENCE_KINDS[name], nodeId, labels, time, reason, serverId);
  }

  // The snapshot is queued synchronously on a new, empty queue that nothing
  // drains meanwhile: only `queueSize` events (one more under disconnect,
  // which then closes the connection) can ever be kept. Those alone are
  // encoded; the others are counted as dropped by the queue's policy. A
  // snapshot of N nodes into a queue of Q costs N matches and min(N, Q)
  // encodings, not N encodings: 100 snapshot subscriptions of 1 000 nodes
  // with queue_size 10 stalled the server for over a second before (the
  // hostile battery's snapshot bomb).
  #snapshot(sub: PresenceSubscriber): void {
    const o = this.#o;
    const nodes = o.nodes;
    const time = o.clock.epoch(o.clock.now());
    const labels = Object.keys(sub.labelFilter).length > 0 ? sub.labelFilter : undefined;
    const remote = o.remoteNodes();
    let matches = 0;
    nodes.forEach({ labels }, () => {
      matches++;
    });
    if (remote !== undefined) for (const node of remote.values()) if (sub.accepts(node.labels)) matches++;
    const keep = sub.overflow === "disconnect" ? sub.queueSize + 1 : sub.queueSize;
    // drop-oldest keeps the last `keep`, drop-newest (and disconnect) the first.
    const from = sub.overflow === "drop-oldest" ? Math.max(0, matches - keep) : 0;
    const to = from + keep;
    const skipped = matches - Math.min(matches, keep);
    let i = 0;
    let n = 0;
    nodes.forEach({ labels }, (slot) => {
      if (i >= from && i < to && this.publishTo(sub, PresenceKind.JOINED, nodes.id(slot), nodes.labels(slot), time, "snapshot")) n++;
      i++;
    });
    // With a bus, the nodes of the other servers too (§7.2 presence is bus-wide).
    if (remote !== undefined) {
      for (const node of remote.values()) {
        if (!sub.accepts(node.labels)) continue;
        if (i >= from && i < to && this.publishTo(sub, PresenceKind.JOINED, node.nodeId, node.labels, time, "snapshot", node.memberId)) n++;
        i++;
      }
    }
    o.stats.deliveries += n;
    if (skipped > 0 && sub.overflow !== "disconnect") {
      sub.dropped += skipped;
      if (sub.overflow === "drop-oldest") o.stats.dropped.dropOldest += skipped;
      else o.stats.dropped.dropNewest += skipped;
    }
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
    sub: PresenceSubscriber,
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
