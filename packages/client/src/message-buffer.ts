/**
 * A bounded FIFO between a producer that must never block (the socket's
 * read loop) and an async consumer (`for await`): when full, the oldest
 * item is dropped and counted. {@link MessageBuffer.end} finishes the
 * iteration once the buffered items are consumed, optionally with an error
 * that the consumer's next `next()` throws.
 */
export class MessageBuffer<T> {
  readonly #limit: number;
  #items: T[] = [];
  #head = 0;
  #waiters: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];
  #ended = false;
  #error: unknown;
  #dropped = 0;

  /** @param limit - most items held, ≥ 1 */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Items dropped because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Items waiting to be consumed. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Whether {@link MessageBuffer.end} was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Adds an item (hands it straight to a waiting consumer if there is one).
   *
   * @returns `false` if an older item had to be dropped to make room, or the buffer has ended (item ignored)
   */
  push(item: T): boolean {
    if (this.#ended) return false;
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.resolve({ value: item, done: false });
      return true;
    }
    let ok = true;
    if (this.size >= this.#limit) {
      this.#shift();
      this.#dropped++;
      ok = false;
    }
    this.#items.push(item);
    return ok;
  }

  /** The next item; waits for one. Resolves `done` after {@link MessageBuffer.end} once empty. */
  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) return Promise.resolve({ value: this.#shift() as T, done: false });
    if (this.#ended) {
      if (this.#error !== undefined) {
        const err = this.#error;
        this.#error = undefined; // thrown once, then plain done
        return Promise.reject(err);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * No more items: consumers get what is buffered, then `done` (or `error`,
   * once). With `discard`, buffered items are dropped (not counted).
   */
  end(error?: unknown, discard = false): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    if (discard) {
      this.#items = [];
      this.#head = 0;
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (this.#error !== undefined) {
        w.reject(this.#error);
        this.#error = undefined;
      } else {
        w.resolve({ value: undefined, done: true });
      }
    }
  }

  #shift(): T | undefined {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return item;
  }
}
