import { fromIpcPayload } from "./ipc-bus-message.js";

/**
 * Calls `visit` with each frame of an IPC batch written by
 * {@link IpcBatchWriter}, in order: its kind (first byte) and its body (the
 * rest) as a view into `batch`, not a copy. An empty frame is skipped.
 *
 * @returns the number of frames visited
 * @throws RangeError for a truncated batch or an over-long length; the
 *   frames before the damage have been visited
 */
export function readIpcBatch(batch: Buffer, visit: (kind: number, body: Buffer) => void): number {
  const end = batch.length;
  let pos = 0;
  let count = 0;
  while (pos < end) {
    // Frame length: a varint of at most 5 bytes (frames are far below 2^35 bytes).
    let length = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= end) throw new RangeError("truncated IPC batch: frame length expected");
      if (i === 5) throw new RangeError("IPC batch frame length too long");
      const b = batch[pos++] as number;
      length += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    if (length > end - pos) throw new RangeError(`truncated IPC batch: frame of ${length} bytes, ${end - pos} left`);
    if (length > 0) {
      visit(batch[pos] as number, batch.subarray(pos + 1, pos + length));
      count++;
    }
    pos += length;
  }
  return count;
}

/** The counters {@link readIpcPayload} keeps. */
export interface IpcBatchCounters {
  /** Batches read. */
  batchesIn: number;
  /** Their bytes. */
  bytesIn: number;
  /** Payloads that were not a batch, and damaged batches. */
  decodeErrors: number;
}

/**
 * Reads one received `batch` message's payload (either serialization, see
 * `fromIpcPayload`) with {@link readIpcBatch}, counting it in `counters`;
 * a payload that is not a batch, or a damaged batch, is counted in
 * `decodeErrors` and never throws.
 */
export function readIpcPayload(
  payload: unknown,
  counters: IpcBatchCounters,
  visit: (kind: number, body: Buffer) => void,
): void {
  let bytes: Buffer;
  try {
    bytes = fromIpcPayload(payload);
  } catch {
    counters.decodeErrors++;
    return;
  }
  counters.batchesIn++;
  counters.bytesIn += bytes.length;
  try {
    readIpcBatch(bytes, visit);
  } catch {
    counters.decodeErrors++;
  }
}
