import type { Duplex } from "node:stream";
import { toBinary } from "@bufbuild/protobuf";
import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  FragmentAssembler,
  type Frame,
  FrameDecoder,
  FrameScheduler,
  FrameSchema,
  HbError,
  sizeDelimit,
} from "@hb/codec";
import { FRAGMENT_THRESHOLD, type Lane, type OutboxSink } from "./outbox.js";

/** Traffic counters, shared by every connection of one client. */
export interface TrafficCounters {
  /** Frames decoded from the server (each fragment counts). */
  framesIn: number;
  /** Frames queued to the server (each fragment counts). */
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
  /** A frame arrived (fragments already reassembled). */
  onFrame(frame: Frame): void;
  /**
   * The server sent bytes that are not valid frames, or fragments that break
   * the rules (§11); nothing more is read.
   */
  onDecodeError(error: HbError): void;
  /**
   * The socket closed. `error` is the socket error, or `TRUNCATED` when the
   * stream ended inside a frame, or `undefined` for a clean close.
   */
  onClose(error: Error | undefined): void;
  /** The scheduler wrote, or the socket drained: there is room for more data. */
  onWritable?(): void;
}

/** What a Welcome says about the link, in plain numbers. */
export interface LinkLimits {
  /** `Welcome.max_frame_size` (0: the protocol default). */
  readonly maxFrameSize: number;
  /** `Welcome.max_message_size`: largest reassembled frame (0: fragments refused). */
  readonly maxMessageSize: number;
}

/**
 * One socket with its frame decoder, fragment reassembly, and a
 * {@link FrameScheduler} as writer: control frames first, data frames in
 * per-lane queues served by deficit round-robin, everything queued in one
 * event-loop turn in one socket write, and no write while the socket is
 * full (until `'drain'`). Knows nothing about the protocol's states; the
 * client drives it.
 *
 * Works on any `Duplex` (TCP, TLS, or an in-memory pair in tests).
 */
export class Connection implements OutboxSink {
  readonly #socket: Duplex;
  readonly #handlers: ConnectionHandlers;
  readonly #counters: TrafficCounters;
  readonly #decoder: FrameDecoder;
  readonly #closed: Promise<void>;
  #scheduler: FrameScheduler;
  #assembler: FragmentAssembler | undefined;
  #writableQueued = false;
  #readFailed = false;
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
    this.#scheduler = this.#newScheduler(DEFAULT_MAX_FRAME_SIZE);
    this.#lastReceivedAt = performance.now();
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));

    if (readyEvent !== undefined) {
      socket.once(readyEvent, () => {
        if (!this.#silenced) handlers.onOpen();
      });
    }
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("drain", () => {
      this.#scheduler.resume();
      this.#writable();
    });
    socket.on("error", (err: Error) => {
      this.#error ??= err;
    });
    socket.on("end", () => {
      const err = this.#decoder.end();
      if (err !== undefined) this.#error ??= err;
    });
    socket.once("close", () => {
      this.#done = true;
      this.#scheduler.close();
      this.#assembler?.clear();
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

  /** Bytes queued in the scheduler, not yet handed to the socket. */
  get backlog(): number {
    return this.#scheduler.stats().queuedBytes;
  }

  /**
   * Applies the Welcome's limits: frames the scheduler must fragment are cut
   * for the server's max frame size, and fragments from the server are
   * reassembled up to `maxMessageSize` (before this, any Fragment is
   * `MESSAGE_TOO_LARGE`). Call once, right after Welcome, when nothing is
   * queued but the already written Hello.
   */
  configure(limits: LinkLimits): void {
    const old = this.#scheduler;
    old.flushNow();
    old.close();
    this.#scheduler = this.#newScheduler(limits.maxFrameSize > 0 ? limits.maxFrameSize : DEFAULT_MAX_FRAME_SIZE);
    this.#assembler =
      limits.maxMessageSize > 0 ? new FragmentAssembler({ maxMessageSize: limits.maxMessageSize }) : undefined;
  }

  /** Queues a control frame: it leaves before any queued data. Ignored once closed. */
  send(frame: Frame): void {
    if (this.isClosed) return;
    this.#counters.framesOut++;
    this.#scheduler.control(frame);
  }

  /** Queues a data frame (or its encoding) on an outbox lane. Ignored once closed. */
  data(lane: Lane, frame: Frame | Uint8Array): void {
    if (this.isClosed) return;
    this.#counters.framesOut++;
    this.#scheduler.data(lane, frame);
  }

  /** Writes what is queued now, as far as the socket takes it. */
  flush(): void {
    if (this.#done || this.#socket.destroyed) return;
    this.#scheduler.flushNow();
  }

  /**
   * Resolves when nothing is queued any more (everything handed to the
   * socket), the connection closes, or `timeoutMs` passes.
   */
  async drained(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.isClosed && this.backlog > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /**
   * Flushes what the socket takes, writes `last` (e.g. Goodbye) after it,
   * drops whatever is still queued, and half-closes (FIN); the server is
   * expected to close its side. Handlers are no longer called.
   */
  end(last?: Frame): void {
    this.flush();
    this.#silenced = true;
    this.#scheduler.close();
    if (this.#socket.destroyed) return;
    if (last !== undefined) {
      const bytes = sizeDelimit(toBinary(FrameSchema, last));
      this.#counters.framesOut++;
      this.#counters.bytesOut += bytes.length;
      this.#socket.write(bytes);
    }
    this.#socket.end();
  }

  /** Drops the socket at once; queued frames are lost. Handlers are no longer called. */
  destroy(): void {
    this.#silenced = true;
    this.#scheduler.close();
    this.#assembler?.clear();
    this.#socket.destroy();
  }

  #newScheduler(maxFrameSize: number): FrameScheduler {
    return new FrameScheduler({
      maxFrameSize,
      // The outbox bounds data by bytes and must never lose a frame it handed over.
      queueLimit: Number.MAX_SAFE_INTEGER,
      // Control frames are the client's own (Attach for every gateway node after a reconnect…), never dropped.
      maxControlBytes: Number.POSITIVE_INFINITY,
      // One fragment's worth per write: a heartbeat queued meanwhile waits behind at most that much
      // (§6.2, §11). Small frames still share a write, up to 64 KiB of them.
      maxBatchBytes: FRAGMENT_THRESHOLD,
      write: (chunk) => {
        if (this.#done || this.#socket.destroyed) return true;
        this.#counters.bytesOut += chunk.length;
        const more = this.#socket.write(chunk);
        if (more) this.#writable();
        return more;
      },
    });
  }

  /** Tells the client, once per microtask, that more data may be queued. */
  #writable(): void {
    if (this.#writableQueued || this.#handlers.onWritable === undefined) return;
    this.#writableQueued = true;
    queueMicrotask(() => {
      this.#writableQueued = false;
      if (!this.#silenced) this.#handlers.onWritable?.();
    });
  }

  #onData(chunk: Uint8Array): void {
    if (this.#silenced || this.#readFailed) return;
    this.#lastReceivedAt = performance.now();
    this.#counters.bytesIn += chunk.length;
    const err = this.#decoder.push(chunk, (frame) => {
      if (this.#silenced || this.#readFailed) return;
      this.#counters.framesIn++;
      if (frame.body.case !== "fragment") {
        this.#handlers.onFrame(frame);
        return;
      }
      let whole: Frame | undefined;
      try {
        if (this.#assembler === undefined) {
          throw new HbError(ErrorCode.MESSAGE_TOO_LARGE, "fragment received, but fragments are not allowed on this connection");
        }
        whole = this.#assembler.push(frame.body.value);
      } catch (e) {
        const error =
          e instanceof HbError ? e : new HbError(ErrorCode.PROTOCOL_VIOLATION, `bad fragment: ${(e as Error).message}`);
        this.#readFailed = true; // nothing more is read
        this.#handlers.onDecodeError(error);
        return;
      }
      if (whole !== undefined) this.#handlers.onFrame(whole);
    });
    if (err !== undefined && !this.#silenced) {
      this.#handlers.onDecodeError(err);
    }
  }
}
