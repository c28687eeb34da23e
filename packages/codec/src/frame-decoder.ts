import { DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT, MAX_LENGTH_PREFIX_BYTES } from "./limits.js";
import { decodeFrame } from "./decode-frame.js";
import { ErrorCode } from "./gen/hb/v1/error_pb.js";
import type { Frame } from "./gen/hb/v1/frame_pb.js";
import { HbError } from "./hb-error.js";

// Bytes first set aside for a frame split across chunks (less when the frame
// is smaller); the buffer then doubles as bytes arrive, up to the frame's
// declared length.
const INITIAL_BODY_CAPACITY = 4 * 1024;

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Largest frame accepted, in bytes, not counting the length prefix.
   * A longer length prefix fails with `FRAME_TOO_LARGE` as soon as the
   * prefix byte that makes it too long arrives, before anything is buffered.
   * Default {@link DEFAULT_MAX_FRAME_SIZE} (1 MiB); at most
   * {@link MAX_FRAME_SIZE_LIMIT} (64 MiB).
   */
  maxFrameSize?: number;
}

/**
 * Called for each whole frame. `bytes` is the frame's protobuf encoding
 * (length prefix excluded), a view into the pushed chunk where the frame
 * arrived in one piece.
 */
export type FrameHandler = (frame: Frame, bytes: Uint8Array) => void;

/**
 * Streaming decoder: bytes in arbitrary chunks in, whole frames out.
 *
 * - A frame that lies entirely inside one chunk is decoded from a view of
 *   that chunk (no copy); its `bytes` payloads are views too. Only a frame
 *   split across chunks is copied into a buffer that grows (doubling) as its
 *   bytes arrive, up to its declared size: what a connection costs follows
 *   what it sent, not what it announced.
 * - The maximum frame size is enforced on the length prefix, before any
 *   buffering, so a 4 GB prefix costs nothing.
 * - Malformed input never throws: {@link FrameDecoder.push} returns an
 *   {@link HbError} with a stable code (`BAD_VARINT`, `FRAME_TOO_LARGE`,
 *   `MALFORMED_FRAME`, `EMPTY_FRAME`), and {@link FrameDecoder.end} returns
 *   `TRUNCATED` if the stream stopped inside a frame. After an error the
 *   decoder is failed: every later call returns the same error. A connection
 *   should answer with that code and close.
 *
 * Exceptions thrown by the handler propagate to the caller of `push`; the
 * decoder has already consumed that frame and stays usable.
 */
export class FrameDecoder {
  readonly #maxFrameSize: number;
  #error: HbError | undefined;
  // Length prefix being read: value so far, bytes read (0 = not in a prefix).
  #prefix = 0;
  #prefixBytes = 0;
  // Frame body being assembled across chunks: `#body` holds the bytes so far
  // (its length is the capacity, grown as bytes arrive), `#bodyLength` the
  // declared length.
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  #bodyLength = 0;
  #frames = 0;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isInteger(max) || max < 1 || max > MAX_FRAME_SIZE_LIMIT) {
      throw new RangeError(`maxFrameSize must be an integer in 1..${MAX_FRAME_SIZE_LIMIT}, got ${max}`);
    }
    this.#maxFrameSize = max;
  }

  /** The error that failed this decoder, if any. */
  get error(): HbError | undefined {
    return this.#error;
  }

  /** Bytes held for an incomplete frame (bounded by the max frame size). */
  get buffered(): number {
    return this.#body === undefined ? this.#prefixBytes : this.#bodyFilled;
  }

  /**
   * Bytes allocated for an incomplete frame: at most
   * max(4 KiB, 2 × {@link FrameDecoder.buffered}),
   * never more than its declared length.
   */
  get allocated(): number {
    return this.#body === undefined ? 0 : this.#body.length;
  }

  /** Number of frames decoded so far. */
  get frames(): number {
    return this.#frames;
  }

  /**
   * Feeds a chunk and calls `onFrame` for each whole frame it completes.
   *
   * @returns `undefined`, or the {@link HbError} that failed the decoder
   */
  push(chunk: Uint8Array, onFrame: FrameHandler): HbError | undefined {
    if (this.#error !== undefined) return this.#error;
    const n = chunk.length;
    let pos = 0;

    if (this.#body !== undefined) {
      const filled = this.#bodyFilled;
      const take = Math.min(n, this.#bodyLength - filled);
      let body = this.#body;
      if (filled + take > body.length) {
        // Grow by doubling (at least to what is here now), never past the declared length.
        body = new Uint8Array(Math.min(this.#bodyLength, Math.max(2 * body.length, filled + take)));
        body.set((this.#body as Uint8Array).subarray(0, filled), 0);
        this.#body = body;
      }
      body.set(chunk.subarray(0, take), filled);
      this.#bodyFilled = filled + take;
      pos = take;
      if (this.#bodyFilled < this.#bodyLength) return undefined;
      this.#body = undefined;
      this.#bodyFilled = 0;
      const err = this.#emit(body, onFrame);
      if (err !== undefined) return err;
    }

    while (pos < n) {
      // Length prefix, possibly continued from the previous chunk.
      let done = false;
      while (pos < n) {
        const b = chunk[pos++] as number;
        if (this.#prefixBytes === MAX_LENGTH_PREFIX_BYTES - 1 && b > 0x0f) {
          return this.#fail(ErrorCode.BAD_VARINT, "length prefix is not a 32-bit varint");
        }
        this.#prefix += (b & 0x7f) * 2 ** (7 * this.#prefixBytes);
        this.#prefixBytes++;
        if (this.#prefix > this.#maxFrameSize) {
          return this.#fail(
            ErrorCode.FRAME_TOO_LARGE,
            `frame length exceeds the maximum of ${this.#maxFrameSize} bytes`,
          );
        }
        if ((b & 0x80) === 0) {
          done = true;
          break;
        }
      }
      if (!done) return undefined;
      const len = this.#prefix;
      this.#prefix = 0;
      this.#prefixBytes = 0;
      if (n - pos >= len) {
        const view = chunk.subarray(pos, pos + len);
        pos += len;
        const err = this.#emit(view, onFrame);
        if (err !== undefined) return err;
      } else {
        // Memory follows the bytes received, not the length declared: a peer
        // that declares 1 MiB and sends 4 bytes costs 4 KiB
        // (a flood of such connections stays cheap); the buffer doubles as
        // bytes arrive, so a large frame is copied about twice in all.
        const body = new Uint8Array(Math.min(len, Math.max(INITIAL_BODY_CAPACITY, n - pos)));
        body.set(chunk.subarray(pos), 0);
        this.#body = body;
        this.#bodyFilled = n - pos;
        this.#bodyLength = len;
        return undefined;
      }
    }
    return undefined;
  }

  /**
   * Signals the end of the stream.
   *
   * @returns `TRUNCATED` if it ended inside a frame, the earlier error if the
   *   decoder had failed, else `undefined`
   */
  end(): HbError | undefined {
    if (this.#error !== undefined) return this.#error;
    if (this.#body !== undefined || this.#prefixBytes > 0) {
      return this.#fail(ErrorCode.TRUNCATED, "stream ended inside a frame");
    }
    return undefined;
  }

  #emit(bytes: Uint8Array, onFrame: FrameHandler): HbError | undefined {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch (err) {
      this.#error = err as HbError;
      this.#body = undefined;
      return this.#error;
    }
    this.#frames++;
    onFrame(frame, bytes);
    return undefined;
  }

  #fail(code: ErrorCode, message: string): HbError {
    this.#error = new HbError(code, message);
    this.#body = undefined;
    this.#prefix = 0;
    this.#prefixBytes = 0;
    return this.#error;
  }
}

/**
 * Decodes every frame in a complete byte string (e.g. a conformance vector).
 *
 * @throws {@link HbError} on malformed input, or `TRUNCATED` if the bytes
 *   end inside a frame
 */
export function decodeFrames(bytes: Uint8Array, options?: FrameDecoderOptions): Frame[] {
  const decoder = new FrameDecoder(options);
  const frames: Frame[] = [];
  const err = decoder.push(bytes, (f) => frames.push(f)) ?? decoder.end();
  if (err !== undefined) throw err;
  return frames;
}

/**
 * Decodes frames from an async stream of chunks, such as a `net.Socket`.
 *
 * @throws {@link HbError} on malformed input or a truncated stream
 */
export async function* decodeFrameStream(
  source: AsyncIterable<Uint8Array>,
  options?: FrameDecoderOptions,
): AsyncGenerator<Frame, void, undefined> {
  const decoder = new FrameDecoder(options);
  const ready: Frame[] = [];
  for await (const chunk of source) {
    const err = decoder.push(chunk, (f) => ready.push(f));
    while (ready.length > 0) yield ready.shift() as Frame;
    if (err !== undefined) throw err;
  }
  const err = decoder.end();
  if (err !== undefined) throw err;
}
