import type { EventEmitter } from "node:events";
import { Gateway } from "../gateway/gateway.js";
import { LivenessMonitor } from "../liveness/liveness-monitor.js";
import { LiveOptions, type LiveServerOptions } from "../options/live-options.js";
import type { ResolvedServerOptions } from "../options/server-options.js";
import { PresenceEvents } from "../presence/presence-events.js";
import { PresenceFeed } from "../presence/presence-feed.js";
import { RemoteNodes } from "../presence/remote-nodes.js";
import { Wills } from "../presence/wills.js";
import type { NodeFilter, NodeInfo } from "../registry/node-info.js";
import { NodeRegistry } from "../registry/node-registry.js";
import { Router } from "../routing/router.js";
import { processSlicer } from "../routing/turn-slicer.js";
import { CredentialCheck } from "../auth/credential-check.js";
import { PendingHellos } from "../session/pending-hellos.js";
import { Registrations } from "../session/registrations.js";
import type { Session, SessionContext } from "../session/session.js";
import type { SessionRecord } from "../session/session-record.js";
import { LocalDirectory } from "./local-directory.js";
import type { BusHandlers, BusNode } from "./ports/bus-link.js";
import { type Clock, systemClock } from "./ports/clock.js";
import type { FrameHandlers } from "./ports/frame-handlers.js";
import type { HeartbeatServerEvents } from "./ports/node-events.js";
import type { FlappingStats, LivenessStats, ServerCounters } from "./ports/server-stats.js";
import { LoopLag } from "../telemetry/loop-lag.js";
import { runGuarded } from "./ports/listener-guard.js";

/**
 * The socket-free core of a server: it builds the parts and wires them
 * together, and nothing else.
 *
 * - the node registry and its {@link LocalDirectory} (registry/);
 * - {@link LivenessMonitor}: deadlines and the suspect / timeout / recover rules (liveness/);
 * - {@link Registrations}: which session holds which nodes, resume, takeover (session/);
 * - {@link Gateway}: attached nodes (gateway/);
 * - {@link Router}: subscriptions and messages (routing/);
 * - {@link PresenceFeed}, {@link PresenceEvents}, {@link RemoteNodes},
 *   {@link Wills}: who hears about presence changes, and the other
 *   servers' nodes (presence/);
 * - the {@link SessionContext} every session shares, with its frame table:
 *   each frame type goes straight to the part that owns it.
 */
export class ServerCore {
  /** Server counters. */
  readonly stats: ServerCounters;
  /** The time source. */
  readonly clock: Clock;
  /** The local nodes. */
  readonly nodes: LocalDirectory;
  /** Deadlines and liveness rules. */
  readonly liveness: LivenessMonitor<SessionRecord>;
  /** Sessions and the nodes they hold. */
  readonly registrations: Registrations;
  /** Subscriptions and message routing. */
  readonly router: Router;
  /** The other servers' nodes. */
  readonly remote: RemoteNodes;
  /** What every session shares. */
  readonly sessions: SessionContext;
  /** What the bus link (the `bus` option) calls back into; passed to `bus.start()`. */
  readonly busHandlers: BusHandlers;
  readonly #registry = new NodeRegistry<SessionRecord>();
  readonly #live: LiveOptions;
  readonly #feed: PresenceFeed;
  readonly #events: EventEmitter<HeartbeatServerEvents>;
  #loopLagEvents = 0;
  #releaseLag: (() => void) | undefined;

  /**
   * @param options - resolved server options
   * @param events - where the server's events are emitted
   * @param stats - the server's counters
   * @param clock - the time source (tests pass a fake one and call {@link ServerCore.tick})
   * @param lag - the event-loop lag now, ms (default: the p99 of the process's last one-second window; tests pass their own)
   */
  constructor(
    options: ResolvedServerOptions,
    events: EventEmitter<HeartbeatServerEvents>,
    stats: ServerCounters,
    clock: Clock = systemClock(),
    lag: () => number = () => LoopLag.shared().last().p99,
  ) {
    const live = new LiveOptions(options);
    this.#live = live;
    this.stats = stats;
    this.clock = clock;
    const { logger, serverId, bus } = options;
    const registry = this.#registry;
    const nodes = new LocalDirectory(registry, clock);
    this.nodes = nodes;
    const slicer = processSlicer();
    const feed = new PresenceFeed({
      serverId,
      nodes,
      remoteNodes: () => bus?.remoteNodes(),
      clock,
      stats,
      slicer,
      damping: {
        suppress: options.flapSuppressThreshold,
        reuse: options.flapReuseThreshold,
        halfLifeMs: options.flapHalfLife,
        maxDampingMs: options.flapMaxDamping,
      },
    });
    this.#feed = feed;
    this.#events = events;
    const remote = new RemoteNodes({
      serverId,
      bus,
      nodes,
      clock,
      emit: (...args) => presenceEvents.remote(...args),
      replaceLocal: (slot, now) => regs.replace(slot, now),
    });
    const presenceEvents = new PresenceEvents({ serverId, nodes, feed, remote, bus, events, clock, stats, logger });
    this.remote = remote;
    const liveness: LivenessMonitor<SessionRecord> = new LivenessMonitor({
      registry,
      clock,
      events: presenceEvents,
      stats,
      logger,
      tickMs: options.heartbeatCheckInterval,
      timeoutMs: options.heartbeatTimeout,
      actions: {
        connectionTimedOut: (r, now) => regs.connectionTimedOut(r, now),
        attachedTimedOut: (r, s, now) => regs.attachedTimedOut(r, s, now),
        graceExpired: (r, now) => regs.graceExpired(r, now),
      },
      settings: options,
      lag,
      onTick: (now) => {
        feed.sweep(now);
        regs.sweepObservers(now, options.heartbeatTimeout, (lastHeard, t) => liveness.silence(lastHeard, t));
      },
    });
    this.liveness = liveness;
    const router: Router = new Router({
      options: live,
      nodes,
      presence: feed,
      stats,
      shuttingDown: (): boolean => regs.shuttingDown,
      observer: (nodeId) => regs.observer(nodeId),
      observerInfo: (owner) => nodes.observerInfo(owner as SessionRecord),
      slicer,
    });
    this.router = router;
    const wills: Wills = new Wills({
      nodeId: (slot) => registry.id(slot),
      publish: (slot, subject, payload): boolean => router.will(slot, subject, payload),
      events,
      clock,
      stats,
      logger,
    });
    const regs: Registrations = new Registrations({
      registry,
      liveness,
      events: presenceEvents,
      wills,
      removed: (nodeId) => remote.forget(nodeId),
      takeOverRemote: (nodeId, now) => remote.takeOver(nodeId, now),
      observerClaim: (nodeId, held, time) => bus?.observer?.(nodeId, held, time),
      claimTime: (nodeId, time) => remote.joinTime(nodeId, time),
      intervals: options,
      resumeGrace: options.resumeGrace,
      clock,
      stats,
      logger,
    });
    this.registrations = regs;
    // Multi-process: a Welcome or Attached waits until every process would route to the node (§5.3).
    const settle = (done: () => void): void => {
      if (bus?.sync === undefined) done();
      else bus.sync(done);
    };
    const gateway = new Gateway({ registry, registrations: regs, liveness, wills, events: presenceEvents, stats, settle, options: live });
    const frames: FrameHandlers<Session, SessionRecord> = {
      heartbeat: (peer, _rec, heartbeat) => {
        liveness.ack(peer, heartbeat);
        return undefined;
      },
      batchHeartbeat: (_peer, rec, batch, _frame, now) => {
        liveness.batch(rec, batch.handles, batch.all, now);
        return undefined;
      },
      attach: (peer, rec, attach, _frame, now) => gateway.attach(peer, rec, attach, now),
      detach: (_peer, rec, detach, _frame, now) => gateway.detach(rec, detach, now),
      subscribe: (peer, rec, subscribe) => router.subscribe(peer, rec, subscribe),
      unsubscribe: (peer, _rec, _unsubscribe, frame) => router.unsubscribe(peer, frame.channel),
      publish: (peer, rec, publish, frame) => router.publish(peer, rec, publish, frame.channel),
      send: (peer, rec, send) => router.send(peer, rec, send),
      broadcast: (peer, rec, broadcast) => router.broadcast(peer, rec, broadcast),
      reply: (peer, rec, reply) => router.reply(peer, rec, reply),
      // WindowUpdate from a client is ignored (PROTOCOL.md §12).
      windowUpdate: () => undefined,
    };
    const hellos = new PendingHellos({
      get options() {
        return live.current;
      },
      stats,
      clock,
    });
    this.sessions = {
      get options() {
        return live.current;
      },
      stats,
      clock,
      hellos,
      registrations: regs,
      frames,
      credentials: new CredentialCheck(
        () => live.current,
        (err) => {
          stats.listenerErrors++;
          live.current.logger.error({ err }, "authenticate hook threw");
        },
      ),
      heard: (rec, now, heartbeat) => {
        if (rec.observer) {
          // An observer's proof of life (§5.7); it has no registry slot.
          rec.lastHeard = now;
          if (heartbeat) stats.heartbeats++;
        } else liveness.heard(rec.ownSlot, rec, now, heartbeat);
      },
      settle,
      opened: (session) => router.addPeer(session),
      closed: (session) => router.removePeer(session),
      slicer,
    };
    this.busHandlers = {
      deliver: (envelope, fromMember) => router.deliverRemote(envelope, fromMember),
      presence: (event) => {
        // A node registered elsewhere takes the id of an observer here (§5.7, §8.1).
        if (event.kind === "joined") regs.claimedElsewhere(event.nodeId, event.time, true, event.memberId, serverId, clock.now());
        remote.presence(event);
      },
      observer: (nodeId, memberId, held, time) => {
        if (!held) return;
        // An observer registered elsewhere takes the id of an observer or a node here.
        regs.claimedElsewhere(nodeId, time, false, memberId, serverId, clock.now());
        remote.observerClaimed(nodeId, time);
      },
      memberLost: (memberId, lost) => remote.memberLost(memberId, lost),
      unresolved: (envelope) => router.unresolved(envelope),
      localNodes: () => {
        const out: BusNode[] = [];
        registry.forEach({}, (slot) => {
          out.push({ nodeId: registry.id(slot), labels: registry.labels(slot), state: registry.state(slot), memberId: serverId });
        });
        return out;
      },
    };
  }

  /** The options in force (those of the constructor until {@link ServerCore.reconfigure}). */
  get options(): ResolvedServerOptions {
    return this.#live.current;
  }

  /**
   * Changes the options that can change live (`LIVE_OPTIONS`); the parts
   * read them from here, so new connections and new admissions see them.
   *
   * @returns the options now in force
   * @throws TypeError / RangeError as `resolveServerOptions`, or for an option that cannot change live; nothing changes then
   */
  reconfigure(changes: LiveServerOptions): ResolvedServerOptions {
    return this.#live.reconfigure(changes);
  }

  /** Number of registered local nodes. */
  get size(): number {
    return this.#registry.size;
  }

  /** Number of local label sets in use. */
  get labelSets(): number {
    return this.#registry.labelSets;
  }

  /** Number of local nodes matching `filter` (O(1) without labels). */
  count(filter: NodeFilter): number {
    return this.#registry.count(filter);
  }

  /** The node `nodeId`, local or (with a bus) remote. */
  get(nodeId: string): NodeInfo | undefined {
    const slot = this.#registry.slotOf(nodeId);
    return slot < 0 ? this.remote.info(nodeId) : this.nodes.info(slot);
  }

  /**
   * Starts the liveness timer and the event-loop lag monitor (idempotent):
   * a window whose lag reaches `loopLagThreshold` is counted, logged and
   * emitted (`loopLag`).
   */
  start(): void {
    if (this.registrations.shuttingDown) return;
    this.liveness.start();
    if (this.#releaseLag !== undefined) return;
    const lag = LoopLag.shared();
    const release = lag.acquire();
    const off = lag.onWindow((w) => {
      const o = this.#live.current;
      const threshold = o.loopLagThreshold;
      if (threshold === 0 || w.max < threshold) return;
      this.#loopLagEvents++;
      const event = { p50: w.p50, p99: w.p99, max: w.max, threshold, time: Date.now() };
      o.logger.warn({ p50: Math.round(w.p50), p99: Math.round(w.p99), max: Math.round(w.max), threshold }, "event loop lagging");
      if (this.#events.listenerCount("loopLag") > 0) runGuarded(this.stats, o.logger, () => this.#events.emit("loopLag", event));
    });
    this.#releaseLag = () => {
      off();
      release();
    };
  }

  /** `stats().liveness`. */
  livenessStats(): LivenessStats {
    return {
      detector: this.liveness.detector,
      loopLag: LoopLag.shared().last(),
      loopLagEvents: this.#loopLagEvents,
      ...this.liveness.counters(),
    };
  }

  /** `stats().flapping`. */
  flappingStats(): FlappingStats {
    const d = this.#feed.damping;
    return { damped: d.damped, dampings: d.dampings, suppressed: d.suppressed, tracked: d.tracked };
  }

  /** Runs the liveness checks up to `now`. Called by the timer; tests may call it directly with a fake clock. */
  tick(now = this.clock.now()): void {
    this.liveness.tick(now);
  }

  /** Ends every remaining session (`nodeLeft` reason `server_shutdown`) and stops the liveness timer. */
  shutdown(): void {
    this.liveness.stop();
    this.#releaseLag?.();
    this.registrations.shutdown();
  }
}
