/**
 * The checks every option resolver of the server uses (server, Redis bus,
 * IPC bus, memory bus), so that they answer alike: a wrong type is a
 * `TypeError`, a value out of range a `RangeError`, and both name the
 * option and its range, e.g. `heartbeatCheckInterval must be an integer in
 * 10..heartbeatTimeout (5000), got 6000`.
 */

/** An integer range: bounds, and the names of the options they come from (shown in messages). */
export interface IntegerRange {
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** The option (or rule) `min` comes from, e.g. `"2 × minHeartbeatInterval + 1"`. */
  minName?: string | undefined;
  /** The option `max` comes from, e.g. `"heartbeatTimeout"`. */
  maxName?: string | undefined;
}

/** The range as messages show it: `10..heartbeatTimeout (5000)`. */
export function rangeText(r: IntegerRange): string {
  const lo = r.minName === undefined ? `${r.min}` : `${r.minName} (${r.min})`;
  const hi = r.maxName === undefined ? `${r.max}` : `${r.maxName} (${r.max})`;
  return `${lo}..${hi}`;
}

/**
 * An integer option: `value`, or `fallback` when undefined.
 *
 * @param name - the option's name as messages show it (e.g. `rateLimit.burst`)
 * @throws TypeError when not a number; RangeError when not an integer in range
 */
export function integerOption(value: unknown, name: string, fallback: number, range: IntegerRange): number {
  if (value === undefined) return fallback;
  const text = rangeText(range);
  if (typeof value !== "number") throw new TypeError(`${name} must be an integer number in ${text}, got ${typeof value}`);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new RangeError(`${name} must be an integer in ${text}, got ${value}`);
  }
  return value;
}

/**
 * An option that is 0 (off) or an integer in range.
 *
 * @throws TypeError when not a number; RangeError when neither 0 nor an integer in range
 */
export function zeroOrIntegerOption(value: unknown, name: string, fallback: number, range: IntegerRange): number {
  if (value === undefined) return fallback;
  const text = rangeText(range);
  if (typeof value !== "number") throw new TypeError(`${name} must be 0 or an integer number in ${text}, got ${typeof value}`);
  if (value !== 0 && (!Number.isInteger(value) || value < range.min || value > range.max)) {
    throw new RangeError(`${name} must be 0 or an integer in ${text}, got ${value}`);
  }
  return value;
}

/** An optional function option (a hook). @throws TypeError naming its expected shape */
export function functionOption<T>(value: unknown, name: string, shape: string): T | undefined {
  if (value !== undefined && typeof value !== "function") throw new TypeError(`${name} must be a function ${shape}`);
  return value as T | undefined;
}

/** Throws a TypeError for any key of `options` not in `known`. */
export function checkKnownKeys(options: object, known: ReadonlySet<string>, what: string): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`unknown ${what} option "${key}"`);
  }
}
