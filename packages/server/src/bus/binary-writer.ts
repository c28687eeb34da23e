/**
 * A growable byte buffer for the bus's hand-written binary encodings:
 * unsigned varints (up to 2^53 − 1), length-prefixed UTF-8 strings and raw
 * bytes. Single use: {@link BinaryWriter.finish} hands out the written bytes
 * without copying them.
 */
export class BinaryWriter {
  #buf: Buffer;
  #pos = 0;

  /** @param capacity - initial size in bytes (grows by doubling) */
  constructor(capacity = 128) {
    this.#buf = Buffer.allocUnsafe(Math.max(16, capacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Writes one byte (0..255). */
  byte(value: number): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = value;
    return this;
  }

  /**
   * Writes an unsigned varint (LEB128, like protobuf).
   *
   * @throws RangeError when `value` is not an integer in 0..2^53 − 1
   */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint must be an integer in 0..2^53-1, got ${value}`);
    this.#ensure(8);
    this.#pos = writeVarint(this.#buf, this.#pos, value);
    return this;
  }

  /** Writes a string as a varint byte length followed by its UTF-8 bytes. */
  string(value: string): this {
    const n = Buffer.byteLength(value, "utf8");
    this.varint(n);
    this.#ensure(n);
    this.#pos += this.#buf.write(value, this.#pos, n, "utf8");
    return this;
  }

  /** Writes raw bytes (no length prefix). */
  bytes(value: Uint8Array): this {
    this.#ensure(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
    return this;
  }

  /** The bytes written: a view of the internal buffer (the writer must not be used afterwards). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }
}

/** Bytes taken by `value` (0..2^53 − 1) as an unsigned varint. */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` (0..2^53 − 1, unchecked) as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}
