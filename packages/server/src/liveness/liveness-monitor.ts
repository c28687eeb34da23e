import { ErrorCode, type Heartbeat, makeFrame } from "@hb/codec";
import type { Clock } from "../core/ports/clock.js";
import type { EventSink } from "../core/ports/event-sink.js";
import type { Logger } from "../core/ports/logger.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import { type NodeRegistry, SLOT_ONLINE, SLOT_SUSPECT } from "../registry/node-registry.js";
import type { NodeLabels } from "../registry/node-labels.js";
import { TimingWheel } from "./timing-wheel.js";

/** What the monitor needs of a node's owner (a session record): its nodes and their deadline. */
export interface LivenessOwner {
  /** Silence after which its nodes are suspect: 1.5 × the negotiated interval, ms. */
  readonly suspectAfterMs: number;
  /** Registry slot of the connection's own node; -1 once it is gone. */
  readonly ownSlot: number;
  /** Attached nodes bound to the connection: gateway handle → registry slot. */
  readonly handles: ReadonlyMap<number, number>;
}

/**
 * What a timeout verdict does beyond the monitor (the session part
 * implements it): the monitor decides *when* and *which* rule applies, the
 * owner of sessions ends what must end.
 */
export interface LivenessActions<O> {
  /**
   * The connection's own node was silent for `heartbeatTimeout` (a silent
   * or half-open connection): the connection times out whole (fatal
   * `HEARTBEAT_TIMEOUT`, `nodeTimeout` `heartbeat_timeout` and wills for
   * each of its nodes).
   */
  connectionTimedOut(owner: O, now: number): void;
  /**
   * An attached node was silent for `heartbeatTimeout`: it alone times out
   * (`nodeTimeout` `heartbeat_timeout`, its will, removed), and its gateway
   * is told with a non-fatal `HEARTBEAT_TIMEOUT` (`ref` = its handle) when
   * the handle is still bound.
   */
  attachedTimedOut(owner: O, slot: number, now: number): void;
}

/** What a connection must offer to be acked (a session). */
export interface HeartbeatPeer {
  /** Whether its client reports heartbeat round trips (feature `heartbeat-rtt` negotiated). */
  readonly reportsRtt: boolean;
  /** Queues a control frame. */
  control(frame: ReturnType<typeof makeFrame>): void;
}

/** Dependencies of a {@link LivenessMonitor}. */
export interface LivenessMonitorOptions<O extends LivenessOwner> {
  /** The node registry (last-heard times and states live there). */
  registry: NodeRegistry<O>;
  /** The time source: tests pass a fake one and call {@link LivenessMonitor.tick}. */
  clock: Clock;
  /** Where suspect and recovered nodes are reported. */
  events: EventSink;
  /** Counters (`heartbeats`, `suspected`, `recovered`, errors, the reported round trips `rtt`). */
  stats: ServerCounters;
  /** Where a failing check is logged. */
  logger: Logger;
  /** The wheel's tick (`heartbeatCheckInterval`): a verdict is late by at most this much. */
  tickMs: number;
  /** `heartbeatTimeout`: silence after which a node times out. */
  timeoutMs: number;
  /** What timeouts do beyond the registry. */
  actions: LivenessActions<O>;
}

/**
 * The liveness rules of docs/PROTOCOL.md §6 for every local node, socket-free:
 *
 * - **Heard** ({@link LivenessMonitor.heard}, {@link LivenessMonitor.batch}):
 *   any frame is proof of life for the connection's own node, a
 *   BatchHeartbeat for the attached nodes it lists; a suspect node that is
 *   heard again recovers (`nodeRecovered` `heartbeat`).
 * - **Suspect** after 1.5 × the negotiated interval without being heard
 *   (`nodeSuspect` `heartbeat_missed`).
 * - **Timeout** after `heartbeatTimeout`: the own node takes its whole
 *   connection with it, an attached node goes alone
 *   ({@link LivenessActions}).
 *
 * Deadlines sit in a {@link TimingWheel}; a heartbeat only records the
 * last-heard time (O(1), no allocation) and a node is re-checked lazily when
 * its slot fires. {@link LivenessMonitor.tick} runs the wheel up to the
 * clock's now; the timer calls it every `tickMs`, tests call it with a fake
 * clock.
 *
 * A tick judges each due node ({@link LivenessMonitor.judge}) and then
 * applies the verdict: that split is where a detector other than the fixed
 * deadlines, deferral while the process itself lags, or a brake on mass
 * departures plug in.
 */
export class LivenessMonitor<O extends LivenessOwner> {
  readonly #registry: NodeRegistry<O>;
  readonly #clock: Clock;
  readonly #events: EventSink;
  readonly #stats: ServerCounters;
  readonly #logger: Logger;
  readonly #actions: LivenessActions<O>;
  readonly #wheel: TimingWheel;
  readonly #tickMs: number;
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #now = 0;

  constructor(options: LivenessMonitorOptions<O>) {
    this.#registry = options.registry;
    this.#clock = options.clock;
    this.#events = options.events;
    this.#stats = options.stats;
    this.#logger = options.logger;
    this.#actions = options.actions;
    this.#tickMs = options.tickMs;
    this.#timeoutMs = options.timeoutMs;
    this.#wheel = new TimingWheel({ tickMs: options.tickMs, horizonMs: options.timeoutMs, now: options.clock.now() });
  }

  /** Number of nodes with a deadline on the wheel. */
  get watched(): number {
    return this.#wheel.size;
  }

  /** Starts the check timer (idempotent; not after {@link LivenessMonitor.stop}). */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  /** Stops the check timer for good. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Judges every node whose deadline passed by `now` (default: the clock's now). */
  tick(now = this.#clock.now()): void {
    this.#now = now;
    this.#wheel.advance(now, this.#onDue);
  }

  /** Starts watching a node just registered, resumed or re-attached: suspect after its owner's delay from `now`. */
  watch(slot: number, owner: O, now: number): void {
    this.#wheel.schedule(slot, now + owner.suspectAfterMs);
  }

  /** Stops watching a node (it left, or its connection waits for a resume). */
  unwatch(slot: number): void {
    this.#wheel.cancel(slot);
  }

  /**
   * Proof of life for the node in `slot` (owned by `owner`): records the
   * time, counts a heartbeat when `heartbeat`, recovers a suspect node.
   */
  heard(slot: number, owner: O, now: number, heartbeat: boolean): void {
    if (slot < 0) return;
    if (heartbeat) this.#stats.heartbeats++;
    if (this.#registry.touch(slot, now, heartbeat) === SLOT_SUSPECT) this.#recover(slot, owner, now);
  }

  /**
   * BatchHeartbeat (PROTOCOL.md §9.3): refreshes the listed attached nodes
   * of `owner`, or all of them when `all` (the own node too). Unknown
   * handles are ignored: they may have timed out already, which the gateway
   * was told.
   */
  batch(owner: O, handles: readonly number[], all: boolean, now: number): void {
    const registry = this.#registry;
    let n = 0;
    if (all) {
      if (owner.ownSlot >= 0) {
        n++;
        if (registry.touch(owner.ownSlot, now, true) === SLOT_SUSPECT) this.#recover(owner.ownSlot, owner, now);
      }
      for (const slot of owner.handles.values()) {
        n++;
        if (registry.touch(slot, now, true) === SLOT_SUSPECT) this.#recover(slot, owner, now);
      }
    } else {
      const map = owner.handles;
      for (let i = 0; i < handles.length; i++) {
        const slot = map.get(handles[i] as number);
        if (slot === undefined) continue;
        n++;
        if (registry.touch(slot, now, true) === SLOT_SUSPECT) this.#recover(slot, owner, now);
      }
    }
    this.#stats.heartbeats += n;
  }

  /**
   * A Heartbeat frame (§6.2): acknowledged at once with the server's time
   * (proof of life is {@link LivenessMonitor.heard}). The client's last
   * measured round trip (§6.7, `last_rtt_us`; 0 is none) is one sample of
   * `stats.rtt`, counted only from a client that negotiated `heartbeat-rtt`.
   */
  ack(peer: HeartbeatPeer, heartbeat: Heartbeat): void {
    if (peer.reportsRtt && heartbeat.lastRttUs > 0) this.#stats.rtt.observe(heartbeat.lastRttUs / 1e6);
    peer.control(
      makeFrame("heartbeatAck", { seq: heartbeat.seq, sendTimeUs: heartbeat.sendTimeUs, serverTimeMs: BigInt(Date.now()) }),
    );
  }

  /**
   * The connection of the node in `slot` is lost and its session waits for
   * a resume: no deadline meanwhile, and an online node turns suspect
   * (`nodeSuspect` `connection_closed`).
   */
  suspend(slot: number, now: number): void {
    this.#wheel.cancel(slot);
    if (this.#registry.stateCode(slot) !== SLOT_ONLINE) return;
    this.#registry.setState(slot, SLOT_SUSPECT);
    this.#stats.suspected++;
    this.#events.node("nodeSuspect", slot, "connection_closed", now);
  }

  /**
   * A node came back on a resumed session (or re-attached after one): heard
   * now; a suspect node recovers (`nodeRecovered` `resumed`). Watched again.
   * `previousLabels`: the resume changed its labels from these (already
   * set in the registry): the one transition carries them (`nodeRecovered`
   * if it was suspect, else `nodeUpdated` `labels_changed`, PROTOCOL.md §7.5).
   */
  resumed(slot: number, owner: O, now: number, previousLabels?: NodeLabels): void {
    const registry = this.#registry;
    if (registry.touch(slot, now, false) === SLOT_SUSPECT) {
      registry.setState(slot, SLOT_ONLINE);
      this.#stats.recovered++;
      this.#events.node("nodeRecovered", slot, "resumed", now, previousLabels);
    } else if (previousLabels !== undefined) {
      this.#events.node("nodeUpdated", slot, "labels_changed", now, previousLabels);
    }
    this.watch(slot, owner, now);
  }

  /**
   * The rule for one node whose deadline came (`now` ≥ its due time):
   * - silent for `heartbeatTimeout` or more: `"timeout"`;
   * - online and silent for its suspect delay or more: `"suspect"`;
   * - otherwise `"watch"`: look again at {@link LivenessMonitor.deadline}.
   */
  judge(slot: number, now: number): "timeout" | "suspect" | "watch" {
    const registry = this.#registry;
    const elapsed = now - registry.lastHeard(slot);
    if (elapsed >= this.#timeoutMs) return "timeout";
    if (registry.stateCode(slot) === SLOT_ONLINE && elapsed >= registry.owner(slot).suspectAfterMs) return "suspect";
    return "watch";
  }

  /** When the node in `slot` is to be judged next: its suspect deadline while online, its timeout while suspect. */
  deadline(slot: number): number {
    const registry = this.#registry;
    const last = registry.lastHeard(slot);
    return registry.stateCode(slot) === SLOT_ONLINE ? last + registry.owner(slot).suspectAfterMs : last + this.#timeoutMs;
  }

  readonly #onDue = (slot: number): void => {
    const now = this.#now;
    try {
      this.#apply(slot, this.judge(slot, now), now);
    } catch (err) {
      this.#logger.error({ err, nodeId: this.#registry.id(slot) }, "liveness check failed");
      this.#stats.error(ErrorCode.INTERNAL);
      if (this.#registry.isLive(slot) && !this.#wheel.isScheduled(slot)) this.#wheel.schedule(slot, now + this.#tickMs);
    }
  };

  #apply(slot: number, verdict: "timeout" | "suspect" | "watch", now: number): void {
    const registry = this.#registry;
    switch (verdict) {
      case "timeout": {
        const owner = registry.owner(slot);
        if (registry.handle(slot) === 0) this.#actions.connectionTimedOut(owner, now);
        else this.#actions.attachedTimedOut(owner, slot, now);
        return;
      }
      case "suspect":
        registry.setState(slot, SLOT_SUSPECT);
        this.#stats.suspected++;
        this.#wheel.schedule(slot, this.deadline(slot));
        this.#events.node("nodeSuspect", slot, "heartbeat_missed", now);
        return;
      case "watch":
        this.#wheel.schedule(slot, this.deadline(slot));
        return;
    }
  }

  #recover(slot: number, owner: O, now: number): void {
    this.#registry.setState(slot, SLOT_ONLINE);
    this.#stats.recovered++;
    // The wheel entry may be far out (at the timeout); bring it back to the suspect deadline.
    this.#wheel.schedule(slot, now + owner.suspectAfterMs);
    this.#events.node("nodeRecovered", slot, "heartbeat", now);
  }
}
