import type { NodeFilter, NodeInfo } from "../../registry/node-info.js";
import type { NodeLabels } from "../../registry/node-labels.js";

/**
 * The local nodes as the parts read them (routing, presence): by id or
 * registry slot, with their owner (the session record holding them, typed
 * by what the reading part needs), and as the snapshots hooks and queries
 * get. Implemented by the core over the node registry.
 *
 * @typeParam O - what a part needs of a node's owner
 */
export interface NodeDirectory<O> {
  /** Number of local nodes. */
  readonly size: number;
  /** The slot of `nodeId`, or -1. */
  slotOf(nodeId: string): number;
  /** Node id in `slot`. */
  id(slot: number): string;
  /** Labels of the node in `slot`. */
  labels(slot: number): NodeLabels;
  /** When the node in `slot` was last heard, monotonic ms. */
  lastHeard(slot: number): number;
  /** When the node in `slot` registered, monotonic ms. */
  joinedAt(slot: number): number;
  /** Gateway handle of the node in `slot` (0: a connection's own node). */
  handle(slot: number): number;
  /** The owner of the node in `slot`. */
  owner(slot: number): O;
  /** Visits the nodes matching `filter` (label index and per-state lists); `visit` returns `false` to stop. */
  forEach(filter: NodeFilter, visit: (slot: number) => boolean | void): void;
  /** A snapshot of the node in `slot`. */
  info(slot: number): NodeInfo;
}
