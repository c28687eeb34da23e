/** Largest channel number (uint32). */
export const MAX_CHANNEL = 0xffff_ffff;

/**
 * A connection's subscriptions (`S`) by channel number. Channels are assigned
 * from 1 upwards and never reused on the connection (PROTOCOL.md §10.4), so
 * a late frame of an ended subscription can never be taken for a newer one.
 */
export class ChannelTable<S extends { readonly channel: number }> {
  readonly #byChannel = new Map<number, S>();
  #next = 1;

  /** Number of live subscriptions. */
  get size(): number {
    return this.#byChannel.size;
  }

  /** The next channel number, or 0 when all 2^32 − 1 have been used. Does not reserve it. */
  peekChannel(): number {
    return this.#next > MAX_CHANNEL ? 0 : this.#next;
  }

  /** Adds a subscription under the channel from {@link ChannelTable.peekChannel}. */
  add(sub: S): void {
    this.#byChannel.set(sub.channel, sub);
    this.#next = sub.channel + 1;
  }

  /** The subscription on `channel`, if live. */
  get(channel: number): S | undefined {
    return this.#byChannel.get(channel);
  }

  /** Removes the subscription on `channel`; returns it. */
  remove(channel: number): S | undefined {
    const sub = this.#byChannel.get(channel);
    if (sub !== undefined) this.#byChannel.delete(channel);
    return sub;
  }

  /** Removes and returns every subscription. */
  clear(): S[] {
    const all = [...this.#byChannel.values()];
    this.#byChannel.clear();
    return all;
  }

  /** The live subscriptions. */
  values(): IterableIterator<S> {
    return this.#byChannel.values();
  }
}
