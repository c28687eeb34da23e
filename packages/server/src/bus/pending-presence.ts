import type { BusPresence } from "../core/ports/bus-link.js";

/**
 * The presence changes a link could not announce while it was cut off: the
 * last change per node, at most `limit` nodes. They serve as hints when the
 * link is back, so that the other members report each difference with its
 * real kind, reason and time; the state itself is rebuilt from the member's
 * full node set, so a change that finds the table full loses only its
 * reason (counted in {@link PendingPresence.overflow}).
 */
export class PendingPresence {
  readonly #limit: number;
  #changes = new Map<string, BusPresence>();
  #overflow = 0;

  /** @param limit - most nodes remembered (0: none) */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Nodes with a pending change. */
  get size(): number {
    return this.#changes.size;
  }

  /** Changes not remembered because the table was full, since creation. */
  get overflow(): number {
    return this.#overflow;
  }

  /** Remembers `event` as the last change of its node. */
  record(event: BusPresence): void {
    if (this.#changes.has(event.nodeId) || this.#changes.size < this.#limit) this.#changes.set(event.nodeId, event);
    else this.#overflow++;
  }

  /** Hands over the pending changes and starts afresh. */
  take(): Map<string, BusPresence> {
    const out = this.#changes;
    this.#changes = new Map();
    return out;
  }

  /** Puts back changes that were taken but could not be sent; newer ones recorded meanwhile win. */
  restore(changes: ReadonlyMap<string, BusPresence>): void {
    for (const [nodeId, event] of changes) {
      if (!this.#changes.has(nodeId)) this.record(event);
    }
  }
}
