// Decoded label sets by content: a fleet has few distinct label sets, and a
// replica of a million remote nodes then shares a few objects instead of
// holding a million (307 → 202 bytes per remote node with two labels,
// measured with BusDirectory). Cleared when full.
const interned = new Map<string, Readonly<Record<string, string>>>();
const MAX_INTERNED = 4_096;
const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * One shared frozen object per distinct label set (up to 4 096 remembered):
 * what the bus codecs return for decoded labels.
 */
export function internLabels(labels: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  let key = "";
  for (const k in labels) key += `${k}\u0000${labels[k]}\u0000`;
  if (key === "") return EMPTY;
  const known = interned.get(key);
  if (known !== undefined) return known;
  const copy: Record<string, string> = {};
  for (const k of Object.keys(labels)) {
    // "__proto__" must stay an own property, not the prototype.
    Object.defineProperty(copy, k, { value: labels[k], enumerable: true, writable: true, configurable: true });
  }
  Object.freeze(copy);
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(key, copy);
  return copy;
}
