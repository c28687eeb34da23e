/**
 * Reads what `BinaryWriter` wrote, with bounds checks: every read past
 * the end, over-long varint or string length beyond the input throws a
 * `RangeError`, so a corrupt message is rejected whole, never half applied.
 */
export class BinaryReader {
  readonly #buf: Buffer;
  #pos: number;

  /** @param input - the bytes to read (not copied) */
  constructor(input: Uint8Array, offset = 0) {
    this.#buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    this.#pos = offset;
  }

  /** Current position. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** Reads one byte. */
  byte(): number {
    if (this.#pos >= this.#buf.length) throw new RangeError("truncated input: byte expected");
    return this.#buf[this.#pos++] as number;
  }

  /** Reads an unsigned varint of at most 8 bytes (values up to 2^53 − 1). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) break;
        return value;
      }
      scale *= 128;
    }
    throw new RangeError("varint too long");
  }

  /** Reads a varint-length-prefixed UTF-8 string. */
  string(): string {
    const n = this.varint();
    if (n > this.remaining) throw new RangeError(`truncated input: string of ${n} bytes, ${this.remaining} left`);
    const s = this.#buf.toString("utf8", this.#pos, this.#pos + n);
    this.#pos += n;
    return s;
  }

  /** Skips a varint-length-prefixed string without decoding it. */
  skipString(): void {
    const n = this.varint();
    if (n > this.remaining) throw new RangeError(`truncated input: string of ${n} bytes, ${this.remaining} left`);
    this.#pos += n;
  }

  /** The bytes from `start` to the current position as a latin1 string (a cache key). */
  latin1Since(start: number): string {
    return this.#buf.toString("latin1", start, this.#pos);
  }

  /** Moves back (or forward) to `position`, within the input. */
  seek(position: number): void {
    if (position < 0 || position > this.#buf.length) throw new RangeError(`seek to ${position} outside 0..${this.#buf.length}`);
    this.#pos = position;
  }

  /** The bytes from the current position to the end: a view, not a copy. */
  rest(): Buffer {
    const out = this.#buf.subarray(this.#pos);
    this.#pos = this.#buf.length;
    return out;
  }

  /** Throws unless every byte was read. */
  end(): void {
    if (this.#pos !== this.#buf.length) throw new RangeError(`${this.remaining} unexpected trailing bytes`);
  }
}
