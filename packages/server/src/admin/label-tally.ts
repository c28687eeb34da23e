import type { NodeInfo } from "../registry/node-info.js";
import type { NodeEvent } from "../core/ports/node-events.js";

/** Nodes with one label value (in `/v1/labels`). */
export interface LabelValueCount {
  /** The label value. */
  value: string;
  /** Nodes with it. */
  total: number;
  /** Of which suspect. */
  suspect: number;
}

/** One label key in `/v1/labels`. */
export interface LabelKeyCount {
  /** The label key. */
  key: string;
  /** Its values, most nodes first. */
  values: LabelValueCount[];
  /** Whether values beyond the tracking cap exist (their nodes are not counted here). */
  truncated: boolean;
}

interface Value {
  total: number;
  suspect: number;
}

interface Key {
  values: Map<string, Value>;
  // At the cap, no new value is tracked any more (so a node is never counted in a value it joined without).
  saturated: boolean;
}

/**
 * Nodes by label key and value, online and suspect, kept up to date from
 * the presence events (never a scan of the nodes): what the dashboard's
 * "by label" view shows. At most `maxKeys` keys and `maxValues` values per
 * key are tracked (a label such as a host name can have one value per
 * node); past that a key is marked `truncated`. Suspect nodes are
 * remembered by id (to move them back on recovery), so memory grows with
 * the suspect nodes, not with the fleet.
 */
export class LabelTally {
  readonly #keys = new Map<string, Key>();
  readonly #suspect = new Map<string, NodeEvent["labels"]>();
  readonly #maxKeys: number;
  readonly #maxValues: number;

  constructor(maxKeys = 64, maxValues = 1_000) {
    this.#maxKeys = maxKeys;
    this.#maxValues = maxValues;
  }

  /** Takes in the nodes registered before the tally started (once). */
  seed(nodes: Iterable<NodeInfo>): void {
    for (const n of nodes) {
      this.#add(n.labels, 1, 0);
      if (n.state === "suspect") this.#markSuspect(n.nodeId, n.labels);
    }
  }

  /** Applies one presence event. */
  apply(kind: "joined" | "left" | "suspect" | "timeout" | "recovered", e: Pick<NodeEvent, "nodeId" | "labels">): void {
    switch (kind) {
      case "joined":
        this.#add(e.labels, 1, 0);
        break;
      case "suspect":
        this.#markSuspect(e.nodeId, e.labels);
        break;
      case "recovered":
        this.#unmarkSuspect(e.nodeId);
        break;
      default:
        this.#unmarkSuspect(e.nodeId);
        this.#add(e.labels, -1, 0);
    }
  }

  /** Every tracked key with its values, most nodes first, at most `limit` values per key. */
  view(limit = 20): LabelKeyCount[] {
    return [...this.#keys]
      .map(([key, k]) => {
        const values = [...k.values]
          .filter(([, v]) => v.total > 0)
          .map(([value, v]) => ({ value, total: v.total, suspect: v.suspect }))
          .sort((a, b) => b.total - a.total || a.value.localeCompare(b.value));
        return { key, values: values.slice(0, limit), truncated: k.saturated || values.length > limit };
      })
      .filter((k) => k.values.length > 0)
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  #markSuspect(nodeId: string, labels: NodeEvent["labels"]): void {
    if (this.#suspect.has(nodeId)) return;
    this.#suspect.set(nodeId, labels);
    this.#add(labels, 0, 1);
  }

  #unmarkSuspect(nodeId: string): void {
    const labels = this.#suspect.get(nodeId);
    if (labels === undefined) return;
    this.#suspect.delete(nodeId);
    this.#add(labels, 0, -1);
  }

  #add(labels: NodeEvent["labels"], total: number, suspect: number): void {
    for (const key in labels) {
      let k = this.#keys.get(key);
      if (k === undefined) {
        if (this.#keys.size >= this.#maxKeys) continue;
        this.#keys.set(key, (k = { values: new Map(), saturated: false }));
      }
      const value = labels[key] as string;
      let v = k.values.get(value);
      if (v === undefined) {
        if (k.saturated || total <= 0) continue;
        if (k.values.size >= this.#maxValues) {
          k.saturated = true;
          continue;
        }
        k.values.set(value, (v = { total: 0, suspect: 0 }));
      }
      v.total += total;
      v.suspect += suspect;
      // Before saturation an empty value can go (it comes back counted from zero); after, it stays.
      if (v.total <= 0 && !k.saturated) k.values.delete(value);
    }
  }
}
