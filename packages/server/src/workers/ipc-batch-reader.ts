import { type VarintCursor, readVarint32 } from "@hb/codec";
import { fromIpcPayload } from "./ipc-bus-message.js";

const cursor: VarintCursor = { pos: 0 };

/**
 * Calls `visit` with each frame of an IPC batch written by
 * {@link IpcBatchWriter}, in order: its kind (the IpcFrame field number) and
 * its body (the field's value) as a view into `batch`, not a copy. An empty
 * frame is skipped.
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
    // Lengths and tags of one byte are the common case: read them inline.
    let length = batch[pos] as number;
    if (length < 0x80) pos++;
    else {
      length = readVarint32(batch, pos, end, cursor);
      if (length < 0) throw new RangeError("truncated IPC batch: frame length expected");
      pos = cursor.pos;
    }
    if (length > end - pos) throw new RangeError(`truncated IPC batch: frame of ${length} bytes, ${end - pos} left`);
    const frameEnd = pos + length;
    if (length > 0) {
      const tag = batch[pos] as number;
      let at = pos + 1;
      let value = at < frameEnd ? (batch[at] as number) : -1;
      if (value >= 0 && value < 0x80) at++;
      else {
        value = readVarint32(batch, at, frameEnd, cursor);
        at = cursor.pos;
      }
      if ((tag & 7) !== 2 || tag >= 0x80 || value < 0 || at + value !== frameEnd) throw new RangeError("malformed IPC frame");
      visit(tag >>> 3, batch.subarray(at, frameEnd));
      count++;
    }
    pos = frameEnd;
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
