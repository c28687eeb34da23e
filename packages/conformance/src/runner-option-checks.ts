// Checks of the runners' numeric options (runServerConformance, runNodeConformance): a bad value is a RangeError naming it.

/** `value` if it is a finite number > 0; else a `RangeError` naming the option `name`. */
export function positive(name: string, value: number): number {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
  return value;
}

/** `value` if it is an integer ≥ 1; else a `RangeError` naming the option `name`. */
export function count(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
