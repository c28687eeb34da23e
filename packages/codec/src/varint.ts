/**
 * Number of bytes the unsigned varint encoding of `value` takes.
 *
 * @param value - an integer in 0..2^32-1
 */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/**
 * Writes `value` as an unsigned varint into `buf` at `pos`.
 *
 * @param value - an integer in 0..2^32-1
 * @returns the position after the last byte written
 */
export function writeVarint32(buf: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = value >>> 7;
  }
  buf[pos++] = value;
  return pos;
}
