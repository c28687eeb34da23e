import type { EventEmitter } from "node:events";
import { type Attach, ErrorCode, type Frame, type Hello } from "@hb/codec";
import type { BusHandlers, BusNode, BusPresence } from "./cluster/bus-link.js";
import { TimingWheel } from "./liveness/timing-wheel.js";
import { negotiateInterval } from "./liveness/negotiate-interval.js";
import type { Logger } from "./logger.js";
import { generateNodeId } from "./node-id.js";
import type { NodeFilter, NodeInfo } from "./node-info.js";
import { keepWill, type NodeWill } from "./node-will.js";
import { NodeRegistry, SLOT_ONLINE, SLOT_SUSPECT } from "./registry/node-registry.js";
import { ResumeStore } from "./resume-store.js";
import { tokenWorker, workerTag } from "./cluster/worker-handoff.js";
import { Router } from "./routing/router.js";
import { type HeartbeatServerEvents, type NodeEvent, SERVER_LOST_REASON, type TimeoutReason } from "./server-events.js";
import type { ResolvedServerOptions } from "./server-options.js";
import type { ServerCounters } from "./server-stats.js";
import type { Session } from "./session.js";
import { SessionRecord } from "./session-record.js";

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

/** Result of {@link Hub.open}. */
export interface OpenResult {
  /** The session record (new or resumed). */
  record: SessionRecord;
  /** Whether an earlier session was resumed. */
  resumed: boolean;
  /** The fresh resume token for Welcome. */
  resumeToken: Uint8Array;
}

/** A refusal of one operation (non-fatal unless `fatal`). */
export interface Refusal {
  /** Error code to send. */
  code: ErrorCode;
  /** Human-readable detail. */
  message: string;
  /** Close the connection after it. */
  fatal?: boolean;
}

type NodeEventName = "nodeJoined" | "nodeLeft" | "nodeSuspect" | "nodeTimeout" | "nodeRecovered";

const BUS_KINDS = {
  nodeJoined: "joined",
  nodeLeft: "left",
  nodeSuspect: "suspect",
  nodeTimeout: "timed_out",
  nodeRecovered: "recovered",
} as const satisfies Record<NodeEventName, BusPresence["kind"]>;

const EVENT_NAMES = {
  joined: "nodeJoined",
  left: "nodeLeft",
  suspect: "nodeSuspect",
  timed_out: "nodeTimeout",
  recovered: "nodeRecovered",
} as const satisfies Record<BusPresence["kind"], NodeEventName>;

/**
 * The socket-free core of a server: the node registry, the liveness timing
 * wheel, resumable session records and the presence rules of
 * docs/DECISIONS.md. Sessions call into it; it emits the server's events.
 *
 * Hot paths are O(1) and allocation-free: a heartbeat only records the
 * last-heard time (the wheel re-checks a node lazily when its slot fires),
 * and events are built only when someone listens.
 */
export class Hub {
  /** The node registry. */
  readonly registry = new NodeRegistry<SessionRecord>();
  /** Resolved server options (replaced by `HeartbeatServer.reconfigure`). */
  options: ResolvedServerOptions;
  /** Server counters. */
  readonly stats: ServerCounters;
  /** Monotonic clock, ms. */
  readonly clock: () => number;
  /** The channel router: subscriptions, publish / send / broadcast / reply, presence channel, wills. */
  readonly router: Router;
  readonly #events: EventEmitter<HeartbeatServerEvents>;
  readonly #logger: Logger;
  readonly #wheel: TimingWheel;
  readonly #resumes = new ResumeStore<SessionRecord>();
  #workerId: number | undefined;
  readonly #records = new Set<SessionRecord>();
  readonly #wills = new Map<number, NodeWill>();
  readonly #epochOffset: number;
  #timer: NodeJS.Timeout | undefined;
  #now = 0;
  #shuttingDown = false;
  #graceCount = 0;
  // Remote nodes (the bus option): when this server learnt of each, and which are suspect (for O(1) counts).
  readonly #remoteSeen = new Map<string, number>();
  // Local nodes registered while another member held their id: the join time
  // announced for them, later than the remote holder's (see #joinTime).
  readonly #claimed = new Map<string, number>();
  readonly #remoteSuspect = new Set<string>();

  constructor(
    options: ResolvedServerOptions,
    events: EventEmitter<HeartbeatServerEvents>,
    stats: ServerCounters,
    clock: () => number = () => performance.now(),
  ) {
    this.options = options;
    this.#events = events;
    this.#logger = options.logger;
    this.stats = stats;
    this.clock = clock;
    const now = clock();
    this.#epochOffset = Date.now() - now;
    this.#wheel = new TimingWheel({
      tickMs: options.heartbeatCheckInterval,
      horizonMs: options.heartbeatTimeout,
      now,
    });
    this.router = new Router(this);
  }

  /**
   * Makes this hub a worker's (multi-process server): its resume tokens are
   * tagged with the worker id, so that {@link Hub.resumeTarget} can tell
   * where a presented token belongs.
   */
  setWorker(workerId: number): void {
    this.#workerId = workerId;
    this.#resumes.tag = workerTag(workerId);
  }

  /**
   * The worker a resume token belongs to when it is another worker than
   * this one (the connection must be handed to it); `undefined` otherwise.
   */
  resumeTarget(token: Uint8Array): number | undefined {
    if (this.#workerId === undefined) return undefined;
    const target = tokenWorker(token);
    return target === this.#workerId ? undefined : target;
  }

  /** Number of live session records. */
  get sessions(): number {
    return this.#records.size;
  }

  /** Number of lost sessions waiting for a resume. */
  get resumable(): number {
    return this.#graceCount;
  }

  /** Whether the server is shutting down. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Starts the liveness timer (idempotent). */
  start(): void {
    if (this.#timer !== undefined || this.#shuttingDown) return;
    this.#timer = setInterval(() => this.tick(), this.options.heartbeatCheckInterval);
    this.#timer.unref();
  }

  /** Runs the liveness wheel up to now. Called by the timer; tests may call it directly. */
  tick(now = this.clock()): void {
    this.#now = now;
    this.#wheel.advance(now, this.#onDue);
  }

  /** Converts a monotonic time to ms since the Unix epoch. */
  epoch(monotonic: number): number {
    return Math.round(monotonic + this.#epochOffset);
  }

  // ---------------------------------------------------------------- sessions

  /**
   * Registers the node of an accepted Hello (validated and authenticated by
   * the session), resuming an earlier session when the resume token matches.
   */
  open(session: Session, hello: Hello, now: number): OpenResult {
    const interval = negotiateInterval(hello.heartbeatIntervalMs, this.options);
    if (hello.resumeToken.length > 0) {
      const rec = this.#resumes.find(hello.resumeToken);
      if (rec !== undefined && !rec.ended && rec.ownSlot >= 0 && (hello.nodeId === "" || hello.nodeId === rec.nodeId)) {
        return this.#resume(rec, session, hello, interval, now);
      }
    }
    const nodeId = hello.nodeId === "" ? generateNodeId() : hello.nodeId;
    let reason: "hello" | "replaced" = "hello";
    const existing = this.registry.slotOf(nodeId);
    if (existing >= 0) {
      this.#replace(existing, now);
      reason = "replaced";
    }
    const rec = new SessionRecord(nodeId, interval, session);
    this.#records.add(rec);
    const slot = this.registry.add(nodeId, hello.labels, rec, 0, now);
    rec.ownSlot = slot;
    if (hello.will !== undefined) this.#wills.set(slot, keepWill(hello.will));
    this.#wheel.schedule(slot, now + rec.suspectAfterMs);
    this.stats.joined++;
    this.#emit("nodeJoined", slot, reason, now);
    return { record: rec, resumed: false, resumeToken: this.#resumes.issue(rec) };
  }

  // Resume (PROTOCOL.md §8.2): same node id and session; the own node recovers
  // at once, attached nodes when the gateway attaches them again.
  #resume(rec: SessionRecord, session: Session, hello: Hello, interval: number, now: number): OpenResult {
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
    if (rec.unbound.size === 0 && rec.graceTimer !== undefined) {
      clearTimeout(rec.graceTimer);
      rec.graceTimer = undefined;
    }
    rec.setInterval(interval);
    const slot = rec.ownSlot;
    this.registry.setLabels(slot, hello.labels);
    if (hello.will !== undefined) this.#wills.set(slot, keepWill(hello.will));
    else this.#wills.delete(slot);
    if (this.registry.touch(slot, now, false) === SLOT_SUSPECT) {
      this.registry.setState(slot, SLOT_ONLINE);
      this.stats.recovered++;
      this.#emit("nodeRecovered", slot, "resumed", now);
    }
    this.#wheel.schedule(slot, now + rec.suspectAfterMs);
    this.stats.resumed++;
    return { record: rec, resumed: true, resumeToken: this.#resumes.issue(rec) };
  }

  /**
   * Called by a session when it ends (closed by either side). Does nothing if
   * the record has moved to another connection meanwhile.
   */
  release(rec: SessionRecord, session: Session, how: SessionEnd, now: number): void {
    if (rec.session !== session || rec.ended) return;
    rec.session = undefined;
    if (this.#shuttingDown) how = "server_shutdown";
    if (how === "lost" && this.options.resumeGrace > 0 && rec.ownSlot >= 0) this.#suspend(rec, now);
    else this.#end(rec, how, now);
  }

  // A lost connection with resume grace: nodes suspect until a resume or the grace ends.
  #suspend(rec: SessionRecord, now: number): void {
    rec.unbindAll();
    for (const slot of rec.slots()) {
      this.#wheel.cancel(slot);
      if (this.registry.stateCode(slot) === SLOT_ONLINE) {
        this.registry.setState(slot, SLOT_SUSPECT);
        this.stats.suspected++;
        this.#emit("nodeSuspect", slot, "connection_closed", now);
      }
    }
    rec.waiting = true;
    this.#graceCount++;
    if (rec.graceTimer !== undefined) clearTimeout(rec.graceTimer);
    rec.graceTimer = setTimeout(() => {
      rec.graceTimer = undefined;
      this.#guard(() => {
        if (rec.waiting) this.#end(rec, "grace_expired", this.clock());
        else this.#expireUnbound(rec, this.clock());
      });
    }, this.options.resumeGrace);
    rec.graceTimer.unref();
  }

  // Resumed, but some attached nodes were not attached again within the grace.
  #expireUnbound(rec: SessionRecord, now: number): void {
    for (const slot of [...rec.unbound]) {
      this.stats.timedOut++;
      this.#emit("nodeTimeout", slot, "connection_closed", now);
      this.#publishWill(slot, "connection_closed", now);
      this.#removeNode(slot);
    }
  }

  #end(rec: SessionRecord, how: SessionEnd | "grace_expired", now: number): void {
    if (rec.ended) return;
    rec.ended = true;
    rec.session = undefined;
    this.#records.delete(rec);
    this.#resumes.revoke(rec);
    if (rec.graceTimer !== undefined) clearTimeout(rec.graceTimer);
    rec.graceTimer = undefined;
    if (rec.waiting) {
      rec.waiting = false;
      this.#graceCount--;
    }
    for (const slot of rec.slots()) {
      switch (how) {
        case "goodbye":
        case "replaced":
        case "server_shutdown":
          this.stats.left++;
          this.#emit("nodeLeft", slot, how, now);
          break;
        case "lost":
          this.stats.left++;
          this.#emit("nodeLeft", slot, "connection_closed", now);
          this.#publishWill(slot, "connection_closed", now);
          break;
        case "timeout":
          this.stats.timedOut++;
          this.#emit("nodeTimeout", slot, "heartbeat_timeout", now);
          this.#publishWill(slot, "heartbeat_timeout", now);
          break;
        case "grace_expired":
          this.stats.timedOut++;
          this.#emit("nodeTimeout", slot, "connection_closed", now);
          this.#publishWill(slot, "connection_closed", now);
          break;
      }
      this.#removeNode(slot);
    }
  }

  /** Marks the server as draining: sessions ending from now on end with `server_shutdown`. */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Ends every remaining session (`nodeLeft` reason `server_shutdown`) and stops the timer. */
  shutdown(): void {
    this.#shuttingDown = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const now = this.clock();
    for (const rec of [...this.#records]) {
      rec.session?.destroy();
      this.#end(rec, "server_shutdown", now);
    }
  }

  // -------------------------------------------------------------- liveness

  /** Proof of life for a session's own node (any frame it sends). */
  touchOwn(rec: SessionRecord, now: number, heartbeat: boolean): void {
    const slot = rec.ownSlot;
    if (slot < 0) return;
    if (heartbeat) this.stats.heartbeats++;
    if (this.registry.touch(slot, now, heartbeat) === SLOT_SUSPECT) this.#recover(slot, rec, now);
  }

  /**
   * BatchHeartbeat: refreshes the listed attached nodes, or all of them when
   * `all` (the own node too). Unknown handles are ignored: they may have
   * timed out already, which the gateway was told.
   */
  batch(rec: SessionRecord, handles: readonly number[], all: boolean, now: number): void {
    const registry = this.registry;
    let n = 0;
    if (all) {
      if (rec.ownSlot >= 0) {
        n++;
        if (registry.touch(rec.ownSlot, now, true) === SLOT_SUSPECT) this.#recover(rec.ownSlot, rec, now);
      }
      for (const slot of rec.handles.values()) {
        n++;
        if (registry.touch(slot, now, true) === SLOT_SUSPECT) this.#recover(slot, rec, now);
      }
    } else {
      const map = rec.handles;
      for (let i = 0; i < handles.length; i++) {
        const slot = map.get(handles[i] as number);
        if (slot === undefined) continue;
        n++;
        if (registry.touch(slot, now, true) === SLOT_SUSPECT) this.#recover(slot, rec, now);
      }
    }
    this.stats.heartbeats += n;
  }

  #recover(slot: number, rec: SessionRecord, now: number): void {
    this.registry.setState(slot, SLOT_ONLINE);
    this.stats.recovered++;
    // The wheel entry may be far out (at the timeout); bring it back to the suspect deadline.
    this.#wheel.schedule(slot, now + rec.suspectAfterMs);
    this.#emit("nodeRecovered", slot, "heartbeat", now);
  }

  readonly #onDue = (slot: number): void => {
    try {
      this.#due(slot, this.#now);
    } catch (err) {
      this.#logger.error({ err, nodeId: this.registry.id(slot) }, "liveness check failed");
      this.stats.error(ErrorCode.INTERNAL);
      if (this.registry.isLive(slot) && !this.#wheel.isScheduled(slot)) {
        this.#wheel.schedule(slot, this.#now + this.options.heartbeatCheckInterval);
      }
    }
  };

  #due(slot: number, now: number): void {
    const registry = this.registry;
    const rec = registry.owner(slot);
    const last = registry.lastHeard(slot);
    const elapsed = now - last;
    const timeout = this.options.heartbeatTimeout;
    if (elapsed >= timeout) {
      if (registry.handle(slot) === 0) {
        // The connection itself is silent (or half-open): it times out whole.
        const session = rec.session;
        if (session !== undefined) session.timedOut();
        else this.#end(rec, "timeout", now);
      } else {
        this.#attachedTimeout(rec, slot, now);
      }
      return;
    }
    if (registry.stateCode(slot) === SLOT_ONLINE) {
      if (elapsed >= rec.suspectAfterMs) {
        registry.setState(slot, SLOT_SUSPECT);
        this.stats.suspected++;
        this.#wheel.schedule(slot, last + timeout);
        this.#emit("nodeSuspect", slot, "heartbeat_missed", now);
      } else {
        this.#wheel.schedule(slot, last + rec.suspectAfterMs);
      }
    } else {
      this.#wheel.schedule(slot, last + timeout);
    }
  }

  #attachedTimeout(rec: SessionRecord, slot: number, now: number): void {
    const handle = this.registry.handle(slot);
    const bound = rec.handles.get(handle) === slot;
    this.stats.timedOut++;
    this.#emit("nodeTimeout", slot, "heartbeat_timeout", now);
    this.#publishWill(slot, "heartbeat_timeout", now);
    this.#removeNode(slot);
    if (bound) rec.session?.refuse(ErrorCode.HEARTBEAT_TIMEOUT, "attached node timed out", handle);
  }

  // ---------------------------------------------------------------- gateway

  /**
   * Registers an attached node (the session validated id, labels and will),
   * or re-binds one of this session's unbound nodes after a resume.
   */
  attach(rec: SessionRecord, attach: Attach, now: number): Refusal | undefined {
    const { handle, nodeId } = attach;
    if (rec.handles.has(handle)) return { code: ErrorCode.INVALID_ARGUMENT, message: `handle ${handle} is in use` };
    if (nodeId === rec.nodeId) {
      return { code: ErrorCode.INVALID_ARGUMENT, message: "cannot attach the connection's own node id" };
    }
    let reason: "attach" | "replaced" = "attach";
    const existing = this.registry.slotOf(nodeId);
    if (existing >= 0 && this.registry.owner(existing) === rec) {
      if (rec.unbound.has(existing)) {
        this.#rebind(rec, existing, attach, now);
        return undefined;
      }
      return { code: ErrorCode.INVALID_ARGUMENT, message: `node ${nodeId} is already attached on this connection` };
    }
    if (existing >= 0) {
      this.#replace(existing, now);
      reason = "replaced";
    }
    const slot = this.registry.add(nodeId, attach.labels, rec, handle, now);
    rec.handles.set(handle, slot);
    if (attach.will !== undefined) this.#wills.set(slot, keepWill(attach.will));
    this.#wheel.schedule(slot, now + rec.suspectAfterMs);
    this.stats.joined++;
    this.#emit("nodeJoined", slot, reason, now);
    return undefined;
  }

  // An attached node of a resumed session, attached again: same node, new handle.
  #rebind(rec: SessionRecord, slot: number, attach: Attach, now: number): void {
    const registry = this.registry;
    rec.unbound.delete(slot);
    rec.handles.set(attach.handle, slot);
    registry.setHandle(slot, attach.handle);
    registry.setLabels(slot, attach.labels);
    if (attach.will !== undefined) this.#wills.set(slot, keepWill(attach.will));
    else this.#wills.delete(slot);
    if (registry.touch(slot, now, false) === SLOT_SUSPECT) {
      registry.setState(slot, SLOT_ONLINE);
      this.stats.recovered++;
      this.#emit("nodeRecovered", slot, "resumed", now);
    }
    this.#wheel.schedule(slot, now + rec.suspectAfterMs);
    if (rec.unbound.size === 0 && !rec.waiting && rec.graceTimer !== undefined) {
      clearTimeout(rec.graceTimer);
      rec.graceTimer = undefined;
    }
  }

  /** Detach: the listed attached nodes leave (reason `detach`, no will). Unknown handles are ignored. */
  detach(rec: SessionRecord, handles: readonly number[], now: number): void {
    for (const handle of handles) {
      const slot = rec.handles.get(handle);
      if (slot === undefined) continue;
      this.stats.left++;
      this.#emit("nodeLeft", slot, "detach", now);
      this.#removeNode(slot);
    }
  }

  // A newer registration takes `slot`'s node id: the old one leaves (replaced, no will).
  #replace(slot: number, now: number): void {
    const rec = this.registry.owner(slot);
    const handle = this.registry.handle(slot);
    const nodeId = this.registry.id(slot);
    const bound = handle !== 0 && rec.handles.get(handle) === slot;
    this.stats.left++;
    this.#emit("nodeLeft", slot, "replaced", now);
    this.#removeNode(slot);
    if (handle !== 0) {
      if (bound) {
        rec.session?.refuse(ErrorCode.DUPLICATE_NODE, `node ${nodeId} was registered by another connection`, handle);
      }
    } else if (rec.session !== undefined) {
      // Its connection loses its own node: DUPLICATE_NODE fatal, then release(…, "replaced").
      rec.session.replaced();
    } else {
      this.#end(rec, "replaced", now);
    }
  }

  #removeNode(slot: number): void {
    const rec = this.registry.owner(slot);
    const handle = this.registry.handle(slot);
    if (handle === 0) rec.ownSlot = -1;
    else if (rec.handles.get(handle) === slot) rec.handles.delete(handle);
    rec.unbound.delete(slot);
    this.#wheel.cancel(slot);
    this.#wills.delete(slot);
    if (this.#claimed.size > 0) this.#claimed.delete(this.registry.id(slot));
    this.registry.remove(slot);
  }

  // ---------------------------------------------------------------- routing

  /**
   * The single dispatch point for channel frames (subscribe, unsubscribe,
   * publish, send, broadcast, reply, window_update), handed on to the
   * {@link Router}. Fragments are reassembled by the session first and the
   * frame they carry comes here. WindowUpdate from a client is ignored
   * (PROTOCOL.md §12).
   *
   * @returns a refusal to send back (non-fatal unless marked), or `undefined`
   */
  route(session: Session, rec: SessionRecord, frame: Frame): Refusal | undefined {
    const router = this.router;
    const body = frame.body;
    switch (body.case) {
      case "subscribe":
        return router.subscribe(session, rec, body.value);
      case "unsubscribe":
        return router.unsubscribe(session, frame.channel);
      case "publish":
        return router.publish(session, rec, body.value, frame.channel);
      case "send":
        return router.send(session, rec, body.value);
      case "broadcast":
        return router.broadcast(session, rec, body.value);
      case "reply":
        return router.reply(session, rec, body.value);
      case "windowUpdate":
        return undefined;
      default:
        return { code: ErrorCode.PROTOCOL_VIOLATION, message: `${body.case} is not a channel frame`, fatal: true };
    }
  }

  // A will (PROTOCOL.md §7.4): published like a Publish from the lost node, at most once.
  #publishWill(slot: number, reason: TimeoutReason, now: number): void {
    const will = this.#wills.get(slot);
    if (will === undefined) return;
    this.#wills.delete(slot);
    const nodeId = this.registry.id(slot);
    if (!this.router.will(slot, will.subject, will.payload)) {
      this.#logger.info({ nodeId, subject: will.subject }, "will refused by authorizePublish");
      return;
    }
    this.stats.willsPublished++;
    if (this.#events.listenerCount("willPublished") > 0) {
      const event = { nodeId, subject: will.subject, payload: will.payload, reason, time: this.epoch(now) };
      this.#guard(() => this.#events.emit("willPublished", event));
    }
  }

  // ---------------------------------------------------------------- queries

  /** A snapshot of the node in `slot`. */
  info(slot: number): NodeInfo {
    const r = this.registry;
    const rec = r.owner(slot);
    const handle = r.handle(slot);
    return {
      nodeId: r.id(slot),
      labels: r.labels(slot),
      state: r.state(slot),
      lastHeardAt: this.epoch(r.lastHeard(slot)),
      joinedAt: this.epoch(r.joinedAt(slot)),
      heartbeats: r.heartbeats(slot),
      sessionId: rec.sessionId,
      handle,
      gatewayNodeId: handle === 0 ? undefined : rec.nodeId,
      connected: rec.session !== undefined,
      remoteAddress: rec.remoteAddress,
      heartbeatInterval: rec.intervalMs,
    };
  }

  /** Snapshots of the nodes matching `filter`, at most `limit`. */
  list(filter: NodeFilter, limit: number): NodeInfo[] {
    const out: NodeInfo[] = [];
    if (limit <= 0) return out;
    this.registry.forEach(filter, (slot) => {
      out.push(this.info(slot));
      return out.length < limit;
    });
    return out;
  }

  // ------------------------------------------------------------------- bus

  /** What the bus link (the `bus` option) calls back into; passed to `bus.start()`. */
  readonly busHandlers: BusHandlers = {
    deliver: (envelope, fromMember) => this.router.deliverRemote(envelope, fromMember),
    presence: (event) => this.#remotePresence(event),
    memberLost: (memberId, nodes) => this.#memberLost(memberId, nodes),
    localNodes: () => {
      const r = this.registry;
      const memberId = this.options.serverId;
      const out: BusNode[] = [];
      r.forEach({}, (slot) => {
        out.push({ nodeId: r.id(slot), labels: r.labels(slot), state: r.state(slot), memberId });
      });
      return out;
    },
  };

  /** After `bus.start()`: takes in the remote directory loaded silently. */
  busStarted(): void {
    const bus = this.options.bus;
    if (bus === undefined) return;
    const now = Date.now();
    for (const node of bus.remoteNodes().values()) {
      this.#remoteSeen.set(node.nodeId, now);
      if (node.state === "suspect") this.#remoteSuspect.add(node.nodeId);
    }
  }

  /** A snapshot of a node held by another server of the bus, if any. */
  remoteInfo(nodeId: string): NodeInfo | undefined {
    const node = this.options.bus?.remoteNodes().get(nodeId);
    return node === undefined ? undefined : this.#remoteInfo(node);
  }

  /** Number of remote nodes matching `filter`: O(1) without labels, else a scan of the remote directory. */
  remoteCount(filter: NodeFilter): number {
    const bus = this.options.bus;
    if (bus === undefined) return 0;
    const nodes = bus.remoteNodes();
    if (filter.labels === undefined || Object.keys(filter.labels).length === 0) {
      if (filter.state === undefined) return nodes.size;
      const suspect = Math.min(this.#remoteSuspect.size, nodes.size);
      return filter.state === "suspect" ? suspect : nodes.size - suspect;
    }
    let n = 0;
    for (const node of nodes.values()) if (matches(node, filter)) n++;
    return n;
  }

  /** Snapshots of the remote nodes matching `filter`, at most `limit` (scans the remote directory). */
  remoteList(filter: NodeFilter, limit: number, out: NodeInfo[]): void {
    const bus = this.options.bus;
    if (bus === undefined) return;
    for (const node of bus.remoteNodes().values()) {
      if (out.length >= limit) return;
      if (matches(node, filter) && this.registry.slotOf(node.nodeId) < 0) out.push(this.#remoteInfo(node));
    }
  }

  #remoteInfo(node: BusNode): NodeInfo {
    const seen = this.#remoteSeen.get(node.nodeId) ?? Date.now();
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

  #remotePresence(e: BusPresence): void {
    const slot = this.registry.slotOf(e.nodeId);
    if (slot >= 0) {
      // The id is held here too: the newer registration wins (time, then member id; PROTOCOL.md §8.1).
      if (e.kind !== "joined") return;
      const localTime = this.#claimed.get(e.nodeId) ?? this.epoch(this.registry.joinedAt(slot));
      if (e.time < localTime || (e.time === localTime && e.memberId <= this.options.serverId)) return;
      this.#replace(slot, this.clock());
    }
    switch (e.kind) {
      case "joined":
        this.#remoteSeen.set(e.nodeId, e.time);
        this.#remoteSuspect.delete(e.nodeId);
        break;
      case "suspect":
        this.#remoteSuspect.add(e.nodeId);
        break;
      case "recovered":
        this.#remoteSuspect.delete(e.nodeId);
        break;
      default:
        this.#remoteSeen.delete(e.nodeId);
        this.#remoteSuspect.delete(e.nodeId);
    }
    this.#emitRemote(EVENT_NAMES[e.kind], e.nodeId, e.labels, e.reason, e.time, e.memberId);
  }

  #memberLost(memberId: string, nodes: readonly BusNode[]): void {
    const time = Date.now();
    for (const node of nodes) {
      this.#remoteSeen.delete(node.nodeId);
      this.#remoteSuspect.delete(node.nodeId);
      if (this.registry.slotOf(node.nodeId) >= 0) continue;
      this.#emitRemote("nodeTimeout", node.nodeId, node.labels, SERVER_LOST_REASON, time, memberId);
    }
  }

  // A presence change of a remote node: to `$hb.presence` subscribers and the server's events.
  #emitRemote(
    name: NodeEventName,
    nodeId: string,
    labels: Readonly<Record<string, string>>,
    reason: string,
    time: number,
    serverId: string,
  ): void {
    this.router.remotePresence(name, nodeId, labels, time, reason, serverId);
    if (this.#events.listenerCount(name) === 0) return;
    const event: NodeEvent = { nodeId, labels, reason, time, lastHeardAt: time, sessionId: "", handle: 0, serverId, remote: true };
    this.#guard(() => (this.#events.emit as (n: string, e: NodeEvent) => boolean)(name, event));
  }

  // ---------------------------------------------------------------- events

  #emit(name: NodeEventName, slot: number, reason: string, now: number): void {
    this.stats.transition(name, reason);
    this.router.presence(name, slot, reason, now);
    const r = this.registry;
    const bus = this.options.bus;
    if (bus !== undefined) {
      const event = {
        kind: BUS_KINDS[name],
        nodeId: r.id(slot),
        labels: r.labels(slot),
        reason,
        time: name === "nodeJoined" ? this.#joinTime(r.id(slot), now) : this.epoch(now),
        memberId: this.options.serverId,
      };
      this.#guard(() => bus.announce(event));
    }
    if (this.#events.listenerCount(name) === 0) return;
    const event: NodeEvent = {
      nodeId: r.id(slot),
      labels: r.labels(slot),
      reason,
      time: this.epoch(now),
      lastHeardAt: this.epoch(r.lastHeard(slot)),
      sessionId: r.owner(slot).sessionId,
      handle: r.handle(slot),
      serverId: this.options.serverId,
    };
    this.#guard(() => (this.#events.emit as (n: string, e: NodeEvent) => boolean)(name, event));
  }

  // The time announced for a local join. A node id another member holds (as
  // far as this one knows) is registered here after that member's
  // registration, whatever the clocks say (same millisecond, skew between
  // hosts): claim a later time, so that every member agrees this newer
  // registration wins (PROTOCOL.md §8.1) and the old holder lets go.
  #joinTime(nodeId: string, now: number): number {
    const time = this.epoch(now);
    const remote = this.#remoteSeen.get(nodeId);
    if (remote === undefined || time > remote) return time;
    this.#claimed.set(nodeId, remote + 1);
    return remote + 1;
  }

  // Runs a listener or hook; a throw is logged and counted, never propagated.
  #guard(fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.stats.listenerErrors++;
      this.#logger.error({ err }, "an event listener threw");
    }
  }
}

function matches(node: BusNode, filter: NodeFilter): boolean {
  if (filter.state !== undefined && node.state !== filter.state) return false;
  const labels = filter.labels;
  if (labels !== undefined) for (const k in labels) if (node.labels[k] !== labels[k]) return false;
  return true;
}
