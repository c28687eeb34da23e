import type { EventEmitter } from "node:events";
import type { Will } from "@hb/codec";
import type { Clock } from "../core/ports/clock.js";
import { runGuarded } from "../core/ports/listener-guard.js";
import type { Logger } from "../core/ports/logger.js";
import type { HeartbeatServerEvents, TimeoutReason } from "../core/ports/node-events.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import { type NodeWill, keepWill } from "../registry/node-will.js";

/** Dependencies of {@link Wills}. */
export interface WillsOptions {
  /** Node id of a registry slot. */
  nodeId: (slot: number) => string;
  /** Publishes a will as its node would (`authorizePublish` applies); `false` when refused. */
  publish: (slot: number, subject: string, payload: Uint8Array) => boolean;
  /** The server's events (`willPublished`). */
  events: EventEmitter<HeartbeatServerEvents>;
  /** Times. */
  clock: Clock;
  /** Counters (`willsPublished`, `listenerErrors`). */
  stats: ServerCounters;
  /** Where a refused will and a throwing listener are logged. */
  logger: Logger;
}

/**
 * The wills of local nodes (PROTOCOL.md §7.4), by registry slot: kept from
 * Hello or Attach, dropped when the node leaves cleanly, published at most
 * once when it is lost or times out.
 */
export class Wills {
  readonly #o: WillsOptions;
  readonly #bySlot = new Map<number, NodeWill>();

  constructor(options: WillsOptions) {
    this.#o = options;
  }

  /** Sets (a private copy of) the will of the node in `slot`, or clears it when `will` is undefined. */
  set(slot: number, will: Will | undefined): void {
    if (will === undefined) this.#bySlot.delete(slot);
    else this.#bySlot.set(slot, keepWill(will));
  }

  /** Forgets the will of the node in `slot` (it left). */
  delete(slot: number): void {
    this.#bySlot.delete(slot);
  }

  /** Publishes the will of the node in `slot`, if it has one, and forgets it. */
  publish(slot: number, reason: TimeoutReason, now: number): void {
    const will = this.#bySlot.get(slot);
    if (will === undefined) return;
    this.#bySlot.delete(slot);
    const o = this.#o;
    const nodeId = o.nodeId(slot);
    if (!o.publish(slot, will.subject, will.payload)) {
      o.logger.info({ nodeId, subject: will.subject }, "will refused by authorizePublish");
      return;
    }
    o.stats.willsPublished++;
    if (o.events.listenerCount("willPublished") > 0) {
      const event = { nodeId, subject: will.subject, payload: will.payload, reason, time: o.clock.epoch(now) };
      runGuarded(o.stats, o.logger, () => o.events.emit("willPublished", event));
    }
  }
}
