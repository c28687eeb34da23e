import { varintSize, writeVarint32 } from "@hb/codec";

/**
 * Collects frames into one IPC batch, an `hb.internal.v1.IpcBatch`: each
 * frame is one length-delimited field whose number is its kind (see
 * {@link IpcFrame}), in order. Frames are
 * copied in as they are added (a body read by {@link readIpcBatch} is
 * forwarded by adding it again with its kind); {@link IpcBatchWriter.take} hands out the
 * batch without another copy and starts a new one, sized after the last.
 */
export class IpcBatchWriter {
  #buf: Buffer;
  #pos = 0;
  #frames = 0;

  /** @param capacity - initial size in bytes (grows by doubling) */
  constructor(capacity = 1_024) {
    this.#buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  /** Frames in the current batch. */
  get frames(): number {
    return this.#frames;
  }

  /** Bytes in the current batch. */
  get bytes(): number {
    return this.#pos;
  }

  /** Appends a frame of `kind` whose value is `head` (if given) followed by `body`. */
  frame(kind: number, body: Uint8Array, head?: Uint8Array): void {
    const value = (head === undefined ? 0 : head.length) + body.length;
    this.#ensure(1 + varintSize(value) + value);
    let pos = this.#pos;
    this.#buf[pos++] = (kind << 3) | 2;
    pos = writeVarint32(this.#buf, pos, value);
    if (head !== undefined) {
      this.#buf.set(head, pos);
      pos += head.length;
    }
    this.#buf.set(body, pos);
    this.#pos = pos + body.length;
    this.#frames++;
  }

  /** The batch (a view of the internal buffer, no copy), or `undefined` when empty; the writer starts a new batch. */
  take(): Buffer | undefined {
    if (this.#frames === 0) return undefined;
    const out = this.#buf.subarray(0, this.#pos);
    this.#buf = Buffer.allocUnsafe(Math.max(1_024, this.#pos + (this.#pos >>> 2)));
    this.#pos = 0;
    this.#frames = 0;
    return out;
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
