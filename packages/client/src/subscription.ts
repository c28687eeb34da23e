import { EventEmitter } from "node:events";
import type { OverflowMode } from "@hb/codec";
import type { Message } from "./message.js";
import { MessageBuffer } from "./message-buffer.js";
import { quiet } from "./message.js";

/** Local buffer size of a subscription when `queueSize` is not given. */
export const DEFAULT_SUBSCRIPTION_BUFFER = 1000;

/** Options of {@link HeartbeatClient.subscribe}. */
export interface SubscribeOptions {
  /**
   * Queue limit in messages, 1..4 294 967 295: sent to the server as
   * `Subscribe.queue_size` (which the server clamps to its maximum) and used
   * as the size of the local buffer of the async iterator. Unset: the
   * server's default (1000) and a local buffer of 1000.
   */
  queueSize?: number;
  /**
   * What the server does when this subscription's queue on the server is
   * full: `"drop-oldest"` (the server default), `"drop-newest"`, or
   * `"disconnect"` (close the connection with `SLOW_CONSUMER`). The local
   * buffer always drops its oldest message, counted in
   * {@link Subscription.dropped}.
   */
  overflow?: OverflowMode;
  /** Unsubscribes when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link HeartbeatClient.watchPresence}. */
export interface WatchPresenceOptions extends SubscribeOptions {
  /**
   * Only events about nodes whose labels contain every entry (same key,
   * equal value); `Subscribe.label_filter`. Default: every node.
   */
  labels?: Readonly<Record<string, string>>;
  /**
   * First deliver a `joined` event with reason `"snapshot"` for every
   * matching node online at the time (`Subscribe.snapshot`), then live
   * events, so the watcher's view of the fleet is complete without a race.
   * Repeated after every reconnect. Default `false`.
   */
  snapshot?: boolean;
}

/**
 * Where a subscription stands:
 * - `pending`: waiting for the server's Subscribed (first time, or again
 *   after a reconnect);
 * - `active`: confirmed on the current connection, messages flow;
 * - `closed`: unsubscribed, refused, or the client closed; for good.
 */
export type SubscriptionState = "pending" | "active" | "closed";

/** Payload of a subscription's `close` event. */
export interface SubscriptionCloseInfo {
  /**
   * Why, unless it was {@link Subscription.unsubscribe}: the server's
   * refusal (`HbError`, e.g. `FORBIDDEN`, `INVALID_ARGUMENT`), or the
   * client's close or permanent failure.
   */
  readonly error?: Error;
}

/** Events of a {@link Subscription}, as `name: [argument]`. */
export interface SubscriptionEvents<T> {
  /** A message arrived. */
  message: [message: T];
  /** The subscription ended; emitted once. */
  close: [info: SubscriptionCloseInfo];
}

/** What the client drives a subscription with. @internal */
export interface SubscriptionControl<T> {
  /** The server confirmed it on channel `channel`. */
  activate(channel: number): void;
  /** The connection is gone; it will be subscribed again. */
  suspend(): void;
  /** A message arrived. */
  deliver(item: T): void;
  /**
   * It ended (for good). `error` (a failure) is thrown by the iterator and
   * reported in `close`; `notReady` only rejects a pending `ready`.
   */
  close(error?: Error, notReady?: Error): void;
}

/** What a subscription tells the client. @internal */
export interface SubscriptionHooks<T> {
  /** {@link Subscription.unsubscribe} was called (before it closes). */
  unsubscribe(sub: Subscription<T>): void;
  /** It closed, for whatever reason (called once). */
  closed(sub: Subscription<T>): void;
}

/**
 * A subscription to a subject or pattern, or to presence events.
 *
 * It is returned at once by {@link HeartbeatClient.subscribe} /
 * {@link HeartbeatClient.watchPresence} and becomes active when the server
 * confirms it (`await sub.ready`). Messages can be consumed two ways:
 *
 * ```ts
 * for await (const m of sub) console.log(m.subject, m.text()); // ends on unsubscribe/close
 * sub.on("message", (m) => …);                                 // or as events
 * ```
 *
 * **Buffering.** Messages are buffered for the async iterator, at most
 * `queueSize` of them; when full the oldest is dropped and counted in
 * {@link Subscription.dropped}. A subscription that has `message`
 * listeners and was never iterated does not buffer at all. Leaving a
 * `for await` loop early (`break`, `return`, a throw) unsubscribes.
 *
 * **Reconnects.** After a reconnect the client subscribes again by itself
 * (the server assigns a new channel); the object keeps working. Messages
 * published while the connection was down are lost (at most once).
 */
export class Subscription<T = Message> extends EventEmitter<SubscriptionEvents<T>> implements AsyncIterable<T> {
  /** The subject or pattern subscribed to (`"$hb.presence"` for presence). */
  readonly subject: string;
  /**
   * Resolves when the server first confirms the subscription (Subscribed);
   * rejects with the server's `HbError` (`ProtocolError` with `ref` = the
   * request id: `INVALID_ARGUMENT`, `FORBIDDEN`, `SERVER_FULL`,
   * `SHUTTING_DOWN`), with an `Error` if it is unsubscribed or the client
   * closes first, or with the signal's reason. Never an unhandled rejection
   * when nobody awaits it.
   */
  readonly ready: Promise<void>;
  readonly #buffer: MessageBuffer<T>;
  readonly #hooks: SubscriptionHooks<T>;
  #settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #state: SubscriptionState = "pending";
  #channel: number | undefined;
  #iterators = 0;
  #everIterated = false;

  /**
   * @internal Made by the client.
   * @param subject - subject or pattern
   * @param bufferSize - local buffer limit
   * @param hooks - what the client is told
   * @param bind - receives the control the client drives it with
   */
  constructor(
    subject: string,
    bufferSize: number,
    hooks: SubscriptionHooks<T>,
    bind: (control: SubscriptionControl<T>) => void,
  ) {
    super();
    this.subject = subject;
    this.#buffer = new MessageBuffer<T>(bufferSize);
    this.#hooks = hooks;
    this.ready = quiet(
      new Promise<void>((resolve, reject) => {
        this.#settle = { resolve, reject };
      }),
    );
    bind({
      activate: (channel) => {
        if (this.#state === "closed") return;
        this.#state = "active";
        this.#channel = channel;
        this.#settle?.resolve();
        this.#settle = undefined;
      },
      suspend: () => {
        if (this.#state === "closed") return;
        this.#state = "pending";
        this.#channel = undefined;
      },
      deliver: (item) => this.#deliver(item),
      close: (error, notReady) => this.#close(error, notReady),
    });
  }

  /** Where it stands. */
  get state(): SubscriptionState {
    return this.#state;
  }

  /** The channel number the server assigned on the current connection; `undefined` unless active. */
  get channel(): number | undefined {
    return this.#channel;
  }

  /** Messages dropped because the local buffer was full (the server counts its own drops). */
  get dropped(): number {
    return this.#buffer.dropped;
  }

  /** Messages waiting in the local buffer. */
  get pending(): number {
    return this.#buffer.size;
  }

  /**
   * Ends the subscription: sends `Unsubscribe` on its channel (or, if the
   * server has not confirmed it yet, as soon as it does). Messages already
   * buffered can still be iterated; no new ones arrive. Idempotent.
   */
  unsubscribe(): void {
    if (this.#state === "closed") return;
    this.#hooks.unsubscribe(this);
    this.#close(undefined, new Error(`unsubscribed from ${JSON.stringify(this.subject)} before the server confirmed it`));
  }

  /** Iterates the messages; ends when the subscription closes (throwing its error, if any). */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    this.#iterators++;
    this.#everIterated = true;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.#iterators--;
    };
    const it: AsyncIterableIterator<T> = {
      next: () => {
        if (finished) return Promise.resolve({ value: undefined, done: true });
        return this.#buffer.next().then(
          (r) => {
            if (r.done === true) finish();
            return r;
          },
          (err: unknown) => {
            finish();
            throw err;
          },
        );
      },
      return: () => {
        finish();
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  #deliver(item: T): void {
    if (this.#state === "closed") return;
    if (this.#iterators > 0 || (!this.#everIterated && this.listenerCount("message") === 0)) {
      this.#buffer.push(item);
    }
    this.emit("message", item);
  }

  #close(error: Error | undefined, notReady?: Error): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#channel = undefined;
    this.#settle?.reject(error ?? notReady ?? new Error("subscription closed"));
    this.#settle = undefined;
    this.#buffer.end(error);
    this.#hooks.closed(this);
    this.emit("close", error === undefined ? {} : { error });
  }
}
