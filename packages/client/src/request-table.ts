import { ErrorCode, HbError } from "@hb/codec";
import type { ReplyMessage } from "./message.js";

/**
 * First Publish/Send `request_id`. Request ids count up from 2^32 and are
 * never reused by a client, so they never equal a `Subscribe.request_id` or
 * an attach handle (both uint32): a `ProtocolError.ref` names exactly one
 * outstanding operation (PROTOCOL.md §13.2).
 */
export const FIRST_REQUEST_ID = 2n ** 32n;

interface Pending {
  readonly resolve: (reply: ReplyMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
  readonly onGiveUp: ((error: Error) => void) | undefined;
}

/** How {@link RequestTable.open} waits. */
export interface OpenRequestOptions {
  /** Rejects with `REQUEST_TIMEOUT` after this many ms. */
  readonly timeoutMs: number;
  /** Rejects with the signal's reason when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** What the request is, for the timeout message, e.g. `node "a"`. */
  readonly target: string;
  /** Called when the requester gives up (timeout or abort), e.g. to withdraw the unsent frame. */
  readonly onGiveUp?: (error: Error) => void;
}

const abortReason = (signal: AbortSignal): Error =>
  (signal.reason as Error | undefined) ?? new DOMException("This operation was aborted", "AbortError");

/**
 * The requests this client is waiting on: ids, timeouts, cancellation.
 * The first answer (a Reply, or a ProtocolError with `ref` = the id) wins;
 * later ones are ignored.
 */
export class RequestTable {
  readonly #pending = new Map<bigint, Pending>();
  #next = FIRST_REQUEST_ID;

  /** Requests waiting for an answer. */
  get size(): number {
    return this.#pending.size;
  }

  /** Whether `id` is a request still waiting. */
  has(id: bigint): boolean {
    return this.#pending.has(id);
  }

  /**
   * Registers a request.
   *
   * @returns its id and the promise its answer settles; if `signal` is
   *   already aborted the promise is rejected at once
   */
  open(options: OpenRequestOptions): { id: bigint; promise: Promise<ReplyMessage> } {
    const id = this.#next++;
    const promise = new Promise<ReplyMessage>((resolve, reject) => {
      const { signal, timeoutMs } = options;
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const timer = setTimeout(() => {
        this.#giveUp(id, new HbError(ErrorCode.REQUEST_TIMEOUT, `no reply from ${options.target} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = signal === undefined ? undefined : () => this.#giveUp(id, abortReason(signal));
      if (onAbort !== undefined) signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, { resolve, reject, timer, signal, onAbort, onGiveUp: options.onGiveUp });
    });
    return { id, promise };
  }

  /** Settles a request with its reply. @returns `false` if it was not waiting */
  resolve(id: bigint, reply: ReplyMessage): boolean {
    const p = this.#take(id);
    p?.resolve(reply);
    return p !== undefined;
  }

  /** Fails a request. @returns `false` if it was not waiting */
  reject(id: bigint, error: Error): boolean {
    const p = this.#take(id);
    p?.reject(error);
    return p !== undefined;
  }

  /** Fails every request (the client closes). */
  rejectAll(error: Error): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, error);
  }

  #giveUp(id: bigint, error: Error): void {
    const p = this.#take(id);
    if (p === undefined) return;
    p.onGiveUp?.(error);
    p.reject(error);
  }

  #take(id: bigint): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (p.onAbort !== undefined) p.signal?.removeEventListener("abort", p.onAbort);
    return p;
  }
}
