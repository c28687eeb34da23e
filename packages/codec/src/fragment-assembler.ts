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
}

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
  readonly #open = new Map<number, Assembly>();
  #buffered = 0;

  constructor(options: FragmentAssemblerOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#maxBuffered = options.maxBufferedBytes ?? this.#maxMessageSize;
    this.#maxConcurrent = options.maxConcurrent ?? MAX_OPEN_FRAGMENTED;
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
    const whole = concat(a.parts, a.total);
    const frame = decodeFrame(whole);
    if (frame.body.case === "fragment") throw new HbError(ErrorCode.PROTOCOL_VIOLATION, "a fragment may not carry a fragment");
    return frame;
  }

  /** Drops every unfinished message (e.g. when the connection closes). */
  clear(): void {
    this.#open.clear();
    this.#buffered = 0;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
