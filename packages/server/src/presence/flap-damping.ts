import { PresenceKind } from "@hb/codec";
import type { NodeLabels } from "../registry/node-labels.js";

/** Node ids with a penalty kept at most: beyond, new ids are not tracked (damping is best effort, memory is bounded). */
export const MAX_TRACKED = 65_536;
/** A penalty below this (and not damped) is forgotten. */
const FORGET_BELOW = 0.5;

/** Settings of {@link FlapDamping} (the server options `flap*`). */
export interface FlapDampingOptions {
  /** Penalty at which a node id is damped (0: never). */
  suppress: number;
  /** Damping ends when the penalty falls below this. */
  reuse: number;
  /** Half-life of the penalty, ms. */
  halfLifeMs: number;
  /** Longest a node id stays damped, ms. */
  maxDampingMs: number;
}

/** A node's state as the latest transition left it. */
export type FlapState = "online" | "suspect" | "left" | "timed_out";

/** What is kept of a damped node id: where it stands now, and who was told `SUSPECT flapping`. */
export class DampedNode<S> {
  /** When damping started (monotonic ms). */
  readonly since: number;
  /** The node's state after its latest transition. */
  state: FlapState;
  /** Its labels then. */
  labels: NodeLabels;
  /** The server holding it (`PresenceEvent.server_id`). */
  serverId: string;
  /** Subscriptions whose view has it suspect (told `SUSPECT flapping`); the others' view has it offline. */
  readonly told = new Set<S>();

  constructor(since: number, state: FlapState, labels: NodeLabels, serverId: string) {
    this.since = since;
    this.state = state;
    this.labels = labels;
    this.serverId = serverId;
  }
}

interface Penalty<S> {
  value: number;
  at: number;
  damped: DampedNode<S> | undefined;
}

/** What {@link FlapDamping.transition} decides for one transition. */
export type FlapVerdict = "pass" | "start" | "damped";

/** The state a presence transition of `kind` leaves its node in. */
export function stateAfter(kind: PresenceKind): FlapState {
  switch (kind) {
    case PresenceKind.SUSPECT:
      return "suspect";
    case PresenceKind.LEFT:
      return "left";
    case PresenceKind.TIMED_OUT:
      return "timed_out";
    default:
      return "online";
  }
}

/**
 * Route-flap damping of presence (docs/PROTOCOL.md §7.6), per node id, as
 * BGP does it: every transition adds 1 to the id's penalty, which halves
 * every `halfLifeMs`; at `suppress` the id is damped until the penalty
 * falls below `reuse` or `maxDampingMs` passed ({@link FlapDamping.sweep}).
 * A node's first join creates no penalty, so a healthy fleet costs nothing;
 * at most {@link MAX_TRACKED} ids are tracked, decayed ones are dropped.
 *
 * It only decides; what subscribers are told is the presence feed's.
 *
 * @typeParam S - a subscription
 */
export class FlapDamping<S> {
  readonly #o: FlapDampingOptions;
  readonly #penalties = new Map<string, Penalty<S>>();
  #damped = 0;
  /** Times damping of a node id started. */
  dampings = 0;
  /** Transitions suppressed while damped. */
  suppressed = 0;

  constructor(options: FlapDampingOptions) {
    this.#o = options;
  }

  /** Whether damping is on. */
  get enabled(): boolean {
    return this.#o.suppress > 0;
  }

  /** Node ids damped now. */
  get damped(): number {
    return this.#damped;
  }

  /** Node ids with a penalty kept now. */
  get tracked(): number {
    return this.#penalties.size;
  }

  /** The damping of `nodeId`, if it is damped. */
  dampedNode(nodeId: string): DampedNode<S> | undefined {
    return this.#penalties.get(nodeId)?.damped;
  }

  /** Every damped node, by id. */
  *dampedNodes(): IterableIterator<[string, DampedNode<S>]> {
    for (const [id, p] of this.#penalties) if (p.damped !== undefined) yield [id, p.damped];
  }

  /** The penalty of `nodeId` at `now` (0: none). */
  penalty(nodeId: string, now: number): number {
    const p = this.#penalties.get(nodeId);
    return p === undefined ? 0 : this.#decayed(p, now);
  }

  /**
   * `nodeId` changed its labels without a transition (no penalty): `"pass"`,
   * or `"damped"` when it is damped (its damped state takes the labels).
   */
  relabel(nodeId: string, labels: NodeLabels, serverId: string): FlapVerdict {
    const d = this.#penalties.get(nodeId)?.damped;
    if (d === undefined) return "pass";
    d.labels = labels;
    d.serverId = serverId;
    return "damped";
  }

  /**
   * A transition of `nodeId` (presence `kind`) at `now`: `"pass"` (tell
   * everyone), `"start"` (damping starts with it: it is the first
   * transition damped subscriptions are not told), or `"damped"` (the id is
   * damped: counted as suppressed).
   */
  transition(nodeId: string, kind: PresenceKind, labels: NodeLabels, serverId: string, now: number): FlapVerdict {
    if (this.#o.suppress <= 0) return "pass";
    let p = this.#penalties.get(nodeId);
    if (p === undefined) {
      // A first join is no flap; and memory stays bounded.
      if (kind === PresenceKind.JOINED || this.#penalties.size >= MAX_TRACKED) return "pass";
      p = { value: 0, at: now, damped: undefined };
      this.#penalties.set(nodeId, p);
    }
    // The penalty is capped where decaying to `reuse` takes maxDamping (damping stays bounded), but never below
    // `suppress` (damping could not start); the maximum damping time ends it then.
    const ceiling = Math.max(this.#o.suppress, this.#o.reuse * 2 ** (this.#o.maxDampingMs / this.#o.halfLifeMs));
    p.value = Math.min(ceiling, this.#decayed(p, now) + 1);
    p.at = now;
    const d = p.damped;
    if (d !== undefined) {
      d.state = stateAfter(kind);
      d.labels = labels;
      d.serverId = serverId;
      this.suppressed++;
      return "damped";
    }
    if (p.value < this.#o.suppress) return "pass";
    p.damped = new DampedNode<S>(now, stateAfter(kind), labels, serverId);
    this.#damped++;
    this.dampings++;
    this.suppressed++;
    return "start";
  }

  /**
   * Ends the damping of every id whose penalty fell below `reuse` or that
   * has been damped for `maxDampingMs` (calling `ended` for each, after it
   * is no longer damped), and forgets decayed penalties. O(tracked ids).
   */
  sweep(now: number, ended: (nodeId: string, node: DampedNode<S>) => void): void {
    for (const [id, p] of this.#penalties) {
      const value = this.#decayed(p, now);
      const d = p.damped;
      if (d !== undefined) {
        if (value >= this.#o.reuse && now - d.since < this.#o.maxDampingMs) continue;
        p.damped = undefined;
        this.#damped--;
        ended(id, d);
      }
      if (value < FORGET_BELOW) this.#penalties.delete(id);
    }
  }

  /** Forgets `sub` in every damped node's views (it ended). */
  forget(sub: S): void {
    if (this.#damped === 0) return;
    for (const p of this.#penalties.values()) p.damped?.told.delete(sub);
  }

  #decayed(p: Penalty<S>, now: number): number {
    const dt = now - p.at;
    return dt <= 0 ? p.value : p.value * 2 ** (-dt / this.#o.halfLifeMs);
  }
}
