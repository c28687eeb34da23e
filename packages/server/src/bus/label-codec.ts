import type { BinaryReader } from "./binary-reader.js";
import type { BinaryWriter } from "./binary-writer.js";

/** Writes labels as a varint count followed by key/value strings. */
export function writeLabels(w: BinaryWriter, labels: Readonly<Record<string, string>>): void {
  const keys = Object.keys(labels);
  w.varint(keys.length);
  for (const key of keys) w.string(key).string(labels[key] as string);
}

// Decoded label sets by their encoded bytes: a fleet has few distinct label
// sets, and a replica of a million nodes then shares a few objects instead
// of holding a million (307 → 202 bytes per remote node with two labels,
// measured with BusDirectory). Cleared when full.
const interned = new Map<string, Readonly<Record<string, string>>>();
const MAX_INTERNED = 4_096;

/**
 * Reads labels written by {@link writeLabels}. Equal label sets decode to
 * one shared frozen object (up to 4 096 distinct sets are remembered); a
 * key such as `__proto__` is an own property.
 */
export function readLabels(r: BinaryReader): Readonly<Record<string, string>> {
  const start = r.position;
  const count = r.varint();
  if (count > r.remaining) throw new RangeError(`labels claim ${count} entries in ${r.remaining} bytes`);
  if (count === 0) return EMPTY;
  for (let i = 0; i < 2 * count; i++) r.skipString();
  const key = r.latin1Since(start);
  const known = interned.get(key);
  if (known !== undefined) return known;
  const end = r.position;
  r.seek(start);
  r.varint();
  const labels: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const k = r.string();
    const value = r.string();
    // "__proto__" must become an own property, not the prototype.
    if (k === "__proto__") Object.defineProperty(labels, k, { value, enumerable: true, writable: true, configurable: true });
    else labels[k] = value;
  }
  r.seek(end);
  Object.freeze(labels);
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(key, labels);
  return labels;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
