import { toBinary } from "@bufbuild/protobuf";
import { type Frame, FrameSchema } from "./gen/hb/v1/frame_pb.js";
import { varintSize, writeVarint32 } from "./varint.js";

/**
 * Collects many frames and writes them into one buffer, for a single
 * batched socket write.
 *
 * ```ts
 * const enc = new FrameEncoder();
 * enc.add(ack).add(delivery);
 * socket.write(enc.finish());
 * ```
 *
 * The encoder is reusable: {@link FrameEncoder.finish} empties it.
 */
export class FrameEncoder {
  #parts: Uint8Array[] = [];
  #prefixed: boolean[] = [];
  #byteLength = 0;

  /** Number of frames added since the last {@link FrameEncoder.finish}. */
  get count(): number {
    return this.#parts.length;
  }

  /** Size in bytes of what {@link FrameEncoder.finish} would return. */
  get byteLength(): number {
    return this.#byteLength;
  }

  /** Encodes a frame and appends it. */
  add(frame: Frame): this {
    return this.addEncoded(toBinary(FrameSchema, frame));
  }

  /**
   * Appends the protobuf bytes of a Frame (no length prefix); the prefix is
   * written for it. Lets a relay encode a frame once and send the same bytes
   * to many peers.
   */
  addEncoded(body: Uint8Array): this {
    this.#parts.push(body);
    this.#prefixed.push(false);
    this.#byteLength += varintSize(body.length) + body.length;
    return this;
  }

  /** Appends bytes that are already in wire form (length prefix included). */
  addWire(wire: Uint8Array): this {
    this.#parts.push(wire);
    this.#prefixed.push(true);
    this.#byteLength += wire.length;
    return this;
  }

  /** Returns every appended frame in wire form, in order, and empties the encoder. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#byteLength);
    let pos = 0;
    for (let i = 0; i < this.#parts.length; i++) {
      const part = this.#parts[i] as Uint8Array;
      if (!this.#prefixed[i]) pos = writeVarint32(out, pos, part.length);
      out.set(part, pos);
      pos += part.length;
    }
    this.#parts = [];
    this.#prefixed = [];
    this.#byteLength = 0;
    return out;
  }
}
