import type { NodeFilter, NodeInfo } from "../registry/node-info.js";
import type { NodeLabels } from "../registry/node-labels.js";
import type { NodeRegistry } from "../registry/node-registry.js";
import type { SessionRecord } from "../session/session-record.js";
import type { Clock } from "./ports/clock.js";
import type { NodeDirectory } from "./ports/node-directory.js";

/** The {@link NodeDirectory} of this server's nodes: the registry, and snapshots with their session's details. */
export class LocalDirectory implements NodeDirectory<SessionRecord> {
  readonly #r: NodeRegistry<SessionRecord>;
  readonly #clock: Clock;

  constructor(registry: NodeRegistry<SessionRecord>, clock: Clock) {
    this.#r = registry;
    this.#clock = clock;
  }

  get size(): number {
    return this.#r.size;
  }
  slotOf(nodeId: string): number {
    return this.#r.slotOf(nodeId);
  }
  id(slot: number): string {
    return this.#r.id(slot);
  }
  labels(slot: number): NodeLabels {
    return this.#r.labels(slot);
  }
  lastHeard(slot: number): number {
    return this.#r.lastHeard(slot);
  }
  joinedAt(slot: number): number {
    return this.#r.joinedAt(slot);
  }
  handle(slot: number): number {
    return this.#r.handle(slot);
  }
  owner(slot: number): SessionRecord {
    return this.#r.owner(slot);
  }
  forEach(filter: NodeFilter, visit: (slot: number) => boolean | void): void {
    this.#r.forEach(filter, visit);
  }

  info(slot: number): NodeInfo {
    const r = this.#r;
    const clock = this.#clock;
    const rec = r.owner(slot);
    const handle = r.handle(slot);
    return {
      nodeId: r.id(slot),
      labels: r.labels(slot),
      state: r.state(slot),
      lastHeardAt: clock.epoch(r.lastHeard(slot)),
      joinedAt: clock.epoch(r.joinedAt(slot)),
      heartbeats: r.heartbeats(slot),
      sessionId: rec.sessionId,
      handle,
      gatewayNodeId: handle === 0 ? undefined : rec.nodeId,
      connected: rec.session !== undefined,
      remoteAddress: rec.remoteAddress,
      heartbeatInterval: rec.intervalMs,
    };
  }

  /**
   * What the authorization hooks see of an observer (PROTOCOL.md §5.7),
   * which has no slot: its id, Hello labels and session, `online`.
   */
  observerInfo(rec: SessionRecord): NodeInfo {
    return {
      nodeId: rec.nodeId,
      labels: rec.observerLabels,
      state: "online",
      lastHeardAt: this.#clock.epoch(rec.lastHeard),
      joinedAt: rec.claimedAt,
      heartbeats: 0,
      sessionId: rec.sessionId,
      handle: 0,
      gatewayNodeId: undefined,
      connected: rec.session !== undefined,
      remoteAddress: rec.remoteAddress,
      heartbeatInterval: rec.intervalMs,
    };
  }

  /** Snapshots of the nodes matching `filter`, at most `limit`. */
  list(filter: NodeFilter, limit: number): NodeInfo[] {
    const out: NodeInfo[] = [];
    if (limit <= 0) return out;
    this.#r.forEach(filter, (slot) => {
      out.push(this.info(slot));
      return out.length < limit;
    });
    return out;
  }
}
