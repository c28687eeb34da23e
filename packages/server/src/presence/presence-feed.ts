import { PresenceKind } from "@hb/codec";
import type { BusNode } from "../core/ports/bus-link.js";
import type { Clock } from "../core/ports/clock.js";
import type { NodeEventName } from "../core/ports/event-sink.js";
import type { NodeDirectory } from "../core/ports/node-directory.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { NodeLabels } from "../registry/node-labels.js";
import type { TurnSlicer } from "../routing/turn-slicer.js";
import { encodePresenceEvent } from "./presence-event-body.js";
import { PresenceSnapshot, type SnapshotNodes, type SnapshotSubscriber } from "./presence-snapshot.js";

export { encodePresenceEvent };

/** The PresenceEvent kind of each node event. */
const PRESENCE_KINDS = {
  nodeJoined: PresenceKind.JOINED,
  nodeLeft: PresenceKind.LEFT,
  nodeSuspect: PresenceKind.SUSPECT,
  nodeTimeout: PresenceKind.TIMED_OUT,
  nodeRecovered: PresenceKind.RECOVERED,
} as const satisfies Record<NodeEventName, PresenceKind>;

/** What the feed needs of a `$hb.presence` subscription. */
export interface PresenceSubscriber extends SnapshotSubscriber {
  /** Whether a node with `labels` passes its label filter. */
  accepts(labels: NodeLabels): boolean;
  /** Queues an encoded PresenceEvent body on it; `false` when dropped. */
  relay(body: Uint8Array): boolean;
  /** Its label filter (empty: every node). */
  readonly labelFilter: NodeLabels;
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
  /** The event loop's work budget: snapshots stream in slices. */
  slicer: TurnSlicer;
}

/**
 * The `$hb.presence` subscriptions (PROTOCOL.md §7.2) and the publishing of
 * presence events to them: each event is encoded once, only if some
 * subscription's label filter accepts the node, and queued on each such
 * subscription in the order the server observed it. Costs nothing while
 * nobody watches.
 *
 * A snapshot (§7.2) is a {@link PresenceSnapshot}: the matching nodes are
 * captured at Subscribed (references, ≈ 20 ns per node), then encoded and
 * queued in slices, paced by the subscription's queue (outside its
 * overflow policy); live events for it wait behind the snapshot.
 */
export class PresenceFeed {
  readonly #subs = new Set<PresenceSubscriber>();
  // Subscriptions whose snapshot is still going out, and their streams.
  readonly #streams = new Map<PresenceSubscriber, PresenceSnapshot>();
  readonly #serverId: string;
  readonly #o: PresenceFeedOptions;

  constructor(options: PresenceFeedOptions) {
    this.#o = options;
    this.#serverId = options.serverId;
  }

  /** Number of presence subscriptions. */
  get size(): number {
    return this.#subs.size + this.#streams.size;
  }

  /** Snapshots still streaming. */
  get snapshots(): number {
    return this.#streams.size;
  }

  /**
   * Adds a subscription; with `snapshot`, it first receives one JOINED event
   * (reason `snapshot`) per matching node online or suspect now, local and
   * (with a bus) remote (§7.2), before any live event: the nodes are
   * captured now, the events stream in later turns.
   */
  add(sub: PresenceSubscriber, snapshot: boolean): void {
    if (!snapshot) {
      this.#subs.add(sub);
      return;
    }
    const o = this.#o;
    const stream = new PresenceSnapshot(sub, this.#capture(sub), o.clock.epoch(o.clock.now()), o.stats, () => {
      if (this.#streams.get(sub) !== stream) return;
      this.#streams.delete(sub);
      this.#subs.add(sub);
    });
    this.#streams.set(sub, stream);
    o.slicer.defer(stream);
  }

  /** Removes a subscription. */
  remove(sub: PresenceSubscriber): void {
    this.#subs.delete(sub);
    this.#streams.delete(sub);
  }

  /** A presence change of the local node in `slot`: queued on the matching subscriptions. */
  local(name: NodeEventName, slot: number, reason: string, now: number): void {
    if (this.#subs.size === 0 && this.#streams.size === 0) return;
    const o = this.#o;
    o.stats.routed.presence++;
    o.stats.deliveries += this.publish(PRESENCE_KINDS[name], o.nodes.id(slot), o.nodes.labels(slot), o.clock.epoch(now), reason);
  }

  /** A presence change of a node held by another server of the bus (`serverId`), at `time` (ms since the epoch). */
  remote(name: NodeEventName, nodeId: string, labels: NodeLabels, time: number, reason: string, serverId: string): void {
    if (this.#subs.size === 0 && this.#streams.size === 0) return;
    const o = this.#o;
    o.stats.routed.presence++;
    o.stats.deliveries += this.publish(PRESENCE_KINDS[name], nodeId, labels, time, reason, serverId);
  }

  // The nodes of a snapshot, now: references only (ids and interned labels), no encoding.
  #capture(sub: PresenceSubscriber): SnapshotNodes {
    const o = this.#o;
    const nodes = o.nodes;
    const out: SnapshotNodes = { ids: [], labels: [], servers: [] };
    const labels = Object.keys(sub.labelFilter).length > 0 ? sub.labelFilter : undefined;
    const serverId = this.#serverId;
    nodes.forEach({ labels }, (slot) => {
      out.ids.push(nodes.id(slot));
      out.labels.push(nodes.labels(slot));
      out.servers.push(serverId);
    });
    // With a bus, the nodes of the other servers too (§7.2 presence is bus-wide).
    const remote = o.remoteNodes();
    if (remote !== undefined) {
      for (const node of remote.values()) {
        if (!sub.accepts(node.labels)) continue;
        out.ids.push(node.nodeId);
        out.labels.push(node.labels);
        out.servers.push(node.memberId);
      }
    }
    return out;
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
    if (this.#subs.size === 0 && this.#streams.size === 0) return 0;
    let body: Uint8Array | undefined;
    let n = 0;
    for (const sub of this.#subs) {
      if (!sub.accepts(labels)) continue;
      body ??= encodePresenceEvent(kind, nodeId, labels, timeMs, reason, serverId);
      if (sub.relay(body)) n++;
    }
    // Subscriptions still receiving their snapshot get it after it.
    for (const [sub, stream] of this.#streams) {
      if (!sub.accepts(labels)) continue;
      body ??= encodePresenceEvent(kind, nodeId, labels, timeMs, reason, serverId);
      stream.hold(body);
    }
    return n;
  }
}
