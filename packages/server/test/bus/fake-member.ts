import type { BusEnvelope, BusHandlers, BusLink, BusNode, BusPresence } from "../../src/core/ports/bus-link.js";

/**
 * A bus member for tests: holds local nodes, announces their changes on its
 * link and records everything the link calls back.
 */
export class FakeMember implements BusHandlers {
  /** Local nodes by id. */
  readonly local = new Map<string, BusNode>();
  /** Delivered messages, in order. */
  readonly delivered: { envelope: BusEnvelope; from: string }[] = [];
  /** Presence events reported, in order. */
  readonly events: BusPresence[] = [];
  /** memberLost calls, in order. */
  readonly lost: { memberId: string; nodes: readonly BusNode[] }[] = [];

  constructor(
    readonly id: string,
    readonly link: BusLink,
  ) {}

  start(): Promise<void> {
    return this.link.start(this.id, this);
  }

  join(nodeId: string, labels: Record<string, string> = {}, reason = "hello"): void {
    this.local.set(nodeId, { nodeId, labels, state: "online", memberId: this.id });
    this.#announce("joined", nodeId, labels, reason);
  }

  leave(nodeId: string, kind: "left" | "timed_out" = "left", reason = "goodbye"): void {
    const node = this.local.get(nodeId);
    if (node === undefined) throw new Error(`${nodeId} is not local to ${this.id}`);
    this.local.delete(nodeId);
    this.#announce(kind, nodeId, node.labels, reason);
  }

  suspect(nodeId: string, reason = "heartbeat_missed"): void {
    const node = this.local.get(nodeId) as BusNode;
    this.local.set(nodeId, { ...node, state: "suspect" });
    this.#announce("suspect", nodeId, node.labels, reason);
  }

  recover(nodeId: string, reason = "heartbeat"): void {
    const node = this.local.get(nodeId) as BusNode;
    this.local.set(nodeId, { ...node, state: "online" });
    this.#announce("recovered", nodeId, node.labels, reason);
  }

  /** `kind nodeId reason @member` lines of the events about `nodeId`. */
  story(nodeId: string): string[] {
    return this.events.filter((e) => e.nodeId === nodeId).map((e) => `${e.kind} ${e.reason} @${e.memberId}`);
  }

  /** Remote node ids with their holders and states, sorted: `id@member:state`. */
  view(): string[] {
    return [...this.link.remoteNodes().values()].map((n) => `${n.nodeId}@${n.memberId}:${n.state}`).sort();
  }

  /** Local nodes in the same form as {@link FakeMember.view}. */
  own(): string[] {
    return [...this.local.values()].map((n) => `${n.nodeId}@${this.id}:${n.state}`).sort();
  }

  deliver(envelope: BusEnvelope, fromMember: string): void {
    // Copy the body: a receiver may not keep the link's buffer.
    this.delivered.push({ envelope: { ...envelope, body: Uint8Array.from(envelope.body) }, from: fromMember });
  }

  presence(event: BusPresence): void {
    this.events.push(event);
  }

  memberLost(memberId: string, nodes: readonly BusNode[]): void {
    this.lost.push({ memberId, nodes });
  }

  localNodes(): Iterable<BusNode> {
    return this.local.values();
  }

  #announce(kind: BusPresence["kind"], nodeId: string, labels: Record<string, string>, reason: string): void {
    this.link.announce({ kind, nodeId, labels, reason, time: Date.now(), memberId: this.id });
  }
}

/** Polls `check` until it returns true (or throws its last error after `timeout` ms). */
export async function until(check: () => boolean | void, timeout = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      if (check() !== false) return;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      if (last !== undefined) throw last;
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
