// Summarises a V8 heap snapshot (.heapsnapshot, as written by
// v8.writeHeapSnapshot or --heapsnapshot-signal): self size and count per
// constructor (objects), per function name (closures), and per node type
// for the rest (strings, arrays, code, system objects…).
import { readFileSync } from "node:fs";

/**
 * @param {string} file a .heapsnapshot file
 * @returns {Map<string, { count: number, size: number }>} keyed "type:name" (e.g. "object:Session", "closure:onFrame", "string")
 */
export function heapByConstructor(file) {
  const snap = JSON.parse(readFileSync(file, "utf8"));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const nf = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const nodes = snap.nodes;
  const strings = snap.strings;
  const out = new Map();
  for (let i = 0; i < nodes.length; i += nf) {
    const type = types[nodes[i + iType]];
    let key;
    if (type === "object" || type === "closure" || type === "native") key = `${type}:${strings[nodes[i + iName]]}`;
    else if (type === "hidden" || type === "object shape") key = `${type}:${strings[nodes[i + iName]]}`;
    else key = type; // string, concatenated string, sliced string, array, code, number, symbol, bigint…
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

/** `after` − `before`, per key, largest growth first. */
export function heapDiff(before, after) {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const rows = [];
  for (const k of keys) {
    const b = before.get(k) ?? { count: 0, size: 0 };
    const x = after.get(k) ?? { count: 0, size: 0 };
    rows.push({ key: k, count: x.count - b.count, size: x.size - b.size });
  }
  return rows.sort((p, q) => q.size - p.size);
}
