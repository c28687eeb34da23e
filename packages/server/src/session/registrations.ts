import { ErrorCode, type Hello, Role } from "@hb/codec";
import type { Clock } from "../core/ports/clock.js";
import type { EventSink } from "../core/ports/event-sink.js";
import { runGuarded } from "../core/ports/listener-guard.js";
import type { Logger } from "../core/ports/logger.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { LivenessActions, LivenessMonitor } from "../liveness/liveness-monitor.js";
import { type IntervalBounds, negotiateInterval } from "../liveness/negotiate-interval.js";
import type { Wills } from "../presence/wills.js";
import { generateNodeId } from "../registry/node-id.js";
import type { NodeRegistry } from "../registry/node-registry.js";
import { tokenWorker, workerTag } from "../workers/worker-handoff.js";
import { ResumeStore } from "./resume-store.js";
import { type SessionConnection, SessionRecord } from "./session-record.js";

/**
 * How a session ended, which decides the events for its nodes
 * (docs/PROTOCOL.md §7.1):
 * - `goodbye`: `nodeLeft` reason `goodbye`, no will;
 * - `lost`: connection closed without Goodbye: with resume grace `nodeSuspect`
 *   (then `nodeRecovered` or `nodeTimeout`), else `nodeLeft` `connection_closed` and wills;
 * - `timeout`: own node timed out: `nodeTimeout` `heartbeat_timeout` and wills;
 * - `replaced`: own node taken over by a newer connection: the remaining
 *   attached nodes `nodeLeft` `replaced` too, no will;
 * - `server_shutdown`: the server is draining: `nodeLeft` `server_shutdown`, no will.
 */
export type SessionEnd = "goodbye" | "lost" | "timeout" | "replaced" | "server_shutdown";

/** Result of {@link Registrations.open}. */
export interface OpenResult {
  /** The session record (new or resumed). */
  record: SessionRecord;
  /** Whether an earlier session was resumed. */
  resumed: boolean;
  /** The fresh resume token for Welcome. */
  resumeToken: Uint8Array;
}

/** Dependencies of {@link Registrations}. */
export interface RegistrationsOptions {
  /** The node registry. */
  registry: NodeRegistry<SessionRecord>;
  /** Deadlines of the nodes. */
  liveness: LivenessMonitor<SessionRecord>;
  /** Where presence changes go. */
  events: EventSink;
  /** The nodes' wills. */
  wills: Wills;
  /** Called with the id of every node and observer removed (a remote claim on it ends). */
  removed: (nodeId: string) => void;
  /**
   * A registration here takes `nodeId` over from another member of the bus
   * if one holds it: reports that holder's `LEFT replaced`; `true` if so.
   */
  takeOverRemote?: (nodeId: string, now: number) => boolean;
  /**
   * An observer's id is held here from now on (`held`), or no longer: the
   * rest of the server (other processes) routes to it, and lets go of the
   * id if it holds it (§5.7, §8.1). `time`: ms since the epoch.
   */
  observerClaim?: (nodeId: string, held: boolean, time: number) => void;
  /**
   * The time to announce for a registration of `nodeId` at `time` (ms since
   * the epoch): later than another member's registration of it, when one is
   * known (see `RemoteNodes.joinTime`).
   */
  claimTime?: (nodeId: string, time: number) => number;
  /** Interval negotiation bounds. */
  intervals: IntervalBounds;
  /** `resumeGrace`, ms (0: lost sessions end at once). */
  resumeGrace: number;
  /** Times. */
  clock: Clock;
  /** Counters. */
  stats: ServerCounters;
  /** Where a failing grace timer is logged. */
  logger: Logger;
}

/**
 * Which connection holds which nodes, from Welcome to the end: registers
 * the node of a Hello (or resumes its earlier session, PROTOCOL.md §8.2),
 * lets a newer registration take a node id over (§8.1), keeps a lost
 * session resumable for `resumeGrace`, and ends sessions with the events
 * their end calls for ({@link SessionEnd}). Liveness timeouts come here to
 * end what must end ({@link LivenessActions}).
 */
// Why one file of ~460 lines (a quarter TSDoc and comments): one concept, the life of a registration
// (open, resume, takeover, grace, end, and the observers' ids, which take ids over like nodes); every path
// moves the same records between the same sets (records, resumes, observers, grace count).
export class Registrations implements LivenessActions<SessionRecord> {
  readonly #o: RegistrationsOptions;
  readonly #registry: NodeRegistry<SessionRecord>;
  readonly #resumes = new ResumeStore<SessionRecord>();
  readonly #records = new Set<SessionRecord>();
  // Observers (§5.7) by id: routable, never in the registry.
  readonly #observers = new Map<string, SessionRecord>();
  #workerId: number | undefined;
  #epoch = 0;
  #graceCount = 0;
  #shuttingDown = false;

  constructor(options: RegistrationsOptions) {
    this.#o = options;
    this.#registry = options.registry;
  }

  /** Number of live session records. */
  get sessions(): number {
    return this.#records.size;
  }

  /** Number of lost sessions waiting for a resume. */
  get resumable(): number {
    return this.#graceCount;
  }

  /** Number of observers (connected, or lost and waiting for a resume). */
  get observers(): number {
    return this.#observers.size;
  }

  /** The connection of observer `nodeId` (§5.7), if it holds that id and is connected. */
  observer(nodeId: string): SessionConnection | undefined {
    return this.#observers.size === 0 ? undefined : this.#observers.get(nodeId)?.session;
  }

  /** Whether the server is shutting down. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Makes these registrations a worker's (multi-process server): resume
   * tokens are tagged with the worker id, so that
   * {@link Registrations.resumeTarget} can tell where a presented token belongs.
   */
  setWorker(workerId: number, epoch: number): void {
    this.#workerId = workerId;
    this.#epoch = epoch;
    this.#resumes.tag = workerTag(workerId, epoch);
  }

  /**
   * The worker a resume token belongs to when it is another worker than
   * this one (the connection must be handed to it); `undefined` otherwise.
   */
  resumeTarget(token: Uint8Array): number | undefined {
    if (this.#workerId === undefined) return undefined;
    const target = tokenWorker(token, this.#epoch);
    return target === (this.#workerId & 0xffff) ? undefined : target;
  }

  /**
   * Registers the node of an accepted Hello (validated and authenticated by
   * the session), resuming an earlier session when the resume token matches.
   */
  open(session: SessionConnection, hello: Hello, now: number): OpenResult {
    const o = this.#o;
    const interval = negotiateInterval(hello.heartbeatIntervalMs, o.intervals);
    const observer = hello.role === Role.OBSERVER;
    if (hello.resumeToken.length > 0) {
      const rec = this.#resumes.find(hello.resumeToken);
      // A token presented with another role than its session's is ignored (§8.2, §5.7).
      const resumable = rec !== undefined && !rec.ended && (observer ? rec.observer : rec.ownSlot >= 0);
      if (resumable && (hello.nodeId === "" || hello.nodeId === rec.nodeId)) {
        return this.#resume(rec, session, hello, interval, now);
      }
      // Unknown, expired, revoked, malformed or guessed: a fresh session (§8.2), counted.
      o.stats.resumeMisses++;
    }
    const nodeId = hello.nodeId === "" ? generateNodeId() : hello.nodeId;
    if (observer) return this.#openObserver(session, nodeId, hello.labels, interval, now);
    const reason = this.takeOver(this.#registry.slotOf(nodeId), nodeId, now) ? "replaced" : "hello";
    const rec = new SessionRecord(nodeId, interval, session);
    this.#records.add(rec);
    const slot = this.#registry.add(nodeId, hello.labels, rec, 0, now);
    rec.ownSlot = slot;
    o.wills.set(slot, hello.will);
    o.liveness.watch(slot, rec, now);
    o.stats.joined++;
    o.events.node("nodeJoined", slot, reason, now);
    return { record: rec, resumed: false, resumeToken: this.#resumes.issue(rec) };
  }

  // An observer (§5.7): takes the id over like a node (a node holding it leaves `replaced`, no JOINED after
  // it), is routable under it, and is never in the registry: no presence, no counts, no will.
  #openObserver(session: SessionConnection, nodeId: string, labels: Hello["labels"], interval: number, now: number): OpenResult {
    const o = this.#o;
    this.takeOver(this.#registry.slotOf(nodeId), nodeId, now);
    const rec = new SessionRecord(nodeId, interval, session);
    rec.observer = true;
    rec.observerLabels = labels;
    rec.lastHeard = now;
    const epoch = o.clock.epoch(now);
    rec.claimedAt = o.claimTime?.(nodeId, epoch) ?? epoch;
    this.#records.add(rec);
    this.#observers.set(nodeId, rec);
    o.observerClaim?.(nodeId, true, rec.claimedAt);
    return { record: rec, resumed: false, resumeToken: this.#resumes.issue(rec) };
  }

  /**
   * Another process of the server registered `nodeId` at `time` (ms since
   * the epoch): an observer holding it here that registered earlier gets
   * `DUPLICATE_NODE` (§8.1). On a tie a node wins (`node`), and between two
   * observers the greater member id (`memberId` against `selfId`): every
   * member decides the same way.
   */
  claimedElsewhere(nodeId: string, time: number, node: boolean, memberId: string, selfId: string, now: number): void {
    if (this.#observers.size === 0) return;
    const rec = this.#observers.get(nodeId);
    if (rec === undefined || time < rec.claimedAt) return;
    if (time === rec.claimedAt && !node && memberId <= selfId) return;
    this.#kickObserver(rec, now);
  }

  // An observer loses its id to a newer registration: DUPLICATE_NODE fatal (its attached nodes leave `replaced`).
  #kickObserver(rec: SessionRecord, now: number): void {
    if (rec.session !== undefined) rec.session.replaced();
    else this.#end(rec, "replaced", now);
  }

  /**
   * Observers silent for `timeoutMs` by `now` (§5.7), their `silence` in
   * listening time: `HEARTBEAT_TIMEOUT` fatal, with no presence event.
   * Called on every liveness tick; walks the observers (tools and
   * dashboards, not the fleet).
   */
  sweepObservers(now: number, timeoutMs: number, silence: (lastHeard: number, now: number) => number): void {
    if (this.#observers.size === 0) return;
    for (const rec of [...this.#observers.values()]) {
      if (rec.session !== undefined && silence(rec.lastHeard, now) >= timeoutMs) this.connectionTimedOut(rec, now);
    }
  }

  // Resume (PROTOCOL.md §8.2): same node id and session; the own node recovers
  // at once, attached nodes when the gateway attaches them again.
  #resume(rec: SessionRecord, session: SessionConnection, hello: Hello, interval: number, now: number): OpenResult {
    const old = rec.session;
    rec.session = session;
    rec.remoteAddress = session.remoteAddress;
    // The old connection, if still open, is closed without presence events.
    old?.supersede();
    // Handles were local to the old connection.
    rec.unbindAll();
    if (rec.waiting) {
      rec.waiting = false;
      this.#graceCount--;
    }
    // The grace timer runs on for attached nodes not attached again.
    if (rec.unbound.size === 0) this.clearGrace(rec);
    rec.setInterval(interval);
    if (rec.observer) {
      // Silently (§5.7): an observer was never in presence.
      rec.lastHeard = now;
      rec.observerLabels = hello.labels;
      this.#o.stats.resumed++;
      return { record: rec, resumed: true, resumeToken: this.#resumes.issue(rec) };
    }
    const slot = rec.ownSlot;
    const before = this.#registry.labels(slot);
    this.#registry.setLabels(slot, hello.labels);
    const changed = this.#registry.labels(slot) !== before;
    this.#o.wills.set(slot, hello.will);
    this.#o.liveness.resumed(slot, rec, now, changed ? before : undefined);
    this.#o.stats.resumed++;
    return { record: rec, resumed: true, resumeToken: this.#resumes.issue(rec) };
  }

  /** Stops a record's grace timer. */
  clearGrace(rec: SessionRecord): void {
    if (rec.graceTimer === undefined) return;
    clearTimeout(rec.graceTimer);
    rec.graceTimer = undefined;
  }

  /**
   * Called by a session when it ends (closed by either side). Does nothing if
   * the record has moved to another connection meanwhile.
   */
  release(rec: SessionRecord, session: SessionConnection, how: SessionEnd, now: number): void {
    if (rec.session !== session || rec.ended) return;
    rec.session = undefined;
    if (this.#shuttingDown) how = "server_shutdown";
    if (how === "lost" && this.#o.resumeGrace > 0 && (rec.ownSlot >= 0 || rec.observer)) this.#suspend(rec, now);
    else this.#end(rec, how, now);
  }

  // A lost connection with resume grace: nodes suspect until a resume or the grace ends.
  #suspend(rec: SessionRecord, now: number): void {
    const o = this.#o;
    rec.unbindAll();
    for (const slot of rec.slots()) o.liveness.suspend(slot, now);
    rec.waiting = true;
    this.#graceCount++;
    this.clearGrace(rec);
    rec.graceTimer = setTimeout(() => {
      rec.graceTimer = undefined;
      runGuarded(o.stats, o.logger, () => {
        const now = o.clock.now();
        // While the server lags or a mass silence is on, the verdict is held (PROTOCOL.md §6.3).
        const slots = rec.waiting ? rec.slots() : [...rec.unbound];
        if (!o.liveness.holdGrace(slots, now)) this.graceExpired(rec, now);
      });
    }, o.resumeGrace);
    rec.graceTimer.unref();
  }

  // Resumed, but some attached nodes were not attached again within the grace.
  #expireUnbound(rec: SessionRecord, now: number): void {
    for (const slot of [...rec.unbound]) this.#depart(slot, "nodeTimeout", "connection_closed", true, now);
  }

  #end(rec: SessionRecord, how: SessionEnd | "grace_expired", now: number): void {
    if (rec.ended) return;
    rec.ended = true;
    rec.session = undefined;
    this.#records.delete(rec);
    this.#resumes.revoke(rec);
    this.clearGrace(rec);
    if (rec.waiting) {
      rec.waiting = false;
      this.#graceCount--;
    }
    if (rec.observer && this.#observers.get(rec.nodeId) === rec) {
      // No presence event (§5.7); its attached nodes below are ordinary nodes.
      this.#observers.delete(rec.nodeId);
      this.#o.removed(rec.nodeId);
      this.#o.observerClaim?.(rec.nodeId, false, this.#o.clock.epoch(now));
    }
    for (const slot of rec.slots()) {
      switch (how) {
        case "goodbye":
        case "replaced":
        case "server_shutdown":
          this.#depart(slot, "nodeLeft", how, false, now);
          break;
        case "lost":
          this.#depart(slot, "nodeLeft", "connection_closed", true, now);
          break;
        case "timeout":
          this.#depart(slot, "nodeTimeout", "heartbeat_timeout", true, now);
          break;
        case "grace_expired":
          this.#depart(slot, "nodeTimeout", "connection_closed", true, now);
          break;
      }
    }
  }

  // One node goes: counted, reported, its will published when `will`, then removed.
  #depart(
    slot: number,
    name: "nodeLeft" | "nodeTimeout",
    reason: string,
    will: boolean,
    now: number,
  ): void {
    const o = this.#o;
    if (name === "nodeLeft") o.stats.left++;
    else o.stats.timedOut++;
    o.events.node(name, slot, reason, now);
    if (will) o.wills.publish(slot, reason as "connection_closed" | "heartbeat_timeout", now);
    this.removeNode(slot);
  }

  /** Marks the server as draining: sessions ending from now on end with `server_shutdown`. */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Ends every remaining session (`nodeLeft` reason `server_shutdown`). */
  shutdown(): void {
    this.#shuttingDown = true;
    const now = this.#o.clock.now();
    for (const rec of [...this.#records]) {
      rec.session?.destroy();
      this.#end(rec, "server_shutdown", now);
    }
  }

  /** See {@link LivenessActions.connectionTimedOut}. */
  connectionTimedOut(rec: SessionRecord, now: number): void {
    // The connection itself is silent (or half-open): it times out whole.
    const session = rec.session;
    if (session !== undefined) session.timedOut();
    else this.#end(rec, "timeout", now);
  }

  /** See {@link LivenessActions.graceExpired}. */
  graceExpired(rec: SessionRecord, now: number): void {
    if (rec.ended) return;
    if (rec.waiting) this.#end(rec, "grace_expired", now);
    else this.#expireUnbound(rec, now);
  }

  /** See {@link LivenessActions.attachedTimedOut}. */
  attachedTimedOut(rec: SessionRecord, slot: number, now: number): void {
    const handle = this.#registry.handle(slot);
    const nodeId = this.#registry.id(slot);
    const bound = rec.handles.get(handle) === slot;
    this.#depart(slot, "nodeTimeout", "heartbeat_timeout", true, now);
    if (bound) rec.session?.refuse(ErrorCode.HEARTBEAT_TIMEOUT, "attached node timed out", handle, nodeId);
  }

  /**
   * A new registration of `nodeId` (held here in `slot`, or -1) takes it
   * over wherever it is held (§8.1): locally the old node leaves
   * ({@link Registrations.replace}); held by another process or server of
   * the bus, its `LEFT replaced` is reported here at once, as everywhere
   * else, and that member lets go when it sees the new registration.
   *
   * An observer holding the id (§5.7) gets `DUPLICATE_NODE` and does not
   * count as replaced: it was never in presence.
   *
   * @returns whether a node was replaced (the new node joins `replaced`)
   */
  takeOver(slot: number, nodeId: string, now: number): boolean {
    // An observer holding the id loses it, but it was never in presence: nothing was replaced there (§5.7).
    const observer = this.#observers.size === 0 ? undefined : this.#observers.get(nodeId);
    if (observer !== undefined) this.#kickObserver(observer, now);
    if (slot >= 0) {
      this.replace(slot, now);
      return true;
    }
    return this.#o.takeOverRemote?.(nodeId, now) === true;
  }

  /** A newer registration takes `slot`'s node id: the old one leaves (`replaced`, no will). */
  replace(slot: number, now: number): void {
    const registry = this.#registry;
    const rec = registry.owner(slot);
    const handle = registry.handle(slot);
    const nodeId = registry.id(slot);
    const bound = handle !== 0 && rec.handles.get(handle) === slot;
    this.#depart(slot, "nodeLeft", "replaced", false, now);
    if (handle !== 0) {
      if (bound) {
        rec.session?.refuse(ErrorCode.DUPLICATE_NODE, `node ${nodeId} was registered by another connection`, handle, nodeId);
      }
    } else if (rec.session !== undefined) {
      // Its connection loses its own node: DUPLICATE_NODE fatal, then release(…, "replaced").
      rec.session.replaced();
    } else {
      this.#end(rec, "replaced", now);
    }
  }

  /** Removes the node in `slot` from its record, the wheel, the wills and the registry (no event). */
  removeNode(slot: number): void {
    const o = this.#o;
    const registry = this.#registry;
    const rec = registry.owner(slot);
    const handle = registry.handle(slot);
    if (handle === 0) rec.ownSlot = -1;
    rec.forget(handle, slot);
    o.liveness.unwatch(slot);
    o.wills.delete(slot);
    o.removed(registry.id(slot));
    registry.remove(slot);
  }
}
