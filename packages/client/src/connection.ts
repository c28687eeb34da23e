import type { Duplex } from "node:stream";
import { type Frame, FrameDecoder, FrameEncoder, type HbError } from "@hb/codec";

/** Traffic counters, shared by every connection of one client. */
export interface TrafficCounters {
  /** Frames decoded from the server. */
  framesIn: number;
  /** Frames queued to the server. */
  framesOut: number;
  /** Bytes read from the socket. */
  bytesIn: number;
  /** Bytes written to the socket. */
  bytesOut: number;
}

/** Callbacks of a {@link Connection}; none is called after {@link Connection.destroy}. */
export interface ConnectionHandlers {
  /** The socket is ready (TCP connected, TLS handshake done). */
  onOpen(): void;
  /** A frame arrived. */
  onFrame(frame: Frame): void;
  /** The server sent bytes that are not valid frames; nothing more is read. */
  onDecodeError(error: HbError): void;
  /**
   * The socket closed. `error` is the socket error, or `TRUNCATED` when the
   * stream ended inside a frame, or `undefined` for a clean close.
   */
  onClose(error: Error | undefined): void;
}

/**
 * One socket with its frame decoder and a batched writer: frames passed to
 * {@link Connection.send} in one tick go out in a single socket write (one
 * microtask after the first). Knows nothing about the protocol's states; the
 * client drives it.
 *
 * Works on any `Duplex` (TCP, TLS, or an in-memory pair in tests).
 */
export class Connection {
  readonly #socket: Duplex;
  readonly #handlers: ConnectionHandlers;
  readonly #counters: TrafficCounters;
  readonly #decoder: FrameDecoder;
  readonly #encoder = new FrameEncoder();
  readonly #closed: Promise<void>;
  #flushScheduled = false;
  #silenced = false;
  #done = false;
  #error: Error | undefined;
  #lastReceivedAt: number;

  /**
   * @param socket - a socket being opened or already open
   * @param readyEvent - the event `socket` emits once open, or `undefined` if
   *   it already is (then `onOpen` is not called)
   * @param handlers - callbacks
   * @param options - decoder limit and the counters to update
   */
  constructor(
    socket: Duplex,
    readyEvent: string | undefined,
    handlers: ConnectionHandlers,
    options: { maxFrameSize: number; counters: TrafficCounters },
  ) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#counters = options.counters;
    this.#decoder = new FrameDecoder({ maxFrameSize: options.maxFrameSize });
    this.#lastReceivedAt = performance.now();
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));

    if (readyEvent !== undefined) {
      socket.once(readyEvent, () => {
        if (!this.#silenced) handlers.onOpen();
      });
    }
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("error", (err: Error) => {
      this.#error ??= err;
    });
    socket.on("end", () => {
      const err = this.#decoder.end();
      if (err !== undefined) this.#error ??= err;
    });
    socket.once("close", () => {
      this.#done = true;
      if (this.#silenced) return;
      this.#silenced = true;
      handlers.onClose(this.#error);
    });
  }

  /** `performance.now()` when bytes last arrived (or when the connection was made). */
  get lastReceivedAt(): number {
    return this.#lastReceivedAt;
  }

  /** Resolves once the socket has closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Whether the socket has closed or {@link Connection.destroy} was called. */
  get isClosed(): boolean {
    return this.#done || this.#silenced;
  }

  /** Queues a frame; it is written with the others of this tick. Ignored once closed. */
  send(frame: Frame): void {
    if (this.isClosed) return;
    this.#encoder.add(frame);
    this.#counters.framesOut++;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes every queued frame now, in one socket write. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#encoder.count === 0 || this.#done || this.#socket.destroyed) return;
    const bytes = this.#encoder.finish();
    this.#counters.bytesOut += bytes.length;
    this.#socket.write(bytes);
  }

  /**
   * Flushes queued frames and half-closes (FIN); the server is expected to
   * close its side. Handlers are no longer called.
   */
  end(): void {
    this.flush();
    this.#silenced = true;
    if (!this.#socket.destroyed) this.#socket.end();
  }

  /** Drops the socket at once; queued frames are lost. Handlers are no longer called. */
  destroy(): void {
    this.#silenced = true;
    this.#socket.destroy();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#silenced) return;
    this.#lastReceivedAt = performance.now();
    this.#counters.bytesIn += chunk.length;
    const err = this.#decoder.push(chunk, (frame) => {
      if (this.#silenced) return;
      this.#counters.framesIn++;
      this.#handlers.onFrame(frame);
    });
    if (err !== undefined && !this.#silenced) {
      this.#handlers.onDecodeError(err);
    }
  }
}
