import { ErrorCode } from "@hb/codec";

/** A message payload: bytes, or a string sent as UTF-8. */
export type Payload = Uint8Array | string;

/**
 * How a {@link Message} was addressed: published to a subject (it arrived on
 * a subscription), sent to this node directly, or broadcast to every node.
 */
export type MessageKind = "publish" | "direct" | "broadcast";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Converts a {@link Payload} to bytes (a string as UTF-8; bytes as they are,
 * not copied).
 *
 * @throws TypeError when `payload` is neither a string nor a Uint8Array
 */
export function payloadBytes(payload: Payload, what = "payload"): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  if (typeof payload === "string") return encoder.encode(payload);
  throw new TypeError(`${what} must be a Uint8Array or a string`);
}

/** What {@link Message.respond} and {@link Message.respondError} hand to the client. @internal */
export interface ReplyBody {
  /** Reply payload. */
  readonly payload: Uint8Array;
  /** Non-zero: the request failed. */
  readonly errorCode: ErrorCode;
  /** Detail for `errorCode`. */
  readonly errorMessage: string;
}

/** Sends a Reply for a request message. @internal */
export type Responder = (message: Message, reply: ReplyBody) => Promise<void>;

/** Fields of a {@link Message}. @internal */
export interface MessageInit {
  readonly kind: MessageKind;
  readonly subject: string;
  readonly from: string;
  readonly payload: Uint8Array;
  readonly requestId: bigint | undefined;
  readonly to: string | undefined;
}

/**
 * A message the server routed to this client: a delivery on a
 * {@link Subscription} (`kind: "publish"`), or a direct message or broadcast
 * (`client.on("message")`, {@link HeartbeatClient.messages}).
 *
 * A message with a {@link Message.requestId} is a request: answer it with
 * {@link Message.respond} (or {@link Message.respondError}).
 */
export class Message {
  /** How it was addressed. */
  readonly kind: MessageKind;
  /** The concrete subject it was published to; `""` for direct messages and broadcasts. */
  readonly subject: string;
  /** Node id of the sender; `""` when the server application sent it. */
  readonly from: string;
  /** The payload (a copy owned by this message). */
  readonly payload: Uint8Array;
  /** Set when the sender expects a reply: the requester's request id. */
  readonly requestId: bigint | undefined;
  /**
   * Gateway mode, direct messages only: the attached node the message is
   * for; `undefined` when it is for the connection's own node.
   */
  readonly to: string | undefined;
  readonly #responder: Responder | undefined;

  /** @internal Messages are made by the client. */
  constructor(init: MessageInit, responder?: Responder) {
    this.kind = init.kind;
    this.subject = init.subject;
    this.from = init.from;
    this.payload = init.payload;
    this.requestId = init.requestId;
    this.to = init.to;
    this.#responder = responder;
  }

  /** Whether the sender expects a reply. */
  get isRequest(): boolean {
    return this.requestId !== undefined;
  }

  /** The payload decoded as UTF-8. */
  text(): string {
    return decoder.decode(this.payload);
  }

  /**
   * Answers the request with `Reply { node_id: from, request_id, payload }`.
   * Queued like {@link HeartbeatClient.publish} (flow control applies).
   * Ignoring the returned promise never causes an unhandled rejection.
   *
   * @returns resolves once the Reply is queued
   * @throws Error (rejects) if the message is not a request, or the client closes first
   */
  respond(payload: Payload): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = payloadBytes(payload);
    } catch (err) {
      return quiet(Promise.reject(err));
    }
    return this.#reply({ payload: bytes, errorCode: ErrorCode.UNSPECIFIED, errorMessage: "" });
  }

  /**
   * Answers the request with a failure: `Reply { error_code, error_message }`.
   * The requester's `request()` rejects with `HbError(code, message)`.
   *
   * @param code - an error code other than `UNSPECIFIED` (e.g. `INTERNAL`, `FORBIDDEN`)
   * @param message - detail for people
   */
  respondError(code: ErrorCode, message = ""): Promise<void> {
    if (code === ErrorCode.UNSPECIFIED) {
      return quiet(Promise.reject(new RangeError("respondError needs an error code other than UNSPECIFIED")));
    }
    return this.#reply({ payload: new Uint8Array(0), errorCode: code, errorMessage: message });
  }

  #reply(body: ReplyBody): Promise<void> {
    if (this.requestId === undefined || this.#responder === undefined) {
      return quiet(Promise.reject(new Error("this message is not a request: there is nobody to reply to")));
    }
    return this.#responder(this, body);
  }
}

/** The answer to {@link HeartbeatClient.request}. */
export interface ReplyMessage {
  /** Node id of the replier (for a failed Send request, the target). */
  readonly from: string;
  /** The reply payload. */
  readonly payload: Uint8Array;
  /** The request id it answers. */
  readonly requestId: bigint;
  /** The payload decoded as UTF-8. */
  text(): string;
}

/** Builds a {@link ReplyMessage}. @internal */
export function replyMessage(from: string, payload: Uint8Array, requestId: bigint): ReplyMessage {
  return { from, payload, requestId, text: () => decoder.decode(payload) };
}

/**
 * Marks a promise as handled so that nobody awaiting it is not an
 * unhandled rejection; whoever awaits it still sees the rejection.
 * @internal
 */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
