import type { NodeLabels } from "../../registry/node-labels.js";

/** A server event name that is a presence change of a node. */
export type NodeEventName = "nodeJoined" | "nodeLeft" | "nodeSuspect" | "nodeTimeout" | "nodeRecovered" | "nodeUpdated";

/**
 * Where the parts report presence changes of local nodes (the presence
 * part implements it: `$hb.presence` subscribers, the bus, the server's
 * events). A part calls it while the node is still in the registry, before
 * removing it.
 */
export interface EventSink {
  /**
   * Node `slot` changed (`name`) for `reason`, at monotonic time `now`.
   * `previousLabels`: its labels changed in the same transition (a resume
   * with other labels: `nodeRecovered` or `nodeUpdated`), these were the
   * old ones (PROTOCOL.md §7.5).
   */
  node(name: NodeEventName, slot: number, reason: string, now: number, previousLabels?: NodeLabels): void;
}
