import type { NodeState } from "./node-info.js";
import type { NodeLabels } from "./node-labels.js";
import { LabelInterner } from "./label-interner.js";

/** Internal state code of a free slot. */
export const SLOT_FREE = 0;
/** Internal state code of an online node. */
export const SLOT_ONLINE = 1;
/** Internal state code of a suspect node. */
export const SLOT_SUSPECT = 2;

const NONE = -1;
const STATES = 3; // free, online, suspect: one member list per (label set, state)

/**
 * The node registry: every registered node by id, with its labels, owner
 * (the session it belongs to), state, last-heard time and counters.
 *
 * Struct of arrays, not an object per node: a node is a *slot* number
 * indexing typed arrays (37 bytes per slot) and two plain arrays (id,
 * owner); freed slots are reused through a free list. Labels are interned
 * ({@link LabelInterner}), so equal label sets are stored once. Ids map to
 * slots through one `Map<string, number>`. Measured cost at 1 000 000
 * gateway nodes, everything included (id strings, map, wheel, gateway handle
 * tables): see bench/liveness.bench.mjs and the package README.
 *
 * - {@link NodeRegistry.count} is O(1) without a label filter and
 *   O(matching label sets) with one: per-state and per-(label set, state)
 *   counters are kept.
 * - {@link NodeRegistry.forEach} walks intrusive per-(label set, state)
 *   member lists, so a filtered listing visits only matching nodes.
 *
 * The registry is pure bookkeeping: times are passed in (monotonic ms), it
 * emits nothing and knows nothing about liveness rules.
 *
 * @typeParam O - the owner type (the server uses its session records)
 */
export class NodeRegistry<O> {
  readonly #interner = new LabelInterner();
  readonly #slots = new Map<string, number>();
  #capacity: number;
  #highWater = 0;
  #freeHead = NONE;
  readonly #stateCounts = [0, 0, 0];

  // Per slot.
  readonly #ids: (string | undefined)[] = [];
  readonly #owners: (O | undefined)[] = [];
  #state: Uint8Array;
  #handle: Uint32Array;
  #labelSet: Int32Array;
  #lastHeard: Float64Array;
  #joinedAt: Float64Array;
  #heartbeats: Uint32Array;
  // Member lists per (label set, state); #next also chains free slots.
  #next: Int32Array;
  #prev: Int32Array;

  // Per (label set, state): list head and member count.
  #heads: Int32Array = new Int32Array(64 * STATES).fill(NONE);
  #setCounts: Int32Array = new Int32Array(64 * STATES);

  /** @param initialCapacity - slots allocated up front; the registry doubles as needed */
  constructor(initialCapacity = 1024) {
    const c = Math.max(16, initialCapacity);
    this.#capacity = c;
    this.#state = new Uint8Array(c);
    this.#handle = new Uint32Array(c);
    this.#labelSet = new Int32Array(c);
    this.#lastHeard = new Float64Array(c);
    this.#joinedAt = new Float64Array(c);
    this.#heartbeats = new Uint32Array(c);
    this.#next = new Int32Array(c);
    this.#prev = new Int32Array(c);
  }

  /** Number of registered nodes. */
  get size(): number {
    return this.#slots.size;
  }

  /** Number of distinct label sets in use. */
  get labelSets(): number {
    return this.#interner.size;
  }

  /** Bytes held by the per-slot typed arrays (capacity, not size). */
  get byteLength(): number {
    return this.#capacity * 37;
  }

  /** Slot of node `id`, or -1 when it is not registered. */
  slotOf(id: string): number {
    return this.#slots.get(id) ?? NONE;
  }

  /**
   * Registers a new node, online, last heard `now`.
   *
   * @param handle - gateway handle (0 for a connection's own node)
   * @returns its slot
   * @throws Error if `id` is already registered (remove it first)
   */
  add(id: string, labels: Record<string, string>, owner: O, handle: number, now: number): number {
    if (this.#slots.has(id)) throw new Error(`node ${id} is already registered`);
    let slot = this.#freeHead;
    if (slot !== NONE) {
      this.#freeHead = this.#next[slot] as number;
      this.#ids[slot] = id;
      this.#owners[slot] = owner;
    } else {
      slot = this.#highWater++;
      if (slot >= this.#capacity) this.#grow();
      this.#ids.push(id);
      this.#owners.push(owner);
    }
    this.#slots.set(id, slot);
    this.#handle[slot] = handle;
    this.#lastHeard[slot] = now;
    this.#joinedAt[slot] = now;
    this.#heartbeats[slot] = 0;
    const set = this.#interner.intern(labels);
    this.#ensureSet(set);
    this.#labelSet[slot] = set;
    this.#state[slot] = SLOT_ONLINE;
    this.#linkMember(slot);
    this.#stateCounts[SLOT_ONLINE] = (this.#stateCounts[SLOT_ONLINE] as number) + 1;
    return slot;
  }

  /** Removes the node in `slot`; the slot is recycled. */
  remove(slot: number): void {
    const state = this.#state[slot] as number;
    if (state === SLOT_FREE) return;
    this.#unlinkMember(slot);
    this.#stateCounts[state] = (this.#stateCounts[state] as number) - 1;
    this.#interner.release(this.#labelSet[slot] as number);
    this.#slots.delete(this.#ids[slot] as string);
    this.#state[slot] = SLOT_FREE;
    this.#ids[slot] = undefined;
    this.#owners[slot] = undefined;
    this.#next[slot] = this.#freeHead;
    this.#freeHead = slot;
  }

  /** Whether `slot` holds a node. */
  isLive(slot: number): boolean {
    return slot >= 0 && slot < this.#highWater && this.#state[slot] !== SLOT_FREE;
  }

  /** Internal state code ({@link SLOT_ONLINE}, {@link SLOT_SUSPECT}, {@link SLOT_FREE}) of `slot`. */
  stateCode(slot: number): number {
    return this.#state[slot] as number;
  }

  /** State of the node in `slot`. */
  state(slot: number): NodeState {
    return this.#state[slot] === SLOT_SUSPECT ? "suspect" : "online";
  }

  /** Moves the node in `slot` to state `code` ({@link SLOT_ONLINE} or {@link SLOT_SUSPECT}). */
  setState(slot: number, code: typeof SLOT_ONLINE | typeof SLOT_SUSPECT): void {
    const old = this.#state[slot] as number;
    if (old === code || old === SLOT_FREE) return;
    this.#unlinkMember(slot);
    this.#stateCounts[old] = (this.#stateCounts[old] as number) - 1;
    this.#state[slot] = code;
    this.#linkMember(slot);
    this.#stateCounts[code] = (this.#stateCounts[code] as number) + 1;
  }

  /**
   * Records proof of life: last heard = `now`, one more heartbeat when
   * `countHeartbeat`. O(1); does not change the state.
   *
   * @returns the node's state code, so the caller can react to a suspect node
   */
  touch(slot: number, now: number, countHeartbeat: boolean): number {
    this.#lastHeard[slot] = now;
    if (countHeartbeat) this.#heartbeats[slot] = (this.#heartbeats[slot] as number) + 1;
    return this.#state[slot] as number;
  }

  /** Replaces the labels of the node in `slot`. */
  setLabels(slot: number, labels: Record<string, string>): void {
    const set = this.#interner.intern(labels);
    this.#ensureSet(set);
    this.#unlinkMember(slot);
    this.#interner.release(this.#labelSet[slot] as number);
    this.#labelSet[slot] = set;
    this.#linkMember(slot);
  }

  /** Node id in `slot`. */
  id(slot: number): string {
    return this.#ids[slot] as string;
  }

  /** Owner of the node in `slot`. */
  owner(slot: number): O {
    return this.#owners[slot] as O;
  }

  /** Changes the owner of the node in `slot` (a resumed session moves to a new record). */
  setOwner(slot: number, owner: O): void {
    this.#owners[slot] = owner;
  }

  /** Gateway handle of the node in `slot` (0: a connection's own node). */
  handle(slot: number): number {
    return this.#handle[slot] as number;
  }

  /** Changes the gateway handle of the node in `slot` (re-attached after a resume). */
  setHandle(slot: number, handle: number): void {
    this.#handle[slot] = handle;
  }

  /** Labels of the node in `slot` (frozen, shared). */
  labels(slot: number): NodeLabels {
    return this.#interner.labels(this.#labelSet[slot] as number);
  }

  /** Last-heard time of the node in `slot` (monotonic ms). */
  lastHeard(slot: number): number {
    return this.#lastHeard[slot] as number;
  }

  /** Registration time of the node in `slot` (monotonic ms). */
  joinedAt(slot: number): number {
    return this.#joinedAt[slot] as number;
  }

  /** Heartbeat counter of the node in `slot`. */
  heartbeats(slot: number): number {
    return this.#heartbeats[slot] as number;
  }

  /**
   * Number of nodes matching `filter`: O(1) without labels, else
   * O(number of label sets matching). Never scans nodes.
   */
  count(filter: { labels?: Readonly<Record<string, string>>; state?: NodeState } = {}): number {
    const codes = stateCodes(filter.state);
    if (filter.labels === undefined || Object.keys(filter.labels).length === 0) {
      let n = 0;
      for (const c of codes) n += this.#stateCounts[c] as number;
      return n;
    }
    let n = 0;
    for (const set of this.#interner.matching(filter.labels)) {
      for (const c of codes) n += this.#setCounts[set * STATES + c] as number;
    }
    return n;
  }

  /**
   * Calls `visit(slot)` for every node matching `filter`, visiting only
   * matching nodes (member lists per label set and state). Stops early when
   * `visit` returns `false`. The registry must not be changed during the walk.
   */
  forEach(
    filter: { labels?: Readonly<Record<string, string>>; state?: NodeState },
    visit: (slot: number) => boolean | undefined | void,
  ): void {
    const codes = stateCodes(filter.state);
    const sets = filter.labels === undefined ? this.#interner.all() : this.#interner.matching(filter.labels);
    for (const set of sets) {
      for (const c of codes) {
        for (let s = this.#heads[set * STATES + c] as number; s !== NONE; s = this.#next[s] as number) {
          if (visit(s) === false) return;
        }
      }
    }
  }

  #linkMember(slot: number): void {
    const list = (this.#labelSet[slot] as number) * STATES + (this.#state[slot] as number);
    const head = this.#heads[list] as number;
    this.#next[slot] = head;
    this.#prev[slot] = -list - 2; // < 0: head of list `list`
    if (head !== NONE) this.#prev[head] = slot;
    this.#heads[list] = slot;
    this.#setCounts[list] = (this.#setCounts[list] as number) + 1;
  }

  #unlinkMember(slot: number): void {
    const next = this.#next[slot] as number;
    const prev = this.#prev[slot] as number;
    if (prev >= 0) this.#next[prev] = next;
    else this.#heads[-prev - 2] = next;
    if (next !== NONE) this.#prev[next] = prev;
    const list = (this.#labelSet[slot] as number) * STATES + (this.#state[slot] as number);
    this.#setCounts[list] = (this.#setCounts[list] as number) - 1;
  }

  #ensureSet(set: number): void {
    const need = (set + 1) * STATES;
    if (need <= this.#heads.length) return;
    let n = this.#heads.length * 2;
    while (n < need) n *= 2;
    const heads = new Int32Array(n).fill(NONE);
    heads.set(this.#heads);
    const counts = new Int32Array(n);
    counts.set(this.#setCounts);
    this.#heads = heads;
    this.#setCounts = counts;
  }

  #grow(): void {
    const c = this.#capacity * 2;
    this.#state = growArray(this.#state, new Uint8Array(c));
    this.#handle = growArray(this.#handle, new Uint32Array(c));
    this.#labelSet = growArray(this.#labelSet, new Int32Array(c));
    this.#lastHeard = growArray(this.#lastHeard, new Float64Array(c));
    this.#joinedAt = growArray(this.#joinedAt, new Float64Array(c));
    this.#heartbeats = growArray(this.#heartbeats, new Uint32Array(c));
    this.#next = growArray(this.#next, new Int32Array(c));
    this.#prev = growArray(this.#prev, new Int32Array(c));
    this.#capacity = c;
  }
}

function growArray<T extends { set(a: ArrayLike<number>): void }>(from: ArrayLike<number>, to: T): T {
  to.set(from);
  return to;
}

function stateCodes(state: NodeState | undefined): readonly number[] {
  if (state === undefined) return BOTH;
  return state === "online" ? ONLINE_ONLY : SUSPECT_ONLY;
}
const BOTH = [SLOT_ONLINE, SLOT_SUSPECT] as const;
const ONLINE_ONLY = [SLOT_ONLINE] as const;
const SUSPECT_ONLY = [SLOT_SUSPECT] as const;
