import { type BusNode, type BusPresence, RESYNC_REASON } from "../core/ports/bus-link.js";

const NO_NODES: ReadonlyMap<string, BusNode> = new Map();

/**
 * The replicated directory of the remote members of a bus, kept by every
 * link (socket-free; the memory and Redis links share it, so they report
 * presence the same way).
 *
 * It keeps what each member says it holds, and a view with one holder per
 * node id (what {@link BusLink.locate} and {@link BusLink.remoteNodes}
 * answer). Two members may briefly hold the same node id when a node moves
 * or is taken over (PROTOCOL.md §8.1: the newer wins): a `joined` from
 * another member makes that member the holder, and is reported as `left`
 * (reason `replaced`, for the old holder) then the `joined`; the old
 * holder's own `left replaced`, when it comes, changes nothing in the view
 * and is not reported. If the holder drops a node another member still
 * holds, the view falls back to that member silently.
 *
 * Methods that report push the events to pass on to
 * {@link BusHandlers.presence} onto an `out` array, in order.
 */
export class BusDirectory {
  readonly #self: string;
  readonly #view = new Map<string, BusNode>();
  readonly #byMember = new Map<string, Map<string, BusNode>>();

  /** @param self - the local member, whose own events are never applied */
  constructor(self: string) {
    this.#self = self;
  }

  /** The view: node id → its holder's entry. */
  get view(): ReadonlyMap<string, BusNode> {
    return this.#view;
  }

  /** The member holding `nodeId` in the view. */
  locate(nodeId: string): string | undefined {
    return this.#view.get(nodeId)?.memberId;
  }

  /** Whether `memberId` is known (it may hold no node). */
  hasMember(memberId: string): boolean {
    return this.#byMember.has(memberId);
  }

  /** The known members. */
  members(): IterableIterator<string> {
    return this.#byMember.keys();
  }

  /** What `memberId` holds (its own account, whatever the view says). */
  memberNodes(memberId: string): ReadonlyMap<string, BusNode> {
    return this.#byMember.get(memberId) ?? NO_NODES;
  }

  /**
   * Applies a presence change announced by a remote member. Events of
   * unknown nodes (a `suspect` for a node the member does not hold) and
   * events that do not change the view are not reported.
   */
  apply(event: BusPresence, out: BusPresence[]): void {
    const m = event.memberId;
    if (m === this.#self) return;
    const n = event.nodeId;
    switch (event.kind) {
      case "joined": {
        const node: BusNode = { nodeId: n, labels: event.labels, state: "online", memberId: m };
        this.#holdings(m).set(n, node);
        const current = this.#view.get(n);
        if (current !== undefined && current.memberId !== m) out.push(replacedBy(current, event.time));
        this.#view.set(n, node);
        out.push(event);
        return;
      }
      case "suspect":
      case "recovered":
      case "updated": {
        const held = this.#byMember.get(m);
        const entry = held?.get(n);
        if (held === undefined || entry === undefined) return;
        const state = event.kind === "suspect" ? "suspect" : event.kind === "recovered" ? "online" : entry.state;
        // A label change (§7.5) comes with the old labels: the entry takes the new ones.
        const labels = event.previousLabels === undefined ? entry.labels : event.labels;
        if (entry.state === state && labels === entry.labels) return;
        const node: BusNode = { nodeId: n, labels, state, memberId: m };
        held.set(n, node);
        if (this.#view.get(n)?.memberId === m) {
          this.#view.set(n, node);
          out.push(event);
        }
        return;
      }
      case "left":
      case "timed_out": {
        const held = this.#byMember.get(m);
        if (held === undefined || !held.delete(n)) return;
        if (this.#view.get(n)?.memberId === m && this.#drop(n)) out.push(event);
        return;
      }
    }
  }

  /**
   * Replaces everything `memberId` holds with `nodes` (a snapshot read back
   * from the store), and reports the differences. A difference is reported
   * with the member's own last event for that node when `hints` has one of
   * the right kind, else with reason {@link RESYNC_REASON}: a node that
   * appeared is `joined` (then `suspect` if it is), one that disappeared is
   * `timed_out`, a state change `suspect` / `recovered`, changed labels
   * `left` + `joined`.
   *
   * @param time - time of the events made up here, ms since the Unix epoch
   * @param out - where to push the events; `undefined` to load silently
   */
  replace(
    memberId: string,
    nodes: Iterable<BusNode>,
    hints: ReadonlyMap<string, BusPresence> | undefined,
    time: number,
    out: BusPresence[] | undefined,
  ): void {
    if (memberId === this.#self) return;
    const old = this.#byMember.get(memberId) ?? new Map<string, BusNode>();
    const next = new Map<string, BusNode>();
    this.#byMember.set(memberId, next);
    for (const node of nodes) next.set(node.nodeId, node.memberId === memberId ? node : { ...node, memberId });
    const made = (kind: BusPresence["kind"], node: BusNode): BusPresence => {
      const hint = hints?.get(node.nodeId);
      if (hint !== undefined && hint.kind === kind) return { ...hint, labels: node.labels, memberId };
      return { kind, nodeId: node.nodeId, labels: node.labels, reason: RESYNC_REASON, time, memberId };
    };
    const gone = (node: BusNode): BusPresence => {
      const hint = hints?.get(node.nodeId);
      if (hint !== undefined && (hint.kind === "left" || hint.kind === "timed_out")) {
        return { ...hint, labels: node.labels, memberId };
      }
      return made("timed_out", node);
    };
    for (const [n, prev] of old) {
      if (next.has(n)) continue;
      if (this.#view.get(n)?.memberId === memberId && this.#drop(n)) out?.push(gone(prev));
    }
    for (const [n, node] of next) {
      const prev = old.get(n);
      const current = this.#view.get(n);
      if (current !== undefined && current.memberId !== memberId) {
        // Another member is the holder. Held here before too: a stale
        // duplicate, the view stays. New here: this member took it over.
        if (prev !== undefined) continue;
        out?.push(replacedBy(current, time));
        this.#view.set(n, node);
        out?.push(made("joined", node));
        if (node.state === "suspect") out?.push(made("suspect", node));
        continue;
      }
      if (current === undefined || prev === undefined) {
        this.#view.set(n, node);
        out?.push(made("joined", node));
        if (node.state === "suspect") out?.push(made("suspect", node));
      } else if (!sameLabels(prev.labels, node.labels)) {
        this.#view.set(n, node);
        out?.push({ kind: "left", nodeId: n, labels: prev.labels, reason: RESYNC_REASON, time, memberId });
        out?.push(made("joined", node));
        if (node.state === "suspect") out?.push(made("suspect", node));
      } else if (prev.state !== node.state) {
        this.#view.set(n, node);
        out?.push(made(node.state === "suspect" ? "suspect" : "recovered", node));
      } else {
        // Unchanged: keep the old object (and its labels), drop the copy.
        next.set(n, prev);
      }
    }
  }

  /**
   * Forgets a member (lease expired, crashed, left).
   *
   * @returns the nodes that went offline with it (those no other member
   *   holds), in no particular order; empty for an unknown member
   */
  removeMember(memberId: string): BusNode[] {
    const held = this.#byMember.get(memberId);
    if (held === undefined) return [];
    this.#byMember.delete(memberId);
    const lost: BusNode[] = [];
    for (const [n, node] of held) {
      if (this.#view.get(n) === node && this.#drop(n)) lost.push(node);
    }
    return lost;
  }

  #holdings(memberId: string): Map<string, BusNode> {
    let held = this.#byMember.get(memberId);
    if (held === undefined) {
      held = new Map();
      this.#byMember.set(memberId, held);
    }
    return held;
  }

  // The view's holder of `n` let it go: hand it to another holder if any.
  // Returns whether the node is now gone from the view.
  #drop(n: string): boolean {
    for (const held of this.#byMember.values()) {
      const other = held.get(n);
      if (other !== undefined) {
        this.#view.set(n, other);
        return false;
      }
    }
    this.#view.delete(n);
    return true;
  }
}

// The `left replaced` of the old holder when another member takes a node over.
function replacedBy(old: BusNode, time: number): BusPresence {
  return { kind: "left", nodeId: old.nodeId, labels: old.labels, reason: "replaced", time, memberId: old.memberId };
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
  return true;
}
