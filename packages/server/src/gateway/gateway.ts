import { type Attach, type Detach, ErrorCode, labelsProblem, makeFrame, nodeIdProblem } from "@hb/codec";
import type { EventSink } from "../core/ports/event-sink.js";
import type { Refusal } from "../core/ports/frame-handlers.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { LivenessMonitor } from "../liveness/liveness-monitor.js";
import type { Wills } from "../presence/wills.js";
import type { NodeRegistry } from "../registry/node-registry.js";
import { checkWill } from "../registry/node-will.js";
import type { Registrations } from "../session/registrations.js";
import type { SessionRecord } from "../session/session-record.js";

/** What the gateway needs of the connection that attaches nodes. */
export interface GatewayPeer {
  /** Queues a control frame (Attached). */
  control(frame: ReturnType<typeof makeFrame>): void;
}

/** Dependencies of a {@link Gateway}. */
export interface GatewayOptions {
  /** The node registry. */
  registry: NodeRegistry<SessionRecord>;
  /** Sessions and the nodes they hold. */
  registrations: Registrations;
  /** Deadlines of the attached nodes. */
  liveness: LivenessMonitor<SessionRecord>;
  /** The nodes' wills. */
  wills: Wills;
  /** Where presence changes go. */
  events: EventSink;
  /** Counters. */
  stats: ServerCounters;
  /** Calls `done` once a registration is known wherever the server routes from (Attached waits for it, §5.3). */
  settle?: (done: () => void) => void;
  /** The options in force (`maxAttachedPerConnection`), read when needed. */
  options: { readonly current: { readonly maxAttachedPerConnection: number } };
}

/**
 * Gateway mode (PROTOCOL.md §9): a connection registers more nodes than its
 * own with Attach, each under a handle of its choosing, and lets them go
 * with Detach. Their liveness (BatchHeartbeat, attached timeouts) is the
 * {@link LivenessMonitor}'s.
 */
export class Gateway {
  readonly #o: GatewayOptions;

  constructor(options: GatewayOptions) {
    this.#o = options;
  }

  /**
   * Attach (§9.1): checks handle, id, labels and will, then registers the
   * node (a newer registration of an id held elsewhere takes it over,
   * §8.1), or re-binds one of this session's unbound nodes after a resume.
   * Answers `Attached`. A connection holding `maxAttachedPerConnection`
   * nodes is refused a new one with non-fatal `SERVER_FULL`.
   */
  attach(peer: GatewayPeer, rec: SessionRecord, attach: Attach, now: number): Refusal | undefined {
    const invalid =
      (attach.handle === 0 ? "handle must be 1..2^32-1" : undefined) ??
      (attach.nodeId === "" ? "attached node id must not be empty" : nodeIdProblem(attach.nodeId)) ??
      labelsProblem(attach.labels) ??
      (attach.will === undefined ? undefined : checkWill(attach.will));
    if (invalid !== undefined) return { code: ErrorCode.INVALID_ARGUMENT, message: invalid };
    const o = this.#o;
    if (o.registrations.shuttingDown) return { code: ErrorCode.SHUTTING_DOWN, message: "server is draining" };
    const { handle, nodeId } = attach;
    if (rec.handles.has(handle)) return { code: ErrorCode.INVALID_ARGUMENT, message: `handle ${handle} is in use` };
    if (nodeId === rec.nodeId) {
      return { code: ErrorCode.INVALID_ARGUMENT, message: "cannot attach the connection's own node id" };
    }
    // The connection's permissions (PROTOCOL.md §5.9): may it attach, and this id?
    if (rec.permissions !== undefined && !rec.permissions.mayAttach(nodeId)) {
      o.stats.forbidden.attach++;
      return { code: ErrorCode.FORBIDDEN, message: `not allowed to attach ${JSON.stringify(nodeId)}` };
    }
    let reason: "attach" | "replaced" = "attach";
    const existing = o.registry.slotOf(nodeId);
    if (existing >= 0 && o.registry.owner(existing) === rec) {
      if (!rec.unbound.has(existing)) {
        return { code: ErrorCode.INVALID_ARGUMENT, message: `node ${nodeId} is already attached on this connection` };
      }
      this.#rebind(rec, existing, attach, now);
    } else {
      const max = o.options.current.maxAttachedPerConnection;
      if (rec.handles.size + rec.unbound.size >= max) {
        return { code: ErrorCode.SERVER_FULL, message: `more than ${max} attached nodes on this connection (maxAttachedPerConnection)` };
      }
      if (o.registrations.takeOver(existing, nodeId, now)) reason = "replaced";
      const slot = o.registry.add(nodeId, attach.labels, rec, handle, now);
      rec.bind(handle, slot);
      o.wills.set(slot, attach.will);
      o.liveness.watch(slot, rec, now);
      o.stats.joined++;
      o.events.node("nodeJoined", slot, reason, now);
    }
    const attached = makeFrame("attached", { handle, nodeId });
    if (o.settle === undefined) peer.control(attached);
    else o.settle(() => peer.control(attached));
    return undefined;
  }

  // An attached node of a resumed session, attached again: same node, new handle.
  #rebind(rec: SessionRecord, slot: number, attach: Attach, now: number): void {
    const o = this.#o;
    rec.bind(attach.handle, slot);
    o.registry.setHandle(slot, attach.handle);
    const before = o.registry.labels(slot);
    o.registry.setLabels(slot, attach.labels);
    const changed = o.registry.labels(slot) !== before;
    o.wills.set(slot, attach.will);
    o.liveness.resumed(slot, rec, now, changed ? before : undefined);
    if (rec.unbound.size === 0 && !rec.waiting) o.registrations.clearGrace(rec);
  }

  /** Detach (§9.2): the listed attached nodes leave (reason `detach`, no will). Unknown handles are ignored. */
  detach(rec: SessionRecord, detach: Detach, now: number): undefined {
    const o = this.#o;
    for (const handle of detach.handles) {
      const slot = rec.handles.get(handle);
      if (slot === undefined) continue;
      o.stats.left++;
      o.events.node("nodeLeft", slot, "detach", now);
      o.registrations.removeNode(slot);
    }
    return undefined;
  }
}
