/**
 * The one hand-written varint of hb (unsigned LEB128, as protobuf writes
 * it). `@bufbuild/protobuf/wire` does not export its varint helpers, only
 * `BinaryWriter` / `BinaryReader`; those are used for whole messages, and
 * these functions for the hot paths that write a length prefix or a tag
 * into a buffer they already hold (frame prefixes, relay heads, the
 * Delivery encoder, IPC batches): a relay head built with a `BinaryWriter`
 * took 552–601 ns (median) against 90–110 ns with {@link writeVarint32}
 * (`npx tsx packages/codec/bench/varint.bench.ts`, Node 22, the 2-core dev
 * machine, December 2026).
 */

/** Number of bytes the unsigned varint encoding of `value` (0..2^32 − 1) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/**
 * Writes `value` (0..2^32 − 1, unchecked) as an unsigned varint into `buf`
 * at `pos`.
 *
 * @returns the position after it
 */
export function writeVarint32(buf: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = value >>> 7;
  }
  buf[pos++] = value;
  return pos;
}

/** Number of bytes the unsigned varint encoding of `value` (0..2^64 − 1) takes. */
export function varint64Size(value: bigint): number {
  if (value <= 0xffff_ffffn) return varintSize(Number(value));
  let n = 1;
  while (value > 0x7fn) {
    value >>= 7n;
    n++;
  }
  return n;
}

/**
 * Writes `value` (0..2^64 − 1, unchecked) as an unsigned varint into `buf`
 * at `pos`.
 *
 * @returns the position after it
 */
export function writeVarint64(buf: Uint8Array, pos: number, value: bigint): number {
  if (value <= 0xffff_ffffn) return writeVarint32(buf, pos, Number(value));
  while (value > 0x7fn) {
    buf[pos++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  buf[pos++] = Number(value);
  return pos;
}

/** Where {@link readVarint32} leaves the position after the varint it read. */
export interface VarintCursor {
  /** The position after the varint. */
  pos: number;
}

/**
 * Reads an unsigned varint of at most 5 bytes (values up to 2^35 − 1) from
 * `buf` between `pos` and `end`, without allocating: the position after it
 * goes to `cursor.pos`.
 *
 * @returns the value, or -1 when the input ends inside the varint or it is
 *   longer than 5 bytes
 */
export function readVarint32(buf: Uint8Array, pos: number, end: number, cursor: VarintCursor): number {
  let value = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (pos >= end) return -1;
    const byte = buf[pos++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) {
      cursor.pos = pos;
      return value;
    }
  }
  return -1;
}
