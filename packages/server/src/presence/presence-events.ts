import type { EventEmitter } from "node:events";
import type { BusLink, BusPresence } from "../core/ports/bus-link.js";
import type { Clock } from "../core/ports/clock.js";
import type { EventSink, NodeEventName } from "../core/ports/event-sink.js";
import { runGuarded } from "../core/ports/listener-guard.js";
import type { Logger } from "../core/ports/logger.js";
import type { NodeDirectory } from "../core/ports/node-directory.js";
import type { HeartbeatServerEvents, NodeEvent } from "../core/ports/node-events.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { NodeLabels } from "../registry/node-labels.js";
import type { PresenceFeed } from "./presence-feed.js";
import type { RemoteEmit, RemoteNodes } from "./remote-nodes.js";

const BUS_KINDS = {
  nodeJoined: "joined",
  nodeLeft: "left",
  nodeSuspect: "suspect",
  nodeTimeout: "timed_out",
  nodeRecovered: "recovered",
  nodeUpdated: "updated",
} as const satisfies Record<NodeEventName, BusPresence["kind"]>;

/** Dependencies of {@link PresenceEvents}. */
export interface PresenceEventsOptions {
  /** `serverId` of local events. */
  serverId: string;
  /** The local nodes. */
  nodes: NodeDirectory<{ readonly sessionId: string }>;
  /** `$hb.presence` subscriptions. */
  feed: PresenceFeed;
  /** The other servers' nodes (join-time claims). */
  remote: RemoteNodes;
  /** The bus link, if any: local changes are announced on it. */
  bus: BusLink | undefined;
  /** The server's typed events. */
  events: EventEmitter<HeartbeatServerEvents>;
  /** Times. */
  clock: Clock;
  /** Counters (`listenerErrors`, presence transitions by kind and reason). */
  stats: ServerCounters;
  /** Where a throwing listener is logged. */
  logger: Logger;
}

/**
 * The {@link EventSink} of the server: every presence change of a local
 * node is counted (`stats().transitions`, by kind and reason) and goes, in
 * this order, to the `$hb.presence` subscriptions, to the bus (so the other
 * servers learn it), and to the application's listeners. Events are built
 * only when someone listens; a throwing listener is counted and logged.
 */
export class PresenceEvents implements EventSink {
  readonly #o: PresenceEventsOptions;

  constructor(options: PresenceEventsOptions) {
    this.#o = options;
  }

  /** See {@link EventSink.node}. */
  node(name: NodeEventName, slot: number, reason: string, now: number, previousLabels?: NodeLabels): void {
    const o = this.#o;
    o.stats.transition(name, reason);
    o.feed.local(name, slot, reason, now, previousLabels);
    const nodes = o.nodes;
    const bus = o.bus;
    if (bus !== undefined) {
      const nodeId = nodes.id(slot);
      const event: BusPresence = {
        kind: BUS_KINDS[name],
        nodeId,
        labels: nodes.labels(slot),
        reason,
        time: name === "nodeJoined" ? o.remote.joinTime(nodeId, o.clock.epoch(now)) : o.clock.epoch(now),
        memberId: o.serverId,
      };
      if (previousLabels !== undefined) event.previousLabels = previousLabels;
      runGuarded(o.stats, o.logger, () => bus.announce(event));
    }
    if (o.events.listenerCount(name) === 0) return;
    const event: NodeEvent = {
      nodeId: nodes.id(slot),
      labels: nodes.labels(slot),
      reason,
      time: o.clock.epoch(now),
      lastHeardAt: o.clock.epoch(nodes.lastHeard(slot)),
      sessionId: nodes.owner(slot).sessionId,
      handle: nodes.handle(slot),
      serverId: o.serverId,
    };
    this.#emit(name, event, previousLabels);
  }

  /** A presence change of a node held by another server (`serverId`), at `time` (ms since the epoch). */
  readonly remote: RemoteEmit = (name, nodeId, labels, reason, time, serverId, previousLabels) => {
    const o = this.#o;
    o.feed.remote(name, nodeId, labels, time, reason, serverId, previousLabels);
    if (o.events.listenerCount(name) === 0) return;
    this.#emit(name, { nodeId, labels, reason, time, lastHeardAt: time, sessionId: "", handle: 0, serverId, remote: true }, previousLabels);
  };

  // To the server's listeners (a listener that throws is counted and logged, never breaks the caller).
  #emit(name: NodeEventName, event: NodeEvent, previousLabels: NodeLabels | undefined): void {
    const o = this.#o;
    if (previousLabels !== undefined) event.previousLabels = previousLabels;
    runGuarded(o.stats, o.logger, () => (o.events.emit as (n: string, e: NodeEvent) => boolean)(name, event));
  }
}
