// Summarises a V8 heap snapshot (.heapsnapshot, as written by
// v8.writeHeapSnapshot or --heapsnapshot-signal): self size and count per
// constructor (objects), per function name (closures), and per node type
// for the rest (strings, arrays, code, system objects…).
import { readFileSync } from "node:fs";

/**
 * @param {string} file a .heapsnapshot file
 * @param {{ retainers?: boolean }} [options] `retainers`: name arrays, strings, numbers and closures after their
 *   first (strong) retainer too, e.g. "array < object:Fifo.#items" (what holds them, not just what they are)
 * @returns {Map<string, { count: number, size: number }>} keyed "type:name" (e.g. "object:Session", "closure:onFrame", "string")
 */
export function heapByConstructor(file, { retainers = false } = {}) {
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
  const named = (i) => {
    const type = types[nodes[i + iType]];
    if (type === "object" || type === "closure" || type === "native") return `${type}:${strings[nodes[i + iName]]}`;
    if (type === "hidden" || type === "object shape") return `${type}:${strings[nodes[i + iName]]}`;
    return type; // string, concatenated string, sliced string, array, code, number, symbol, bigint…
  };
  const owners = retainers ? firstRetainers(snap) : undefined;
  const out = new Map();
  for (let i = 0; i < nodes.length; i += nf) {
    const type = types[nodes[i + iType]];
    let key = named(i);
    if (owners !== undefined && type !== "object" && type !== "native") {
      const o = owners.node[i / nf];
      if (o >= 0) key += ` < ${named(o * nf)}.${owners.edge[i / nf]}`;
    }
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

// For each node (by index), the first node holding it by a strong edge, and that edge's name.
function firstRetainers(snap) {
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const edgeTypes = meta.edge_types[0];
  const iEdges = meta.node_fields.indexOf("edge_count");
  const eType = meta.edge_fields.indexOf("type");
  const eName = meta.edge_fields.indexOf("name_or_index");
  const eTo = meta.edge_fields.indexOf("to_node");
  const { nodes, edges, strings } = snap;
  const count = nodes.length / nf;
  const node = new Int32Array(count).fill(-1);
  const edge = new Array(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const k = nodes[n * nf + iEdges];
    for (let j = 0; j < k; j++, e += ef) {
      const to = edges[e + eTo] / nf;
      const t = edgeTypes[edges[e + eType]];
      if (t === "weak" || t === "shortcut" || node[to] !== -1) continue;
      node[to] = n;
      edge[to] = t === "element" || t === "hidden" ? `[${t}]` : String(strings[edges[e + eName]]);
    }
  }
  return { node, edge };
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
