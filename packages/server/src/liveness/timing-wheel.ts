/** Options of {@link TimingWheel}. */
export interface TimingWheelOptions {
  /** Length of one tick in milliseconds: an entry fires at most this late. */
  tickMs: number;
  /**
   * Longest delay that will usually be scheduled, in milliseconds. The wheel
   * gets enough buckets (a power of two, at most 65 536) to cover it, so an
   * entry is normally looked at only once, when it is due; longer delays still
   * work (an entry waits extra rounds).
   */
  horizonMs: number;
  /** Current time in milliseconds, on the same monotonic base as later calls. */
  now: number;
  /** Slots to allocate room for up front (the wheel grows on demand). Default 1 024. */
  initialCapacity?: number;
}

const NONE = -1;
/** `next` value of a slot that is not scheduled. */
const UNSCHEDULED = -2;
const MAX_BUCKETS = 1 << 16;

/**
 * A hashed timing wheel over integer slots (the node registry's slot
 * numbers), for liveness deadlines of up to millions of nodes.
 *
 * - Time is split into ticks of `tickMs`; each bucket holds the slots due in
 *   ticks congruent to its index. {@link TimingWheel.advance} visits only the
 *   buckets of the ticks that passed, so work per tick is proportional to the
 *   entries due then, never to the number of nodes.
 * - Entries live in intrusive doubly linked lists kept in typed arrays
 *   indexed by slot: 16 bytes per slot (next, prev, due time), no object
 *   per entry, O(1) {@link TimingWheel.schedule} and {@link TimingWheel.cancel}.
 * - An entry due at time `t` fires during the first `advance(now)` with
 *   `now ≥ t`: never early, and late only by the gap between `advance`
 *   calls (one tick when called every tick), whatever the phase of the
 *   caller's timer. To get that, each call also fires the due entries of the
 *   bucket whose tick boundary is still ahead; an entry is looked at no more
 *   than twice.
 *
 * A slot is in at most one bucket; scheduling it again moves it.
 */
export class TimingWheel {
  readonly #tickMs: number;
  readonly #mask: number;
  readonly #firing: number;
  // Bucket heads, plus one extra list (index #firing) for the bucket being fired.
  readonly #heads: Int32Array;
  #next: Int32Array;
  // prev >= 0: previous slot; prev < 0: head of bucket (-prev - 1).
  #prev: Int32Array;
  // Due time in ms.
  #due: Float64Array;
  #capacity: number;
  #current: number;
  #size = 0;

  constructor(options: TimingWheelOptions) {
    const { tickMs, horizonMs, now } = options;
    if (!(tickMs > 0)) throw new RangeError(`tickMs must be > 0, got ${tickMs}`);
    if (!(horizonMs >= 0)) throw new RangeError(`horizonMs must be ≥ 0, got ${horizonMs}`);
    this.#tickMs = tickMs;
    let buckets = 4;
    const wanted = Math.ceil(horizonMs / tickMs) + 2;
    while (buckets < wanted && buckets < MAX_BUCKETS) buckets *= 2;
    this.#mask = buckets - 1;
    this.#firing = buckets;
    this.#heads = new Int32Array(buckets + 1).fill(NONE);
    this.#capacity = Math.max(16, options.initialCapacity ?? 1024);
    this.#next = new Int32Array(this.#capacity).fill(UNSCHEDULED);
    this.#prev = new Int32Array(this.#capacity);
    this.#due = new Float64Array(this.#capacity);
    this.#current = Math.floor(now / tickMs);
  }

  /** Number of scheduled slots. */
  get size(): number {
    return this.#size;
  }

  /** Number of buckets (a power of two). */
  get buckets(): number {
    return this.#mask + 1;
  }

  /** Length of a tick in milliseconds. */
  get tickMs(): number {
    return this.#tickMs;
  }

  /** Bytes held by the per-slot arrays (the buckets are extra, 4 bytes each). */
  get byteLength(): number {
    return this.#next.byteLength + this.#prev.byteLength + this.#due.byteLength;
  }

  /** Whether `slot` is scheduled. */
  isScheduled(slot: number): boolean {
    return slot < this.#capacity && this.#next[slot] !== UNSCHEDULED;
  }

  /** The time `slot` is due, or `undefined` when not scheduled. */
  dueAt(slot: number): number | undefined {
    return this.isScheduled(slot) ? (this.#due[slot] as number) : undefined;
  }

  /**
   * Schedules `slot` to fire at `dueMs` (moving it if already scheduled). A
   * time already past fires on the next {@link TimingWheel.advance}.
   */
  schedule(slot: number, dueMs: number): void {
    if (slot >= this.#capacity) this.#grow(slot + 1);
    if (this.#next[slot] !== UNSCHEDULED) this.#unlink(slot);
    else this.#size++;
    let tick = Math.ceil(dueMs / this.#tickMs);
    if (tick <= this.#current) tick = this.#current + 1;
    this.#due[slot] = dueMs;
    this.#link(slot, tick & this.#mask);
  }

  /** Removes `slot` from the wheel; does nothing when it is not scheduled. */
  cancel(slot: number): void {
    if (slot >= this.#capacity || this.#next[slot] === UNSCHEDULED) return;
    this.#unlink(slot);
    this.#next[slot] = UNSCHEDULED;
    this.#size--;
  }

  /**
   * Moves time forward to `now` and calls `onDue(slot)` for every slot due
   * at or before `now`, in no particular order, at most `limit` of them
   * (default: all). A slot is unscheduled before its callback runs; the
   * callback may schedule it (or any slot) again, or cancel others. An
   * exception from `onDue` propagates once the wheel state is consistent;
   * the remaining due slots stay scheduled and fire on the next call, as do
   * those beyond `limit` (a caller slicing its work calls again, e.g. on the
   * next turn of the event loop, with the same or a later `now`).
   *
   * @returns the number of slots fired (`limit` when some may remain)
   */
  advance(now: number, onDue: (slot: number) => void, limit = Number.POSITIVE_INFINITY): number {
    const target = Math.floor(now / this.#tickMs);
    let fired = 0;
    if (target > this.#current) {
      const steps = Math.min(target - this.#current, this.#mask + 1);
      const start = this.#current;
      for (let i = 1; i <= steps; i++) {
        // Advance as we go, so a callback scheduling "as soon as possible"
        // lands in a bucket still ahead of us.
        this.#current = start + i;
        try {
          fired += this.#fire((start + i) & this.#mask, now, onDue, limit - fired);
        } catch (err) {
          this.#current = start + i - 1; // this bucket again next time
          throw err;
        }
        if (fired >= limit) {
          this.#current = start + i - 1; // the rest of this bucket, and those after it, next time
          return fired;
        }
      }
      this.#current = target;
    }
    // The bucket of the tick in progress: entries already due fire now, not
    // at its boundary.
    return fired + this.#fire((target + 1) & this.#mask, now, onDue, limit - fired);
  }

  // Fires the entries of `bucket` due at or before `now`, at most `limit`; the others stay.
  #fire(bucket: number, now: number, onDue: (slot: number) => void, limit: number): number {
    if (this.#heads[bucket] === NONE || limit <= 0) return 0;
    // Move the bucket to the firing list, then pop entries one at a time so
    // callbacks can schedule and cancel freely.
    this.#moveToFiring(bucket);
    let fired = 0;
    let slot = this.#heads[this.#firing] as number;
    while (slot !== NONE) {
      if (fired >= limit) {
        this.#restore(bucket);
        return fired;
      }
      this.#unlink(slot);
      if ((this.#due[slot] as number) > now) {
        this.#link(slot, bucket); // not yet (later in this tick, or a later round)
      } else {
        this.#next[slot] = UNSCHEDULED;
        this.#size--;
        fired++;
        try {
          onDue(slot);
        } catch (err) {
          this.#restore(bucket);
          throw err;
        }
      }
      slot = this.#heads[this.#firing] as number;
    }
    return fired;
  }

  // After a throwing callback: put the rest of the firing list back.
  #restore(bucket: number): void {
    let slot = this.#heads[this.#firing] as number;
    while (slot !== NONE) {
      this.#unlink(slot);
      this.#link(slot, bucket);
      slot = this.#heads[this.#firing] as number;
    }
  }

  #moveToFiring(bucket: number): void {
    const head = this.#heads[bucket] as number;
    this.#heads[bucket] = NONE;
    this.#heads[this.#firing] = head;
    this.#prev[head] = -this.#firing - 1;
  }

  #link(slot: number, bucket: number): void {
    const head = this.#heads[bucket] as number;
    this.#next[slot] = head;
    this.#prev[slot] = -bucket - 1;
    if (head !== NONE) this.#prev[head] = slot;
    this.#heads[bucket] = slot;
  }

  #unlink(slot: number): void {
    const next = this.#next[slot] as number;
    const prev = this.#prev[slot] as number;
    if (prev >= 0) this.#next[prev] = next;
    else this.#heads[-prev - 1] = next;
    if (next !== NONE) this.#prev[next] = prev;
  }

  #grow(min: number): void {
    let capacity = this.#capacity * 2;
    while (capacity < min) capacity *= 2;
    const next = new Int32Array(capacity).fill(UNSCHEDULED);
    next.set(this.#next);
    const prev = new Int32Array(capacity);
    prev.set(this.#prev);
    const due = new Float64Array(capacity);
    due.set(this.#due);
    this.#next = next;
    this.#prev = prev;
    this.#due = due;
    this.#capacity = capacity;
  }
}
