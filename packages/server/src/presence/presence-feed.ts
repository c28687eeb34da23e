import { PresenceKind } from "@hb/codec";
import type { BusNode } from "../core/ports/bus-link.js";
import type { Clock } from "../core/ports/clock.js";
import type { NodeEventName } from "../core/ports/event-sink.js";
import type { NodeDirectory } from "../core/ports/node-directory.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { NodeLabels } from "../registry/node-labels.js";
import type { TurnSlicer } from "../routing/turn-slicer.js";
import { type DampedNode, FlapDamping, type FlapDampingOptions } from "./flap-damping.js";
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
  nodeUpdated: PresenceKind.UPDATED,
} as const satisfies Record<NodeEventName, PresenceKind>;

/** Reason of the presence events of a label change (PROTOCOL.md §7.5). */
export const LABELS_CHANGED = "labels_changed";

/** What the feed needs of a `$hb.presence` subscription. */
export interface PresenceSubscriber extends SnapshotSubscriber {
  /** Whether a node with `labels` passes its label filter. */
  accepts(labels: NodeLabels): boolean;
  /** Queues an encoded PresenceEvent body on it; `false` when dropped. */
  relay(body: Uint8Array): boolean;
  /** Its label filter (empty: every node). */
  readonly labelFilter: NodeLabels;
  /** Whether flap damping is off for it (`Subscribe.undamped`). */
  readonly undamped: boolean;
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
  /** Flap damping settings (§7.6); default: none. */
  damping?: FlapDampingOptions;
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
 * Flap damping (§7.6) happens here, for local and remote nodes alike
 * ({@link FlapDamping}, by node id): a subscription without `undamped`
 * gets `SUSPECT flapping` when its node's damping starts (if its view has
 * the node online), nothing while it lasts, and one `flap_ended` event
 * bringing its view to the node's state when it ends ({@link PresenceFeed.sweep}).
 *
 * A snapshot (§7.2) is a {@link PresenceSnapshot}: the matching nodes are
 * captured at Subscribed (references, ≈ 20 ns per node), then encoded and
 * queued in slices, paced by the subscription's queue (outside its
 * overflow policy); live events for it wait behind the snapshot (see
 * `#deliver`), damping included.
 */
export class PresenceFeed {
  readonly #subs = new Set<PresenceSubscriber>();
  // Subscriptions whose snapshot is still going out (also in #subs), and their streams.
  readonly #streams = new Map<PresenceSubscriber, PresenceSnapshot>();
  // How many of them stream to each connection (connections with none are not keys).
  readonly #streamsTo = new Map<SnapshotSubscriber["peer"], number>();
  readonly #serverId: string;
  readonly #o: PresenceFeedOptions;

  readonly #damping: FlapDamping<PresenceSubscriber>;

  constructor(options: PresenceFeedOptions) {
    this.#o = options;
    this.#serverId = options.serverId;
    this.#damping = new FlapDamping(options.damping ?? { suppress: 0, reuse: 1, halfLifeMs: 1, maxDampingMs: 1 });
  }

  /** The flap damping (counters for `stats().flapping`). */
  get damping(): FlapDamping<PresenceSubscriber> {
    return this.#damping;
  }

  /** Number of presence subscriptions. */
  get size(): number {
    return this.#subs.size;
  }

  /** Snapshots still streaming. */
  get snapshots(): number {
    return this.#streams.size;
  }

  /** Snapshots still streaming to the connection `peer` (bounded per connection: each holds a capture of the fleet). */
  streamingTo(peer: SnapshotSubscriber["peer"]): number {
    return this.#streamsTo.get(peer) ?? 0;
  }

  /**
   * Adds a subscription; with `snapshot`, it first receives one JOINED event
   * (reason `snapshot`) per matching node online or suspect now, local and
   * (with a bus) remote (§7.2), before any live event: the nodes are
   * captured now, the events stream in later turns. A damped node of the
   * snapshot is followed by `SUSPECT flapping` for a damped subscription
   * (§7.6 rule 3), after the snapshot's JOINED events.
   */
  add(sub: PresenceSubscriber, snapshot: boolean): void {
    this.#subs.add(sub);
    if (!snapshot) return;
    const o = this.#o;
    const time = o.clock.epoch(o.clock.now());
    const captured = this.#capture(sub);
    const stream = new PresenceSnapshot(sub, captured, time, o.stats, () => {
      if (this.#streams.get(sub) === stream) this.#endStream(sub);
    });
    if (!this.#streams.has(sub)) this.#streamsTo.set(sub.peer, this.streamingTo(sub.peer) + 1);
    this.#streams.set(sub, stream);
    if (!sub.undamped && this.#damping.damped > 0) {
      const { ids, labels, servers } = captured;
      for (let i = 0; i < ids.length; i++) {
        const damped = this.#damping.dampedNode(ids[i] as string);
        if (damped === undefined) continue;
        damped.told.add(sub);
        stream.hold(encodePresenceEvent(PresenceKind.SUSPECT, ids[i] as string, labels[i] as NodeLabels, time, "flapping", servers[i] as string));
      }
    }
    o.slicer.defer(stream);
  }

  /** Removes a subscription. */
  remove(sub: PresenceSubscriber): void {
    this.#subs.delete(sub);
    this.#endStream(sub);
    this.#damping.forget(sub);
  }

  // The snapshot of `sub` is no longer streaming (sent, or the subscription ended).
  #endStream(sub: PresenceSubscriber): void {
    if (!this.#streams.delete(sub)) return;
    const n = this.streamingTo(sub.peer) - 1;
    if (n > 0) this.#streamsTo.set(sub.peer, n);
    else this.#streamsTo.delete(sub.peer);
  }

  // Queues `body` on `sub`, or behind its snapshot while that streams (counted when it goes out).
  #deliver(sub: PresenceSubscriber, body: Uint8Array): boolean {
    if (this.#streams.size > 0) {
      const stream = this.#streams.get(sub);
      if (stream !== undefined) {
        stream.hold(body);
        return false;
      }
    }
    return sub.relay(body);
  }

  /**
   * Ends the damping of the node ids whose penalty decayed (or whose
   * maximum damping time passed), telling each damped subscription the one
   * `flap_ended` event that brings its view to the node's state (§7.6 rule
   * 2). Called on the liveness tick.
   */
  sweep(now: number): void {
    if (this.#damping.tracked === 0) return;
    this.#damping.sweep(now, (nodeId, node) => this.#flapEnded(nodeId, node, now));
  }

  #flapEnded(nodeId: string, node: DampedNode<PresenceSubscriber>, now: number): void {
    const o = this.#o;
    const time = o.clock.epoch(now);
    let n = 0;
    for (const sub of this.#subs) {
      if (sub.undamped) continue;
      const suspect = node.told.has(sub);
      let kind: PresenceKind | undefined;
      switch (node.state) {
        case "online":
          kind = suspect ? PresenceKind.RECOVERED : sub.accepts(node.labels) ? PresenceKind.JOINED : undefined;
          break;
        case "suspect":
          kind = suspect || !sub.accepts(node.labels) ? undefined : PresenceKind.JOINED;
          break;
        case "left":
          kind = suspect ? PresenceKind.LEFT : undefined;
          break;
        case "timed_out":
          kind = suspect ? PresenceKind.TIMED_OUT : undefined;
          break;
      }
      if (kind !== undefined && this.#deliver(sub, encodePresenceEvent(kind, nodeId, node.labels, time, "flap_ended", node.serverId))) n++;
    }
    o.stats.deliveries += n;
  }

  /**
   * A presence change of the local node in `slot`: queued on the matching
   * subscriptions. `previous`: the labels it had before this change, when
   * the change moved them (§7.5).
   */
  local(name: NodeEventName, slot: number, reason: string, now: number, previous?: NodeLabels): void {
    const o = this.#o;
    if (this.#subs.size === 0 && !this.#damping.enabled) return;
    if (this.#subs.size > 0) o.stats.routed.presence++;
    const kind = PRESENCE_KINDS[name];
    const nodeId = o.nodes.id(slot);
    const labels = o.nodes.labels(slot);
    const time = o.clock.epoch(now);
    o.stats.deliveries +=
      previous === undefined
        ? this.publish(kind, nodeId, labels, time, reason)
        : this.publishRelabel(kind, nodeId, labels, previous, time, reason);
  }

  /** A presence change of a node held by another server of the bus (`serverId`), at `time` (ms since the epoch). */
  remote(
    name: NodeEventName,
    nodeId: string,
    labels: NodeLabels,
    time: number,
    reason: string,
    serverId: string,
    previous?: NodeLabels,
  ): void {
    const o = this.#o;
    if (this.#subs.size === 0 && !this.#damping.enabled) return;
    if (this.#subs.size > 0) o.stats.routed.presence++;
    const kind = PRESENCE_KINDS[name];
    o.stats.deliveries +=
      previous === undefined
        ? this.publish(kind, nodeId, labels, time, reason, serverId)
        : this.publishRelabel(kind, nodeId, labels, previous, time, reason, serverId);
  }

  /**
   * A change that moved a node's labels from `previous` to `labels`
   * (PROTOCOL.md §7.5), told to each subscription as the transition true
   * for its filter, always with the new labels: matched before only →
   * `LEFT labels_changed`; after only → `JOINED labels_changed`; both →
   * `kind` with `reason` (`RECOVERED resumed` or `UPDATED labels_changed`);
   * neither → nothing. A label change alone is no flap; while a node is
   * damped (§7.6) only undamped subscriptions hear it, and the damped view
   * learns the new labels when damping ends.
   *
   * @returns the number of subscriptions an event was queued on
   */
  publishRelabel(
    kind: PresenceKind,
    nodeId: string,
    labels: NodeLabels,
    previous: NodeLabels,
    timeMs: number,
    reason: string,
    serverId = this.#serverId,
  ): number {
    const verdict =
      kind === PresenceKind.UPDATED
        ? this.#damping.relabel(nodeId, labels, serverId)
        : this.#damping.transition(nodeId, kind, labels, serverId, this.#o.clock.now());
    if (this.#subs.size === 0) return 0;
    let same: Uint8Array | undefined;
    let left: Uint8Array | undefined;
    let joined: Uint8Array | undefined;
    let n = 0;
    for (const sub of this.#subs) {
      if (verdict !== "pass" && !sub.undamped) continue;
      const before = sub.accepts(previous);
      const after = sub.accepts(labels);
      let body: Uint8Array;
      if (before && after) body = same ??= encodePresenceEvent(kind, nodeId, labels, timeMs, reason, serverId);
      else if (before) body = left ??= encodePresenceEvent(PresenceKind.LEFT, nodeId, labels, timeMs, LABELS_CHANGED, serverId);
      else if (after) body = joined ??= encodePresenceEvent(PresenceKind.JOINED, nodeId, labels, timeMs, LABELS_CHANGED, serverId);
      else continue;
      if (this.#deliver(sub, body)) n++;
    }
    return n;
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
   * `labels`, flap damping applied (§7.6).
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
    const verdict = this.#damping.transition(nodeId, kind, labels, serverId, this.#o.clock.now());
    if (this.#subs.size === 0) return 0;
    let body: Uint8Array | undefined;
    let n = 0;
    if (verdict === "pass") {
      for (const sub of this.#subs) {
        if (!sub.accepts(labels)) continue;
        body ??= encodePresenceEvent(kind, nodeId, labels, timeMs, reason, serverId);
        if (this.#deliver(sub, body)) n++;
      }
      return n;
    }
    // Damped: only undamped subscriptions hear it; when damping starts with it, the others whose
    // view has the node online (every transition but a join leaves from there) hear SUSPECT flapping.
    const damped = verdict === "start" ? this.#damping.dampedNode(nodeId) : undefined;
    let flapping: Uint8Array | undefined;
    for (const sub of this.#subs) {
      if (!sub.accepts(labels)) continue;
      if (sub.undamped) {
        body ??= encodePresenceEvent(kind, nodeId, labels, timeMs, reason, serverId);
        if (this.#deliver(sub, body)) n++;
      } else if (damped !== undefined && kind !== PresenceKind.JOINED) {
        damped.told.add(sub);
        flapping ??= encodePresenceEvent(PresenceKind.SUSPECT, nodeId, labels, timeMs, "flapping", serverId);
        if (this.#deliver(sub, flapping)) n++;
      }
    }
    return n;
  }
}
