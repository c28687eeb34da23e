import {
  DeliveryKind,
  type Delivery,
  ErrorCode,
  type Frame,
  HbError,
  OverflowPolicy,
  type OverflowMode,
  type PresenceEvent,
  type ProtocolError,
  type Reply,
  type Subscribed,
  errorCodeName,
  makeFrame,
} from "@hb/codec";
import type { SendErrorInfo } from "./client-events.js";
import type { Connection } from "./connection.js";
import {
  Message,
  type MessageKind,
  type Payload,
  type ReplyBody,
  type ReplyMessage,
  payloadBytes,
  quiet,
  replyMessage,
} from "./message.js";
import { MessageBuffer } from "./message-buffer.js";
import { labelsProblem, nodeIdProblem } from "./node-limits.js";
import { LANE_DIRECT, LANE_PUBLISH, type Lane, Outbox, type OutboxLimits } from "./outbox.js";
import { type PresenceNotice, presenceNotice } from "./presence.js";
import { FIRST_REQUEST_ID, RequestTable } from "./request-table.js";
import { PRESENCE_SUBJECT, assertPublishSubject, isReservedSubject, subjectProblem } from "./subject.js";
import {
  DEFAULT_SUBSCRIPTION_BUFFER,
  type SubscribeOptions,
  Subscription,
  type SubscriptionControl,
  type WatchPresenceOptions,
} from "./subscription.js";
import { FIRST_SUBSCRIBE_ID, type SubscriptionEntry, SubscriptionTable } from "./subscription-table.js";

/** Who {@link HeartbeatClient.request} asks: one node (a Send) or a subject (a Publish; the first reply wins). */
export type RequestTarget =
  | {
      /** Node id of the one node asked. */
      readonly node: string;
    }
  | {
      /** Concrete subject: every subscriber gets the request; the first reply wins. */
      readonly subject: string;
    };

/** Options of {@link HeartbeatClient.request}. */
export interface RequestOptions {
  /** ms to wait for the reply, from the call; default the client's `requestTimeout` (5000). */
  timeout?: number;
  /** Gives up when aborted: rejects with the signal's reason (a frame not yet sent is withdrawn). */
  signal?: AbortSignal;
}

/**
 * Answers direct requests ({@link HeartbeatClient.onRequest}). The value
 * returned (or resolved) is sent as the Reply payload (`undefined`: empty);
 * a throw (or rejection) sends a Reply with `error_code` `INTERNAL` and the
 * error's message.
 */
export type RequestHandler = (message: Message) => Payload | undefined | Promise<Payload | undefined>;

/** Options of {@link HeartbeatClient.messages}. */
export interface MessagesOptions {
  /** Local buffer, messages (drop-oldest, counted in `stats().dropped`); default 1000. */
  queueSize?: number;
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
}

/** What the router needs from its client. @internal */
export interface RouterHost {
  /** The connection, when a session is up (after Welcome). */
  readonly connection: Connection | undefined;
  /** Emits `message` on the client. */
  emitMessage(message: Message): void;
  /** Reports a non-fatal server error that concerns no pending operation. */
  emitSendError(info: SendErrorInfo): void;
  /** Gateway mode: the handle of an attached node (0 if it is not attached). */
  handleOf(nodeId: string): number;
}

/** Counters of the router, for `stats()`. @internal */
export interface RouterStats {
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly dropped: number;
  readonly pendingRequests: number;
  readonly subscriptions: number;
  readonly pendingBytes: number;
}

/** What a Welcome says about routing. @internal */
export interface RouterWelcome extends OutboxLimits {
  /** `Welcome.resumed`. */
  readonly resumed: boolean;
}

const OVERFLOW: Readonly<Record<OverflowMode, OverflowPolicy>> = {
  "drop-oldest": OverflowPolicy.DROP_OLDEST,
  "drop-newest": OverflowPolicy.DROP_NEWEST,
  disconnect: OverflowPolicy.DISCONNECT,
};

const EMPTY = new Uint8Array(0);

const abortReason = (signal: AbortSignal): Error =>
  (signal.reason as Error | undefined) ?? new DOMException("This operation was aborted", "AbortError");

const rejected = (err: unknown): Promise<never> => quiet(Promise.reject(err));

function queueSizeOf(options: { queueSize?: number }, what: string): number | undefined {
  const q = options.queueSize;
  if (q === undefined) return undefined;
  if (typeof q !== "number" || !Number.isInteger(q) || q < 1 || q > 0xffff_ffff) {
    throw new RangeError(`${what}.queueSize must be an integer in 1..4294967295, got ${String(q)}`);
  }
  return q;
}

/**
 * The channel and routing side of a client (PROTOCOL.md §10–12):
 * subscriptions and their channel numbers, publish / send / broadcast
 * through the {@link Outbox}, request / reply, direct messages, presence
 * watches, flow-control credit. The {@link HeartbeatClient} owns one and
 * feeds it frames and connection events.
 * @internal
 */
export class ChannelRouter {
  readonly #host: RouterHost;
  readonly #outbox: Outbox;
  readonly #requests = new RequestTable();
  readonly #table = new SubscriptionTable();
  readonly #inboxes = new Set<MessageBuffer<Message>>();
  readonly #requestTimeout: number;
  #handler: RequestHandler | undefined;
  #closed: Error | undefined;
  #messagesIn = 0;
  #droppedGone = 0;
  readonly #responder = (m: Message, body: ReplyBody): Promise<void> => this.#reply(m, body);

  constructor(host: RouterHost, options: { maxPendingBytes: number; requestTimeout: number }) {
    this.#host = host;
    this.#outbox = new Outbox({ maxPendingBytes: options.maxPendingBytes });
    this.#requestTimeout = options.requestTimeout;
  }

  /** Current counters. */
  stats(): RouterStats {
    let dropped = this.#droppedGone;
    for (const e of this.#table.entries()) dropped += e.sub.dropped;
    for (const b of this.#inboxes) dropped += b.dropped;
    return {
      messagesIn: this.#messagesIn,
      messagesOut: this.#outbox.sent,
      dropped,
      pendingRequests: this.#requests.size,
      subscriptions: this.#table.size,
      pendingBytes: this.#outbox.pendingBytes,
    };
  }

  // ── API ───────────────────────────────────────────────────────────────

  subscribe(subject: string, options: SubscribeOptions): Subscription<Message> {
    const problem = subjectProblem(subject, true);
    if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
    if (isReservedSubject(subject)) {
      throw new HbError(
        ErrorCode.INVALID_ARGUMENT,
        `subject ${JSON.stringify(subject)} is reserved${subject === PRESENCE_SUBJECT ? ": use watchPresence() for presence events" : ""}`,
      );
    }
    return this.#add<Message>(subject, false, {}, options, "subscribe options");
  }

  watchPresence(options: WatchPresenceOptions): Subscription<PresenceNotice> {
    const labels = options.labels ?? {};
    const problem = labelsProblem(labels, "labels");
    if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
    return this.#add<PresenceNotice>(PRESENCE_SUBJECT, true, { ...labels }, options, "watchPresence options", options.snapshot === true);
  }

  publish(subject: string, payload: Payload): Promise<void> {
    let bytes: Uint8Array;
    try {
      assertPublishSubject(subject);
      bytes = payloadBytes(payload);
    } catch (err) {
      return rejected(err);
    }
    return this.#enqueue(LANE_PUBLISH, makeFrame("publish", { subject, payload: bytes }), bytes.length);
  }

  send(nodeId: string, payload: Payload): Promise<void> {
    let bytes: Uint8Array;
    try {
      const problem = nodeIdProblem(nodeId, "nodeId");
      if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
      bytes = payloadBytes(payload);
    } catch (err) {
      return rejected(err);
    }
    return this.#enqueue(LANE_DIRECT, makeFrame("send", { nodeId, payload: bytes }), bytes.length);
  }

  broadcast(payload: Payload): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = payloadBytes(payload);
    } catch (err) {
      return rejected(err);
    }
    return this.#enqueue(LANE_DIRECT, makeFrame("broadcast", { payload: bytes }), bytes.length);
  }

  request(target: RequestTarget, payload: Payload, options: RequestOptions): Promise<ReplyMessage> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    let bytes: Uint8Array;
    let timeout: number;
    let lane: Lane;
    let describe: string;
    let frame: (requestId: bigint) => Frame;
    try {
      if (target === null || typeof target !== "object") throw new TypeError("target must be { node } or { subject }");
      if ("node" in target) {
        const node = target.node;
        const problem = nodeIdProblem(node, "target.node");
        if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
        lane = LANE_DIRECT;
        describe = `node ${JSON.stringify(node)}`;
        frame = (requestId) => makeFrame("send", { nodeId: node, payload: bytes, requestId });
      } else if ("subject" in target) {
        const subject = target.subject;
        assertPublishSubject(subject);
        lane = LANE_PUBLISH;
        describe = `subject ${JSON.stringify(subject)}`;
        frame = (requestId) => makeFrame("publish", { subject, payload: bytes, requestId });
      } else {
        throw new TypeError("target must be { node } or { subject }");
      }
      bytes = payloadBytes(payload);
      timeout = options.timeout ?? this.#requestTimeout;
      if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > 2_147_483_647) {
        throw new RangeError(`timeout must be an integer in 1..2147483647 ms, got ${String(timeout)}`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    let item: ReturnType<Outbox["enqueue"]> | undefined;
    const { id, promise } = this.#requests.open({
      timeoutMs: timeout,
      signal: options.signal,
      target: describe,
      onGiveUp: (err) => {
        if (item !== undefined) this.#outbox.cancel(item, err);
      },
    });
    if (!this.#requests.has(id)) return promise; // signal already aborted
    try {
      item = this.#outbox.enqueue(lane, frame(id), bytes.length);
      item.promise.catch((err: Error) => this.#requests.reject(id, err));
    } catch (err) {
      this.#requests.reject(id, err as Error);
    }
    return promise;
  }

  onRequest(handler: RequestHandler | undefined): void {
    if (handler !== undefined && typeof handler !== "function") throw new TypeError("handler must be a function");
    this.#handler = handler;
  }

  messages(options: MessagesOptions): AsyncIterableIterator<Message> {
    const size = queueSizeOf(options, "messages options") ?? DEFAULT_SUBSCRIPTION_BUFFER;
    const buffer = new MessageBuffer<Message>(size);
    const signal = options.signal;
    const stop = (): void => {
      if (!this.#inboxes.delete(buffer)) return;
      this.#droppedGone += buffer.dropped;
      buffer.end(undefined, true);
      signal?.removeEventListener("abort", stop);
    };
    if (this.#closed !== undefined || signal?.aborted) buffer.end();
    else {
      this.#inboxes.add(buffer);
      signal?.addEventListener("abort", stop, { once: true });
    }
    const it: AsyncIterableIterator<Message> = {
      next: () => buffer.next(),
      return: () => {
        stop();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  // ── connection events ─────────────────────────────────────────────────

  /** A session is up on `conn`: subscribe everything (again) and start sending. */
  welcome(conn: Connection, w: RouterWelcome): void {
    const plan = this.#table.planWelcome(w.resumed);
    for (const ch of plan.unsubscribe) conn.send(makeFrame("unsubscribe", {}, ch));
    for (const entry of plan.subscribe) this.#sendSubscribe(conn, entry);
    this.#outbox.attach(conn, w);
  }

  /**
   * The connection is being left (a GoAway with a reconnect delay): nothing
   * more is handed to it, messages wait for the next connection, while its
   * subscriptions keep receiving until it is lost.
   */
  hold(): void {
    this.#outbox.detach();
  }

  /** The session's connection is gone. */
  connectionLost(): void {
    this.#outbox.detach();
    this.#table.connectionLost();
    for (const e of this.#table.entries()) e.control.suspend();
  }

  /** The connection can take more data. */
  writable(): void {
    this.#outbox.pump();
  }

  /**
   * The client stops: waiting sends and requests reject with `reason`,
   * subscriptions and message iterators end (throwing `reason` when
   * `failed`, else quietly).
   */
  close(reason: Error, failed: boolean): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.#outbox.failAll(reason);
    this.#requests.rejectAll(reason);
    for (const e of this.#table.removeAll()) e.control.close(failed ? reason : undefined, reason);
    for (const b of [...this.#inboxes]) {
      this.#inboxes.delete(b);
      this.#droppedGone += b.dropped;
      b.end(failed ? reason : undefined);
    }
  }

  // ── frames ────────────────────────────────────────────────────────────

  /** Handles a routing frame from the server. @returns `false` if it is not one */
  handleFrame(frame: Frame): boolean {
    const body = frame.body;
    switch (body.case) {
      case "subscribed":
        this.#onSubscribed(body.value);
        return true;
      case "delivery":
        this.#onDelivery(frame.channel, body.value);
        return true;
      case "presence":
        this.#onPresence(frame.channel, body.value);
        return true;
      case "reply":
        this.#onReply(body.value);
        return true;
      case "windowUpdate":
        if (frame.channel === 0) this.#outbox.grant(body.value.credit);
        return true;
      default:
        return false;
    }
  }

  /**
   * A non-fatal ProtocolError: settles the operation it names (a Subscribe,
   * a request, a subscription's channel).
   *
   * @returns `false` if it names none of them
   */
  handleError(e: ProtocolError, channel: number): boolean {
    const err = new HbError(e.code, e.message === "" ? `server error ${errorCodeName(e.code)}` : e.message);
    const ref = e.ref;
    if (ref >= BigInt(FIRST_SUBSCRIBE_ID) && ref <= 0xffff_ffffn) {
      const entry = this.#table.refuse(Number(ref));
      if (entry !== undefined) {
        entry?.control.close(err);
        return true;
      }
    }
    if (ref >= FIRST_REQUEST_ID) {
      this.#requests.reject(ref, err); // a late answer to one that gave up is dropped
      return true;
    }
    if (e.code === ErrorCode.UNKNOWN_CHANNEL && channel !== 0) {
      const entry = this.#table.unknownChannel(channel);
      if (entry !== undefined) {
        entry?.control.close(err);
        return true;
      }
    }
    return false;
  }

  #onSubscribed(s: Subscribed): void {
    if (s.channel === 0) return; // not a channel a server may assign
    const found = this.#table.confirm(s.requestId, s.channel);
    if (found === undefined) return;
    if ("entry" in found) found.entry.control.activate(s.channel);
    else this.#host.connection?.send(makeFrame("unsubscribe", {}, found.orphanChannel));
  }

  #onDelivery(channel: number, d: Delivery): void {
    const requestId = d.requestId === 0n ? undefined : d.requestId;
    if (channel !== 0) {
      const entry = this.#table.byChannel(channel);
      if (entry === undefined || entry.presence) return; // unknown (e.g. just unsubscribed): dropped
      this.#messagesIn++;
      const m = this.#message("publish", d, requestId);
      (entry.control as SubscriptionControl<Message>).deliver(m);
      return;
    }
    let kind: MessageKind;
    if (d.kind === DeliveryKind.DIRECT) kind = "direct";
    else if (d.kind === DeliveryKind.BROADCAST) kind = "broadcast";
    else return; // a publish belongs to a subscription channel
    this.#messagesIn++;
    const m = this.#message(kind, d, kind === "direct" ? requestId : undefined);
    const handler = this.#handler;
    if (handler !== undefined && m.requestId !== undefined) {
      this.#runHandler(handler, m);
      return;
    }
    this.#host.emitMessage(m);
    for (const b of this.#inboxes) b.push(m);
  }

  #message(kind: MessageKind, d: Delivery, requestId: bigint | undefined): Message {
    return new Message(
      {
        kind,
        subject: d.subject,
        from: d.fromNodeId,
        // Copy: decoded bytes are views into the socket's read buffer (a Buffer,
        // whose slice() would be a view too).
        payload: new Uint8Array(d.payload),
        requestId,
        to: d.toNodeId === "" ? undefined : d.toNodeId,
      },
      requestId === undefined ? undefined : this.#responder,
    );
  }

  #onPresence(channel: number, e: PresenceEvent): void {
    const entry = this.#table.byChannel(channel);
    if (entry === undefined || !entry.presence) return;
    this.#messagesIn++;
    (entry.control as SubscriptionControl<PresenceNotice>).deliver(presenceNotice(e));
  }

  #onReply(r: Reply): void {
    this.#messagesIn++;
    if (r.errorCode !== ErrorCode.UNSPECIFIED) {
      const detail = r.errorMessage === "" ? `request failed with ${errorCodeName(r.errorCode)}` : r.errorMessage;
      this.#requests.reject(r.requestId, new HbError(r.errorCode, r.nodeId === "" ? detail : `${detail} (${r.nodeId})`));
      return;
    }
    this.#requests.resolve(r.requestId, replyMessage(r.nodeId, new Uint8Array(r.payload), r.requestId));
  }

  #runHandler(handler: RequestHandler, m: Message): void {
    const fail = (err: unknown): void => {
      void m.respondError(ErrorCode.INTERNAL, err instanceof Error ? err.message : String(err));
    };
    let result: ReturnType<RequestHandler>;
    try {
      result = handler(m);
    } catch (err) {
      fail(err);
      return;
    }
    Promise.resolve(result).then((payload) => {
      let bytes: Uint8Array;
      try {
        bytes = payload === undefined ? EMPTY : payloadBytes(payload, "the request handler's result");
      } catch (err) {
        fail(err);
        return;
      }
      void m.respond(bytes);
    }, fail);
  }

  // ── sending ───────────────────────────────────────────────────────────

  #reply(m: Message, body: ReplyBody): Promise<void> {
    const frame = makeFrame("reply", {
      nodeId: m.from,
      requestId: m.requestId,
      payload: body.payload,
      errorCode: body.errorCode,
      errorMessage: body.errorMessage,
      fromHandle: m.to === undefined ? 0 : this.#host.handleOf(m.to),
    });
    return this.#enqueue(LANE_DIRECT, frame, body.payload.length);
  }

  #enqueue(lane: Lane, frame: Frame, cost: number): Promise<void> {
    if (this.#closed !== undefined) return rejected(this.#closed);
    try {
      return quiet(this.#outbox.enqueue(lane, frame, cost).promise);
    } catch (err) {
      return rejected(err);
    }
  }

  #add<T>(
    subject: string,
    presence: boolean,
    labelFilter: Record<string, string>,
    options: SubscribeOptions,
    what: string,
    snapshot = false,
  ): Subscription<T> {
    if (this.#closed !== undefined) throw this.#closed;
    if (options === null || typeof options !== "object") throw new TypeError(`${what} must be an object`);
    const queueSize = queueSizeOf(options, what);
    const overflowMode = options.overflow;
    if (overflowMode !== undefined && !(overflowMode in OVERFLOW)) {
      throw new RangeError(`${what}.overflow must be "drop-oldest", "drop-newest" or "disconnect", got ${String(overflowMode)}`);
    }
    const signal = options.signal;
    let control: SubscriptionControl<T> | undefined;
    let entry: SubscriptionEntry | undefined;
    let onAbort: (() => void) | undefined;
    const sub = new Subscription<T>(
      subject,
      queueSize ?? DEFAULT_SUBSCRIPTION_BUFFER,
      {
        unsubscribe: (s) => this.#unsubscribe(s as Subscription<unknown>),
        closed: (s) => {
          if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
          // Refused, or the client closed: already out of the table. Otherwise (unsubscribed) too.
          if (entry !== undefined) this.#table.remove(entry);
          this.#droppedGone += s.dropped;
        },
      },
      (c) => {
        control = c;
      },
    );
    const ctl = control as SubscriptionControl<T>;
    if (signal?.aborted) {
      ctl.close(undefined, abortReason(signal));
      return sub;
    }
    entry = this.#table.add({
      sub: sub as Subscription<unknown>,
      control: ctl as SubscriptionControl<unknown>,
      presence,
      labelFilter,
      snapshot,
      overflow: overflowMode === undefined ? OverflowPolicy.UNSPECIFIED : OVERFLOW[overflowMode],
      queueSize: queueSize ?? 0,
    });
    if (signal !== undefined) {
      onAbort = (): void => {
        this.#unsubscribe(sub as Subscription<unknown>);
        ctl.close(undefined, abortReason(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }
    const conn = this.#host.connection;
    if (conn !== undefined) this.#sendSubscribe(conn, entry);
    return sub;
  }

  #unsubscribe(sub: Subscription<unknown>): void {
    const entry = this.#table.get(sub);
    if (entry === undefined) return;
    const channel = this.#table.remove(entry);
    if (channel !== undefined) this.#host.connection?.send(makeFrame("unsubscribe", {}, channel));
  }

  #sendSubscribe(conn: Connection, entry: SubscriptionEntry): void {
    const requestId = this.#table.nextRequestId();
    this.#table.markSent(entry, requestId);
    conn.send(
      makeFrame("subscribe", {
        requestId,
        subject: entry.sub.subject,
        labelFilter: { ...entry.labelFilter },
        snapshot: entry.snapshot,
        overflow: entry.overflow,
        queueSize: entry.queueSize,
      }),
    );
  }
}
