import { BusDirectory } from "./bus-directory.js";
import { callHandler, emitPresence } from "./handler-calls.js";
import type { BusEnvelope, BusHandlers, BusHealth, BusLink, BusNode, BusPresence } from "../core/ports/bus-link.js";
import { integerOption } from "../options/option-checks.js";
import { PendingPresence } from "./pending-presence.js";

/** A link of a {@link MemoryBus}: a {@link BusLink} plus test controls. */
export interface MemoryLink extends BusLink {
  /** Always `"memory"`. */
  readonly kind: "memory";
  /**
   * Simulates a crash: the link stops at once without leaving cleanly; the
   * other members get `memberLost` with the nodes it held.
   */
  kill(): void;
  /**
   * Simulates losing the bus (Redis unreachable): health `degraded` with
   * `detail`, relays dropped and counted, presence changes kept (the last
   * per node), nothing received. The other members keep this member's nodes
   * (there is no lease here).
   */
  cutOff(detail?: string): void;
  /**
   * Ends a {@link MemoryLink.cutOff}: re-announces the local node set (the
   * kept changes as hints), then reloads the other members and reports the
   * differences, like a Redis link after Redis comes back.
   */
  reconnect(): void;
}

/** Options of {@link MemoryBus}. */
export interface MemoryBusOptions {
  /** Most presence changes a cut-off link keeps (the last per node). Default 10 000. */
  maxPendingPresence?: number;
}

/**
 * An in-process bus: the reference implementation of the {@link BusLink}
 * semantics, for tests and for several hubs in one process.
 *
 * Everything a link sends (messages, presence, a lost member) is delivered
 * to the other links in one FIFO queue drained on a microtask, never inside
 * the sending call, so a handler may send again without re-entering its
 * caller; {@link MemoryBus.flush} waits until the queue is empty. Bodies are
 * passed by reference, not copied. The bus keeps each member's announced
 * node set, the role Redis plays for a Redis link.
 *
 * ```ts
 * const bus = new MemoryBus();
 * const a = bus.link(), b = bus.link();
 * await a.start("a", handlersA);
 * await b.start("b", handlersB);
 * a.announce({ kind: "joined", nodeId: "n1", labels: {}, reason: "hello", time: Date.now(), memberId: "a" });
 * await bus.flush();
 * b.locate("n1"); // "a"
 * ```
 */
export class MemoryBus {
  readonly #core: Core;

  /** @throws TypeError / RangeError for a `maxPendingPresence` that is not an integer in 0..10 000 000 */
  constructor(options: MemoryBusOptions = {}) {
    const limit = integerOption(options.maxPendingPresence, "maxPendingPresence", 10_000, { min: 0, max: 10_000_000 });
    this.#core = new Core(limit);
  }

  /** A new link, not started yet. */
  link(): MemoryLink {
    return new Link(this.#core);
  }

  /** Ids of the started members, in start order. */
  members(): string[] {
    return [...this.#core.links.keys()];
  }

  /** Resolves once every queued delivery has run (including those they caused). */
  async flush(): Promise<void> {
    do await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#core.busy);
  }
}

// State shared by the links of one bus.
class Core {
  readonly links = new Map<string, Link>();
  // What each member announced: the store (Redis's member hashes).
  readonly store = new Map<string, Map<string, BusNode>>();
  readonly pendingLimit: number;
  #queue: (() => void)[] = [];
  #scheduled = false;

  constructor(pendingLimit: number) {
    this.pendingLimit = pendingLimit;
  }

  get busy(): boolean {
    return this.#scheduled || this.#queue.length > 0;
  }

  enqueue(task: () => void): void {
    this.#queue.push(task);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#drain);
  }

  readonly #drain = (): void => {
    // Tasks queued while draining run in this same pass, in order.
    for (let i = 0; i < this.#queue.length; i++) (this.#queue[i] as () => void)();
    this.#queue = [];
    this.#scheduled = false;
  };

  others(self: Link): Link[] {
    const out: Link[] = [];
    for (const link of this.links.values()) if (link !== self) out.push(link);
    return out;
  }
}

class Link implements MemoryLink {
  readonly kind = "memory" as const;
  readonly #core: Core;
  readonly #pending: PendingPresence;
  #memberId = "";
  #handlers: BusHandlers | undefined;
  #dir = new BusDirectory("");
  #state: "idle" | "ok" | "down" | "closed" = "idle";
  #detail = "";
  readonly #stats = {
    relayedOut: 0,
    relayedIn: 0,
    dropped: 0,
    droppedIn: 0,
    presenceOut: 0,
    presenceIn: 0,
    membersLost: 0,
    resyncs: 0,
    handlerErrors: 0,
  };

  constructor(core: Core) {
    this.#core = core;
    this.#pending = new PendingPresence(core.pendingLimit);
  }

  async start(memberId: string, handlers: BusHandlers): Promise<void> {
    if (this.#state !== "idle") throw new Error("MemoryLink: start() may be called once");
    if (typeof memberId !== "string" || memberId.length === 0) throw new TypeError("memberId must be a non-empty string");
    if (this.#core.links.has(memberId)) throw new Error(`MemoryLink: member "${memberId}" is already on the bus`);
    this.#memberId = memberId;
    this.#handlers = handlers;
    this.#dir = new BusDirectory(memberId);
    const now = Date.now();
    for (const [m, nodes] of this.#core.store) this.#dir.replace(m, nodes.values(), undefined, now, undefined);
    this.#core.links.set(memberId, this);
    this.#state = "ok";
    this.#publishSnapshot(undefined);
  }

  send(envelope: BusEnvelope, toMember?: string): void {
    if (this.#state !== "ok") {
      this.#stats.dropped++;
      return;
    }
    this.#stats.relayedOut++;
    const from = this.#memberId;
    if (toMember !== undefined) {
      const target = this.#core.links.get(toMember);
      if (target === undefined || target === this) return;
      this.#core.enqueue(() => target.#receive(envelope, from));
      return;
    }
    const targets = this.#core.others(this);
    this.#core.enqueue(() => {
      for (const t of targets) t.#receive(envelope, from);
    });
  }

  announce(event: BusPresence): void {
    if (this.#state === "idle" || this.#state === "closed") return;
    const e = event.memberId === this.#memberId ? event : { ...event, memberId: this.#memberId };
    if (this.#state === "down") {
      this.#pending.record(e);
      return;
    }
    const held = this.#core.store.get(this.#memberId) as Map<string, BusNode>;
    if (e.kind === "left" || e.kind === "timed_out") held.delete(e.nodeId);
    else {
      const state = e.kind === "suspect" ? "suspect" : "online";
      held.set(e.nodeId, { nodeId: e.nodeId, labels: e.labels, state, memberId: this.#memberId });
    }
    this.#stats.presenceOut++;
    const targets = this.#core.others(this);
    this.#core.enqueue(() => {
      for (const t of targets) t.#presence(e);
    });
  }

  locate(nodeId: string): string | undefined {
    return this.#dir.locate(nodeId);
  }

  remoteNodes(): ReadonlyMap<string, BusNode> {
    return this.#dir.view;
  }

  health(): BusHealth {
    if (this.#state === "ok") return { state: "ok" };
    if (this.#state === "down") return { state: "degraded", detail: this.#detail };
    return { state: "degraded", detail: this.#state === "idle" ? "not started" : "closed" };
  }

  stats(): Record<string, number> {
    return {
      ...this.#stats,
      pending: this.#pending.size,
      pendingOverflow: this.#pending.overflow,
      remoteNodes: this.#dir.view.size,
      storeOps: 0,
    };
  }

  async close(): Promise<void> {
    this.kill();
  }

  kill(): void {
    if (this.#state === "idle" || this.#state === "closed") {
      this.#state = "closed";
      return;
    }
    this.#state = "closed";
    const self = this.#memberId;
    this.#core.links.delete(self);
    this.#core.store.delete(self);
    const targets = this.#core.others(this);
    this.#core.enqueue(() => {
      for (const t of targets) t.#lost(self);
    });
  }

  cutOff(detail = "cut off"): void {
    if (this.#state !== "ok") return;
    this.#state = "down";
    this.#detail = detail;
  }

  reconnect(): void {
    if (this.#state !== "down") return;
    this.#state = "ok";
    this.#stats.resyncs++;
    this.#publishSnapshot(this.#pending.take());
    // Reload the others from the store once the queue gets there, after
    // whatever was queued before (the store already reflects it).
    this.#core.enqueue(() => {
      if (this.#state !== "ok") return;
      const out: BusPresence[] = [];
      const now = Date.now();
      for (const [m, nodes] of this.#core.store) {
        if (m !== this.#memberId) this.#dir.replace(m, nodes.values(), undefined, now, out);
      }
      this.#emit(out);
      for (const m of [...this.#dir.members()]) if (!this.#core.store.has(m)) this.#lost(m);
    });
  }

  // Writes the local node set to the store and sends the snapshot to the others.
  #publishSnapshot(hints: ReadonlyMap<string, BusPresence> | undefined): void {
    const self = this.#memberId;
    const held = new Map<string, BusNode>();
    for (const node of (this.#handlers as BusHandlers).localNodes()) {
      held.set(node.nodeId, node.memberId === self ? node : { ...node, memberId: self });
    }
    this.#core.store.set(self, held);
    const snapshot = [...held.values()];
    const targets = this.#core.others(this);
    this.#core.enqueue(() => {
      for (const t of targets) t.#load(self, snapshot, hints);
    });
  }

  #receive(envelope: BusEnvelope, from: string): void {
    if (this.#state !== "ok") {
      this.#stats.droppedIn++;
      return;
    }
    this.#stats.relayedIn++;
    this.#guard(() => this.#handlers?.deliver(envelope, from));
  }

  #presence(event: BusPresence): void {
    if (this.#state !== "ok") return;
    this.#stats.presenceIn++;
    const out: BusPresence[] = [];
    this.#dir.apply(event, out);
    this.#emit(out);
  }

  #load(memberId: string, nodes: readonly BusNode[], hints: ReadonlyMap<string, BusPresence> | undefined): void {
    if (this.#state !== "ok") return;
    const out: BusPresence[] = [];
    this.#dir.replace(memberId, nodes, hints, Date.now(), out);
    this.#emit(out);
  }

  #lost(memberId: string): void {
    if (this.#state !== "ok" || !this.#dir.hasMember(memberId)) return;
    const nodes = this.#dir.removeMember(memberId);
    this.#stats.membersLost++;
    this.#guard(() => this.#handlers?.memberLost(memberId, nodes));
  }

  #emit(events: readonly BusPresence[]): void {
    emitPresence(this.#handlers, events, this.#stats);
  }

  #guard(fn: () => void): void {
    callHandler(this.#stats, fn);
  }
}
