import type { OverflowPolicy } from "@hb/codec";
import type { Subscription, SubscriptionControl } from "./subscription.js";

/**
 * First `Subscribe.request_id`. Subscribe request ids count up from 2^31
 * (wrapping within [2^31, 2^32)), so they never equal an attach handle
 * (small numbers from 1) or a Publish/Send request id (from 2^32) that is
 * outstanding at the same time: a `ProtocolError.ref` names exactly one of
 * them (PROTOCOL.md §13.2).
 */
export const FIRST_SUBSCRIBE_ID = 2 ** 31;

/** One subscription as the client tracks it on the wire. */
export interface SubscriptionEntry {
  /** The user's object. */
  readonly sub: Subscription<unknown>;
  /** Drives it. */
  readonly control: SubscriptionControl<unknown>;
  /** Whether it is a `$hb.presence` subscription (PresenceEvent frames). */
  readonly presence: boolean;
  /** `Subscribe.label_filter`. */
  readonly labelFilter: Readonly<Record<string, string>>;
  /** `Subscribe.snapshot`. */
  readonly snapshot: boolean;
  /** `Subscribe.overflow`. */
  readonly overflow: OverflowPolicy;
  /** `Subscribe.queue_size` (0: the server's default). */
  readonly queueSize: number;
  /**
   * On the current connection: `unsent` (no Subscribe yet), `pending`
   * (Subscribe sent, `requestId` set), `active` (`channel` set).
   */
  state: "unsent" | "pending" | "active";
  /** Request id of the Subscribe in flight. */
  requestId: number;
  /** Channel on the current connection, when active. */
  channel: number | undefined;
}

/** What {@link SubscriptionTable.confirm} found for a Subscribed. */
export type ConfirmResult =
  | { readonly entry: SubscriptionEntry }
  | { readonly orphanChannel: number }
  | undefined;

/**
 * The subscriptions of one client: request ids, channel numbers and what
 * to send after a (re)connect. Pure data, no I/O.
 *
 * After a reconnect every subscription is subscribed again, with a new
 * request id, and gets a new channel (PROTOCOL.md §8.2: a resume does not
 * restore subscriptions). On a *resumed* session the channels of the lost
 * connection are unsubscribed first ({@link SubscriptionTable.planWelcome}),
 * so that a server that does keep subscriptions across a resume (as
 * DECISIONS.md once had it) holds no stale copies; a server that does not
 * keep them answers `UNKNOWN_CHANNEL`, which the client ignores for those
 * channels ({@link SubscriptionTable.isRetired}).
 */
export class SubscriptionTable {
  readonly #entries = new Set<SubscriptionEntry>();
  readonly #bySub = new Map<Subscription<unknown>, SubscriptionEntry>();
  readonly #byRequest = new Map<number, SubscriptionEntry>();
  readonly #byChannel = new Map<number, SubscriptionEntry>();
  /** Request ids of Subscribes whose subscription ended before the answer. */
  readonly #orphans = new Set<number>();
  /** Channels unsubscribed after a resume (an `UNKNOWN_CHANNEL` for them is expected). */
  readonly #retired = new Set<number>();
  #lostChannels: number[] = [];
  #nextId = FIRST_SUBSCRIBE_ID;

  /** Number of subscriptions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Every subscription, in the order they were added. */
  entries(): IterableIterator<SubscriptionEntry> {
    return this.#entries.values();
  }

  /** Adds a subscription (state `unsent`). */
  add(entry: Omit<SubscriptionEntry, "state" | "requestId" | "channel">): SubscriptionEntry {
    const e: SubscriptionEntry = { ...entry, state: "unsent", requestId: 0, channel: undefined };
    this.#entries.add(e);
    this.#bySub.set(e.sub, e);
    return e;
  }

  /** The entry of a subscription object. */
  get(sub: Subscription<unknown>): SubscriptionEntry | undefined {
    return this.#bySub.get(sub);
  }

  /** The active subscription on a channel of the current connection. */
  byChannel(channel: number): SubscriptionEntry | undefined {
    return this.#byChannel.get(channel);
  }

  /** The subscription whose Subscribe with this request id is unanswered. */
  byRequest(requestId: number): SubscriptionEntry | undefined {
    return this.#byRequest.get(requestId);
  }

  /** A fresh Subscribe request id, not in use. */
  nextRequestId(): number {
    let id = this.#nextId;
    while (this.#byRequest.has(id) || this.#orphans.has(id)) id = id >= 0xffff_ffff ? FIRST_SUBSCRIBE_ID : id + 1;
    this.#nextId = id >= 0xffff_ffff ? FIRST_SUBSCRIBE_ID : id + 1;
    return id;
  }

  /** Records that a Subscribe with `requestId` went out for `entry`. */
  markSent(entry: SubscriptionEntry, requestId: number): void {
    entry.state = "pending";
    entry.requestId = requestId;
    entry.channel = undefined;
    this.#byRequest.set(requestId, entry);
  }

  /**
   * Removes a subscription.
   *
   * @returns the channel to send Unsubscribe on (it was active), else
   *   `undefined` (if its Subscribe is in flight, the answer's channel is
   *   handed back by {@link SubscriptionTable.confirm} later)
   */
  remove(entry: SubscriptionEntry): number | undefined {
    if (!this.#entries.delete(entry)) return undefined;
    this.#bySub.delete(entry.sub);
    let unsubscribe: number | undefined;
    if (entry.state === "active" && entry.channel !== undefined) {
      this.#byChannel.delete(entry.channel);
      unsubscribe = entry.channel;
    } else if (entry.state === "pending") {
      this.#byRequest.delete(entry.requestId);
      this.#orphans.add(entry.requestId);
    }
    entry.state = "unsent";
    entry.channel = undefined;
    return unsubscribe;
  }

  /**
   * A Subscribed arrived: the entry it confirms (now `active` on
   * `channel`), or the channel of a subscription removed meanwhile (send
   * Unsubscribe on it), or `undefined` for an unknown request id.
   */
  confirm(requestId: number, channel: number): ConfirmResult {
    const entry = this.#byRequest.get(requestId);
    if (entry !== undefined) {
      this.#byRequest.delete(requestId);
      entry.state = "active";
      entry.channel = channel;
      this.#byChannel.set(channel, entry);
      return { entry };
    }
    if (this.#orphans.delete(requestId)) return { orphanChannel: channel };
    return undefined;
  }

  /**
   * A ProtocolError with `ref` = `requestId` arrived: removes the refused
   * subscription.
   *
   * @returns the entry, or `null` when the ref was a removed subscription's
   *   (handled), or `undefined` when it is no Subscribe's
   */
  refuse(requestId: number): SubscriptionEntry | null | undefined {
    const entry = this.#byRequest.get(requestId);
    if (entry !== undefined) {
      this.#byRequest.delete(requestId);
      this.#entries.delete(entry);
      this.#bySub.delete(entry.sub);
      entry.state = "unsent";
      return entry;
    }
    return this.#orphans.delete(requestId) ? null : undefined;
  }

  /**
   * The server says `channel` is not a live subscription: forgets it.
   *
   * @returns the subscription that was active on it (now removed), `null`
   *   when it was a channel retired after a resume (expected), or
   *   `undefined`
   */
  unknownChannel(channel: number): SubscriptionEntry | null | undefined {
    if (this.#retired.delete(channel)) return null;
    const entry = this.#byChannel.get(channel);
    if (entry === undefined) return undefined;
    this.#byChannel.delete(channel);
    this.#entries.delete(entry);
    this.#bySub.delete(entry.sub);
    entry.state = "unsent";
    entry.channel = undefined;
    return entry;
  }

  /**
   * The connection is gone: every subscription goes back to `unsent`; the
   * channels that were active are remembered for a resumed session.
   */
  connectionLost(): void {
    this.#lostChannels = [];
    for (const e of this.#entries) {
      if (e.state === "active" && e.channel !== undefined) this.#lostChannels.push(e.channel);
      e.state = "unsent";
      e.channel = undefined;
    }
    // Channels of subscriptions removed while their Subscribe was answered late are unknown;
    // a resumed session keeps nothing we can name, see the class comment.
    this.#byRequest.clear();
    this.#byChannel.clear();
    this.#orphans.clear();
    this.#retired.clear();
  }

  /**
   * What to send after a Welcome: on a resumed session, Unsubscribe for
   * every channel that was active on the lost connection (also those of
   * subscriptions removed while it was down); then Subscribe for every
   * subscription. The caller sends them and calls
   * {@link SubscriptionTable.markSent} for each Subscribe.
   */
  planWelcome(resumed: boolean): { unsubscribe: number[]; subscribe: SubscriptionEntry[] } {
    const unsubscribe = resumed ? this.#lostChannels : [];
    this.#lostChannels = [];
    for (const ch of unsubscribe) this.#retired.add(ch);
    return { unsubscribe, subscribe: [...this.#entries] };
  }

  /** Empties the table (the client closes); returns what it held. */
  removeAll(): SubscriptionEntry[] {
    const all = [...this.#entries];
    this.#entries.clear();
    this.#bySub.clear();
    this.#byRequest.clear();
    this.#byChannel.clear();
    this.#orphans.clear();
    this.#retired.clear();
    this.#lostChannels = [];
    return all;
  }
}
