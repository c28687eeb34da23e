/** A typed array of the kinds the liveness parts keep per slot. */
type SlotArray = Uint8Array | Int32Array | Float32Array | Float64Array;

/** A copy of `array` with room for `capacity` slots (the new ones zero). */
export function grown<T extends SlotArray>(array: T, capacity: number): T {
  const out = new (array.constructor as new (n: number) => T)(capacity);
  out.set(array);
  return out;
}

/** The next capacity (doubling from `current`) that holds slot `min - 1`. */
export function nextCapacity(current: number, min: number): number {
  let c = current * 2;
  while (c < min) c *= 2;
  return c;
}
