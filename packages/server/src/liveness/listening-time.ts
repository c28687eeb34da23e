/** Stalls remembered: older ones are merged into one (which can only make verdicts later, never earlier). */
const CAPACITY = 64;

/**
 * The periods during which the server could not listen (its event loop
 * stalled), so that silence is counted in **listening time**
 * (docs/PROTOCOL.md §6.3): a node's silence is the time since it was last
 * heard minus the stalls since then.
 *
 * A stall is known only after it ended, as a lateness `ms` of the liveness
 * timer observed at `end`; where inside the gap it fell is unknown, so it
 * is taken to lie just before `end` (the latest placement), which counts
 * the most of it against a node heard during the gap: verdicts can only be
 * later, never earlier, than with the true placement.
 *
 * Kept in a ring of 64 stalls; when it is full the two oldest are merged
 * into one spanning both (again: later verdicts, never earlier).
 */
export class ListeningTime {
  // Ring of stalls: end time and length, ms.
  readonly #end = new Float64Array(CAPACITY);
  readonly #length = new Float64Array(CAPACITY);
  #head = 0; // index of the oldest
  #count = 0;
  #total = 0;
  #stalls = 0;

  /** Number of stalls recorded. */
  get stalls(): number {
    return this.#stalls;
  }

  /** Total stalled time recorded, ms. */
  get totalMs(): number {
    return this.#total;
  }

  /**
   * Records a stall of `ms` that ended at `end` (monotonic ms, non-decreasing
   * between calls). A stall overlapping the previous one (two observers saw
   * the same gap) extends it instead of counting twice.
   */
  record(end: number, ms: number): void {
    if (!(ms > 0)) return;
    if (this.#count > 0) {
      const last = (this.#head + this.#count - 1) % CAPACITY;
      const lastEnd = this.#end[last] as number;
      const lastLength = this.#length[last] as number;
      if (end - ms < lastEnd) {
        const start = Math.min(lastEnd - lastLength, end - ms);
        const end2 = Math.max(end, lastEnd);
        this.#total += end2 - start - lastLength;
        this.#end[last] = end2;
        this.#length[last] = end2 - start;
        return;
      }
    }
    this.#stalls++;
    this.#total += ms;
    if (this.#count === CAPACITY) {
      // Merge the two oldest: the merged stall ends where the second did and covers both.
      const a = this.#head;
      const b = (a + 1) % CAPACITY;
      const start = (this.#end[a] as number) - (this.#length[a] as number);
      this.#length[b] = (this.#end[b] as number) - start;
      this.#head = b;
      this.#count--;
    }
    const i = (this.#head + this.#count) % CAPACITY;
    this.#end[i] = end;
    this.#length[i] = ms;
    this.#count++;
  }

  /** Stalled time within (`since`, `now`], ms: what does not count as silence of a node last heard at `since`. */
  since(since: number, now: number): number {
    let total = 0;
    for (let k = this.#count - 1; k >= 0; k--) {
      const i = (this.#head + k) % CAPACITY;
      const end = Math.min(this.#end[i] as number, now);
      if (end <= since) break; // older stalls end earlier still
      total += Math.min(this.#length[i] as number, end - since);
    }
    return total;
  }

  /** Silence of a node last heard at `lastHeard`, in listening time, at `now`. */
  silence(lastHeard: number, now: number): number {
    const elapsed = now - lastHeard;
    return this.#count === 0 ? elapsed : elapsed - this.since(lastHeard, now);
  }
}
