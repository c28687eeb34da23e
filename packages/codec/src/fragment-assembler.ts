import { DEFAULT_MAX_MESSAGE_SIZE, MAX_OPEN_FRAGMENTED } from "./limits.js";
import { decodeFrame } from "./decode-frame.js";
import { ErrorCode } from "./gen/hb/v1/error_pb.js";
import type { Fragment } from "./gen/hb/v1/flow_pb.js";
import type { Frame } from "./gen/hb/v1/frame_pb.js";
import { HbError } from "./hb-error.js";

/** Options of {@link FragmentAssembler}. */
export interface FragmentAssemblerOptions {
  /** Largest reassembled frame, in bytes. Default 64 MiB. */
  maxMessageSize?: number;
  /**
   * Most bytes held for all unfinished messages together. Default: equal to
   * `maxMessageSize`. Bytes are held as they arrive, never reserved from a
   * claimed `total_length`, so a peer cannot make us allocate what it does
   * not send.
   */
  maxBufferedBytes?: number;
  /** Most unfinished fragmented messages at once. Default 16. */
  maxConcurrent?: number;
  /**
   * {@link FragmentAssembler.add} returns a message longer than this many
   * bytes as a {@link PendingFrame}, to be joined in steps of bounded size
   * (a 50 MiB join is ≈ 10–35 ms of copying in one go). Default: never.
   */
  joinStepBytes?: number;
}

/**
 * A fragmented frame whose bytes have all arrived, not joined yet: the
 * caller copies it together in steps ({@link PendingFrame.join}), e.g. one
 * step per event-loop turn, then decodes it ({@link PendingFrame.frame}).
 */
export class PendingFrame {
  /** Length of the reassembled frame in bytes. */
  readonly length: number;
  readonly #parts: Uint8Array[];
  #whole: Uint8Array | undefined;
  #index = 0;
  #pos = 0;

  /** @internal */
  constructor(parts: Uint8Array[], length: number) {
    this.#parts = parts;
    this.length = length;
    if (parts.length === 1) {
      this.#whole = parts[0] as Uint8Array;
      this.#index = 1;
    }
  }

  /**
   * Copies up to `maxBytes` more into the joined frame (at least one part,
   * so a step always makes progress).
   *
   * @returns `true` once the frame is whole
   */
  join(maxBytes: number): boolean {
    const parts = this.#parts;
    if (this.#index >= parts.length) return true;
    // Not zero-filled: every byte is written below.
    const whole = (this.#whole ??= Buffer.allocUnsafeSlow(this.length));
    let copied = 0;
    while (this.#index < parts.length && (copied === 0 || copied < maxBytes)) {
      const p = parts[this.#index] as Uint8Array;
      whole.set(p, this.#pos);
      this.#pos += p.length;
      copied += p.length;
      parts[this.#index++] = EMPTY; // released as it is copied
    }
    return this.#index >= parts.length;
  }

  /**
   * Decodes the joined frame (joining what is left first).
   *
   * @throws {@link HbError} `MALFORMED_FRAME`, `EMPTY_FRAME`, or
   *   `PROTOCOL_VIOLATION` for a fragment inside a fragment
   */
  frame(): Frame {
    this.join(Number.POSITIVE_INFINITY);
    const frame = decodeFrame(this.#whole as Uint8Array);
    if (frame.body.case === "fragment") throw new HbError(ErrorCode.PROTOCOL_VIOLATION, "a fragment may not carry a fragment");
    return frame;
  }
}

const EMPTY = new Uint8Array(0);

interface Assembly {
  total: number;
  received: number;
  parts: Uint8Array[];
}

/**
 * Reassembles Fragment frames into the frames they carry.
 *
 * Rules enforced (each a fatal {@link HbError}): the first fragment of an id
 * announces `total_length` ≤ `maxMessageSize` (`MESSAGE_TOO_LARGE`); the
 * data never exceed it and add up to it exactly at `final`
 * (`PROTOCOL_VIOLATION`); no more than `maxConcurrent` ids are open and no
 * more than `maxBufferedBytes` are held (`MESSAGE_TOO_LARGE`); the result
 * decodes as a Frame and is not itself a fragment (`MALFORMED_FRAME`,
 * `EMPTY_FRAME`, `PROTOCOL_VIOLATION`).
 */
export class FragmentAssembler {
  readonly #maxMessageSize: number;
  readonly #maxBuffered: number;
  readonly #maxConcurrent: number;
  readonly #joinStep: number;
  readonly #open = new Map<number, Assembly>();
  #buffered = 0;

  constructor(options: FragmentAssemblerOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#maxBuffered = options.maxBufferedBytes ?? this.#maxMessageSize;
    this.#maxConcurrent = options.maxConcurrent ?? MAX_OPEN_FRAGMENTED;
    this.#joinStep = options.joinStepBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes currently held for unfinished messages. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Unfinished messages. */
  get pending(): number {
    return this.#open.size;
  }

  /**
   * Adds one fragment.
   *
   * @returns the reassembled Frame when `fragment.final` completes it, else
   *   `undefined`
   * @throws {@link HbError} when a rule above is broken
   */
  push(fragment: Fragment): Frame | undefined {
    const r = this.add(fragment);
    return r instanceof PendingFrame ? r.frame() : r;
  }

  /**
   * Adds one fragment, like {@link FragmentAssembler.push}, but a completed
   * message longer than `joinStepBytes` comes back unjoined, as a
   * {@link PendingFrame} (its decoding errors are raised by its `frame()`).
   *
   * @throws {@link HbError} when a rule above is broken
   */
  add(fragment: Fragment): Frame | PendingFrame | undefined {
    let a = this.#open.get(fragment.id);
    if (a === undefined) {
      const total = fragment.totalLength;
      if (total === 0n) throw new HbError(ErrorCode.PROTOCOL_VIOLATION, `fragment ${fragment.id}: first fragment has no total_length`);
      if (total > BigInt(this.#maxMessageSize)) {
        throw new HbError(ErrorCode.MESSAGE_TOO_LARGE, `fragmented message of ${total} bytes exceeds ${this.#maxMessageSize}`);
      }
      if (this.#open.size >= this.#maxConcurrent) {
        throw new HbError(ErrorCode.MESSAGE_TOO_LARGE, `more than ${this.#maxConcurrent} fragmented messages in flight`);
      }
      a = { total: Number(total), received: 0, parts: [] };
      this.#open.set(fragment.id, a);
    }
    const len = fragment.data.length;
    if (a.received + len > a.total) {
      throw new HbError(ErrorCode.PROTOCOL_VIOLATION, `fragment ${fragment.id}: more data than total_length ${a.total}`);
    }
    if (this.#buffered + len > this.#maxBuffered) {
      throw new HbError(ErrorCode.MESSAGE_TOO_LARGE, `fragment buffers exceed ${this.#maxBuffered} bytes`);
    }
    // Copy: the data is a view of a socket chunk that must not be pinned.
    a.parts.push(new Uint8Array(fragment.data)); // a real copy: Buffer.prototype.slice is a view
    a.received += len;
    this.#buffered += len;
    if (!fragment.final) return undefined;

    this.#open.delete(fragment.id);
    this.#buffered -= a.received;
    if (a.received !== a.total) {
      throw new HbError(ErrorCode.PROTOCOL_VIOLATION, `fragment ${fragment.id}: got ${a.received} of ${a.total} bytes at final`);
    }
    const pending = new PendingFrame(a.parts, a.total);
    return a.total > this.#joinStep ? pending : pending.frame();
  }

  /** Drops every unfinished message (e.g. when the connection closes). */
  clear(): void {
    this.#open.clear();
    this.#buffered = 0;
  }
}
