import type { BusLink, BusNode, BusPresence } from "../core/ports/bus-link.js";
import type { Clock } from "../core/ports/clock.js";
import type { NodeEventName } from "../core/ports/event-sink.js";
import type { NodeDirectory } from "../core/ports/node-directory.js";
import { SERVER_LOST_REASON } from "../core/ports/node-events.js";
import type { NodeFilter, NodeInfo } from "../registry/node-info.js";
import type { NodeLabels } from "../registry/node-labels.js";

const EVENT_NAMES = {
  joined: "nodeJoined",
  left: "nodeLeft",
  suspect: "nodeSuspect",
  timed_out: "nodeTimeout",
  recovered: "nodeRecovered",
  updated: "nodeUpdated",
} as const satisfies Record<BusPresence["kind"], NodeEventName>;

/** Reports a presence change of a remote node (to subscribers and listeners). */
export type RemoteEmit = (
  name: NodeEventName,
  nodeId: string,
  labels: NodeLabels,
  reason: string,
  time: number,
  serverId: string,
  previousLabels?: NodeLabels,
) => void;

/** Dependencies of {@link RemoteNodes}. */
export interface RemoteNodesOptions {
  /** This server's member id on the bus. */
  serverId: string;
  /** The bus link, if any. */
  bus: BusLink | undefined;
  /** The local nodes (an id held here too is settled by §8.1). */
  nodes: NodeDirectory<unknown>;
  /** Times. */
  clock: Clock;
  /** Where remote changes are reported. */
  emit: RemoteEmit;
  /** Takes a local node's id away from it (a newer registration elsewhere wins, §8.1). */
  replaceLocal: (slot: number, now: number) => void;
}

/**
 * The nodes of the other servers of a bus, as this server reports them:
 * their presence changes and lost members (the bus link's handlers), the
 * snapshots and counts `get` / `count` / `list` answer for them, and the
 * newer-registration-wins rule when a node id is held here and elsewhere
 * (PROTOCOL.md §8.1).
 */
export class RemoteNodes {
  readonly #o: RemoteNodesOptions;
  // When this server learnt of each remote node, and which are suspect (for O(1) counts).
  readonly #seen = new Map<string, number>();
  readonly #suspect = new Set<string>();
  // Local nodes registered while another member held their id: the join time
  // announced for them, later than the remote holder's (see joinTime).
  readonly #claimed = new Map<string, number>();
  // Node ids taken over here from another member (node id → that member):
  // its own late LEFT / TIMED_OUT (or loss) for them was reported already.
  readonly #released = new Map<string, string>();

  constructor(options: RemoteNodesOptions) {
    this.#o = options;
  }

  /** After `bus.start()`: takes in the remote directory loaded silently. */
  started(): void {
    const bus = this.#o.bus;
    if (bus === undefined) return;
    const now = Date.now();
    for (const node of bus.remoteNodes().values()) {
      this.#seen.set(node.nodeId, now);
      if (node.state === "suspect") this.#suspect.add(node.nodeId);
    }
  }

  /**
   * The time announced for a local join at `time` (ms since the epoch). A
   * node id another member holds (as far as this one knows) is registered
   * here after that member's registration, whatever the clocks say (same
   * millisecond, skew between hosts): claim a later time, so that every
   * member agrees this newer registration wins (PROTOCOL.md §8.1) and the
   * old holder lets go.
   */
  joinTime(nodeId: string, time: number): number {
    const remote = this.#seen.get(nodeId);
    if (remote === undefined || time > remote) return time;
    this.#claimed.set(nodeId, remote + 1);
    return remote + 1;
  }

  /**
   * A local registration takes `nodeId` over (§8.1): if another member of
   * the bus holds it (in the replica), its `LEFT replaced` is reported here
   * now, before the new `JOINED replaced`, with its labels and member, as
   * every other member reports it; the holder's own late `LEFT replaced`
   * is then not passed on (the id is held here).
   *
   * A remote holder already taken over here (by a node or an observer
   * that has left again since, §5.7) whose own `LEFT replaced` has not
   * arrived yet is still in the replica, but it holds nothing: its
   * `LEFT replaced` was reported once, and is not reported again.
   *
   * @returns whether another member held it
   */
  takeOver(nodeId: string, now: number): boolean {
    const o = this.#o;
    const node = o.bus?.remoteNodes().get(nodeId);
    if (node === undefined) return false;
    if (this.#released.size > 0 && this.#released.get(nodeId) === node.memberId) return false;
    this.#released.set(nodeId, node.memberId);
    o.emit("nodeLeft", nodeId, node.labels, "replaced", o.clock.epoch(now), node.memberId);
    return true;
  }

  /**
   * Another member registered an observer under `nodeId` at `time`
   * (PROTOCOL.md §5.7, §8.1): a local node holding the id lets go
   * (`LEFT replaced`, announced) if that registration is strictly newer
   * (on a tie the node wins, as the observer's member decides the same way).
   */
  observerClaimed(nodeId: string, time: number): void {
    const o = this.#o;
    const slot = o.nodes.slotOf(nodeId);
    if (slot < 0) return;
    const localTime = this.#claimed.get(nodeId) ?? o.clock.epoch(o.nodes.joinedAt(slot));
    if (time <= localTime) return;
    o.replaceLocal(slot, o.clock.now());
  }

  /** A local node is gone: its claim, if any, too. */
  forget(nodeId: string): void {
    if (this.#claimed.size > 0) this.#claimed.delete(nodeId);
  }

  /** A presence change from the bus (`BusHandlers.presence`). */
  presence(e: BusPresence): void {
    const o = this.#o;
    const released = this.#released.get(e.nodeId);
    if (released !== undefined && released === e.memberId) {
      // The old holder of a node taken over here: its LEFT replaced was reported with the takeover.
      if (e.kind !== "joined") {
        if (e.kind === "left" || e.kind === "timed_out") this.#released.delete(e.nodeId);
        return;
      }
      this.#released.delete(e.nodeId);
    }
    const slot = o.nodes.slotOf(e.nodeId);
    if (slot >= 0) {
      // The id is held here too: the newer registration wins (time, then member id; PROTOCOL.md §8.1).
      if (e.kind !== "joined") return;
      const localTime = this.#claimed.get(e.nodeId) ?? o.clock.epoch(o.nodes.joinedAt(slot));
      if (e.time < localTime || (e.time === localTime && e.memberId <= o.serverId)) return;
      o.replaceLocal(slot, o.clock.now());
    }
    switch (e.kind) {
      case "joined":
        this.#seen.set(e.nodeId, e.time);
        this.#suspect.delete(e.nodeId);
        break;
      case "suspect":
        this.#suspect.add(e.nodeId);
        break;
      case "recovered":
        this.#suspect.delete(e.nodeId);
        break;
      default:
        this.#seen.delete(e.nodeId);
        this.#suspect.delete(e.nodeId);
    }
    o.emit(EVENT_NAMES[e.kind], e.nodeId, e.labels, e.reason, e.time, e.memberId, e.previousLabels);
  }

  /** A whole member is gone (`BusHandlers.memberLost`): its nodes not held here time out (`server_lost`). */
  memberLost(memberId: string, nodes: readonly BusNode[]): void {
    const o = this.#o;
    const time = Date.now();
    for (const node of nodes) {
      this.#seen.delete(node.nodeId);
      this.#suspect.delete(node.nodeId);
      if (this.#released.get(node.nodeId) === memberId) {
        this.#released.delete(node.nodeId);
        continue;
      }
      if (o.nodes.slotOf(node.nodeId) >= 0) continue;
      o.emit("nodeTimeout", node.nodeId, node.labels, SERVER_LOST_REASON, time, memberId);
    }
  }

  /** A snapshot of a node held by another server of the bus, if any. */
  info(nodeId: string): NodeInfo | undefined {
    const node = this.#o.bus?.remoteNodes().get(nodeId);
    return node === undefined ? undefined : this.#info(node);
  }

  /** Number of remote nodes matching `filter`: O(1) without labels, else a scan of the remote directory. */
  count(filter: NodeFilter): number {
    const bus = this.#o.bus;
    if (bus === undefined) return 0;
    const nodes = bus.remoteNodes();
    if (filter.labels === undefined || Object.keys(filter.labels).length === 0) {
      if (filter.state === undefined) return nodes.size;
      const suspect = Math.min(this.#suspect.size, nodes.size);
      return filter.state === "suspect" ? suspect : nodes.size - suspect;
    }
    let n = 0;
    for (const node of nodes.values()) if (matches(node, filter)) n++;
    return n;
  }

  /** Appends snapshots of the remote nodes matching `filter` to `out`, up to `limit` in all (scans the remote directory). */
  list(filter: NodeFilter, limit: number, out: NodeInfo[]): void {
    const bus = this.#o.bus;
    if (bus === undefined) return;
    for (const node of bus.remoteNodes().values()) {
      if (out.length >= limit) return;
      if (matches(node, filter) && this.#o.nodes.slotOf(node.nodeId) < 0) out.push(this.#info(node));
    }
  }

  #info(node: BusNode): NodeInfo {
    const seen = this.#seen.get(node.nodeId) ?? Date.now();
    return {
      nodeId: node.nodeId,
      labels: node.labels,
      state: node.state,
      lastHeardAt: seen,
      joinedAt: seen,
      heartbeats: 0,
      sessionId: "",
      handle: 0,
      gatewayNodeId: undefined,
      connected: true,
      remoteAddress: "",
      heartbeatInterval: 0,
      serverId: node.memberId,
    };
  }
}

function matches(node: BusNode, filter: NodeFilter): boolean {
  if (filter.state !== undefined && node.state !== filter.state) return false;
  const labels = filter.labels;
  if (labels !== undefined) for (const k in labels) if (node.labels[k] !== labels[k]) return false;
  return true;
}
