/**
 * A first-in-first-out queue on a growable ring buffer: `push`, `shift`
 * and `unshift` are O(1) whatever the length (`Array#shift` is O(n), and
 * cost seconds with 100,000 frames queued at once), and it keeps no
 * reference to what has left it.
 */
export class Fifo<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  /** @param capacity - initial room (a power of two is kept; grows by doubling) */
  constructor(capacity = 8) {
    let c = 2;
    while (c < capacity) c *= 2;
    this.#items = new Array<T | undefined>(c);
  }

  /** Number of queued items. */
  get length(): number {
    return this.#length;
  }

  /** The first item, if any, without removing it. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Appends an item at the end. */
  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** Puts an item back at the front. */
  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** Removes and returns the first item. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  /** Removes every item. */
  clear(): void {
    this.#items = new Array<T | undefined>(8);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const old = this.#items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#length; i++) next[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}
