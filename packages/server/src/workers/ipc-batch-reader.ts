import { type VarintCursor, readVarint32 } from "@hb/codec";
import { fromIpcPayload } from "./ipc-bus-message.js";

const cursor: VarintCursor = { pos: 0 };

/**
 * Calls `visit` with each frame of an IPC batch written by
 * {@link IpcBatchWriter}, in order: its kind (the IpcBatch field number) and
 * its body (the field's value) as a view into `batch`, not a copy.
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
    // One field per frame: a one-byte tag (kinds are < 16), its length, its value.
    const tag = batch[pos++] as number;
    let length = pos < end ? (batch[pos] as number) : -1;
    if (length >= 0 && length < 0x80) pos++;
    else {
      length = readVarint32(batch, pos, end, cursor);
      if (length < 0) throw new RangeError("truncated IPC batch: frame length expected");
      pos = cursor.pos;
    }
    if ((tag & 7) !== 2 || tag >= 0x80) throw new RangeError(`malformed IPC batch: tag ${tag}`);
    if (length > end - pos) throw new RangeError(`truncated IPC batch: frame of ${length} bytes, ${end - pos} left`);
    visit(tag >>> 3, batch.subarray(pos, pos + length));
    count++;
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
