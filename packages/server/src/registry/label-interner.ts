import type { NodeLabels } from "./node-labels.js";

/** Id of the empty label set; it always exists. */
export const EMPTY_LABEL_SET = 0;

const EMPTY: NodeLabels = Object.freeze({});

/**
 * Interns label sets: nodes with equal labels share one frozen object and one
 * small integer id, so a million nodes with a handful of distinct label sets
 * cost a handful of objects. Reference counted: a set is forgotten when the
 * last node using it goes.
 *
 * It also indexes sets by entry (`key=value` → set ids), so a label query
 * finds the matching sets without looking at any node.
 */
export class LabelInterner {
  readonly #byKey = new Map<string, number>();
  #labels: (NodeLabels | undefined)[] = [EMPTY];
  #keys: (string | undefined)[] = [""];
  #refs: number[] = [0];
  #free: number[] = [];
  // `${key}\u0000${value}` → ids of the sets containing that entry.
  readonly #byEntry = new Map<string, Set<number>>();

  /** Number of distinct label sets held (the empty set included). */
  get size(): number {
    return this.#labels.length - this.#free.length;
  }

  /** One past the highest set id ever handed out (for sizing per-set tables). */
  get idLimit(): number {
    return this.#labels.length;
  }

  /**
   * Returns the id of the set equal to `labels`, creating it on first use,
   * and adds a reference. `labels` is not kept: the set holds its own frozen
   * copy.
   */
  intern(labels: Record<string, string>): number {
    const keys = Object.keys(labels);
    if (keys.length === 0) {
      this.#refs[EMPTY_LABEL_SET] = (this.#refs[EMPTY_LABEL_SET] as number) + 1;
      return EMPTY_LABEL_SET;
    }
    keys.sort();
    const flat: string[] = [];
    for (const k of keys) flat.push(k, labels[k] as string);
    const canonical = JSON.stringify(flat);
    let id = this.#byKey.get(canonical);
    if (id === undefined) {
      const copy: Record<string, string> = {};
      for (const k of keys) copy[k] = labels[k] as string;
      id = this.#free.pop() ?? this.#labels.length;
      this.#labels[id] = Object.freeze(copy);
      this.#keys[id] = canonical;
      this.#refs[id] = 0;
      this.#byKey.set(canonical, id);
      for (const k of keys) {
        const entry = `${k}\u0000${copy[k]}`;
        let ids = this.#byEntry.get(entry);
        if (ids === undefined) this.#byEntry.set(entry, (ids = new Set()));
        ids.add(id);
      }
    }
    this.#refs[id] = (this.#refs[id] as number) + 1;
    return id;
  }

  /** Drops one reference to set `id`; the set is forgotten at zero. */
  release(id: number): void {
    const refs = (this.#refs[id] as number) - 1;
    this.#refs[id] = refs;
    if (refs > 0 || id === EMPTY_LABEL_SET) return;
    const labels = this.#labels[id] as NodeLabels;
    for (const k in labels) {
      const entry = `${k}\u0000${labels[k]}`;
      const ids = this.#byEntry.get(entry);
      ids?.delete(id);
      if (ids?.size === 0) this.#byEntry.delete(entry);
    }
    this.#byKey.delete(this.#keys[id] as string);
    this.#labels[id] = undefined;
    this.#keys[id] = undefined;
    this.#free.push(id);
  }

  /** The frozen labels of set `id`. */
  labels(id: number): NodeLabels {
    return this.#labels[id] as NodeLabels;
  }

  /** Number of nodes referencing set `id`. */
  refs(id: number): number {
    return this.#refs[id] ?? 0;
  }

  /**
   * Ids of the live sets that contain every entry of `filter` (all sets for
   * an empty filter). Cost: the size of the smallest entry's id set times the
   * number of filter entries, independent of the number of nodes.
   */
  matching(filter: Readonly<Record<string, string>>): number[] {
    const entries = Object.keys(filter);
    if (entries.length === 0) return this.all();
    let smallest: Set<number> | undefined;
    const sets: Set<number>[] = [];
    for (const k of entries) {
      const ids = this.#byEntry.get(`${k}\u0000${filter[k]}`);
      if (ids === undefined) return [];
      sets.push(ids);
      if (smallest === undefined || ids.size < smallest.size) smallest = ids;
    }
    const out: number[] = [];
    for (const id of smallest as Set<number>) {
      if (sets.every((s) => s.has(id))) out.push(id);
    }
    return out;
  }

  /** Ids of every live set, the empty set included. */
  all(): number[] {
    const out: number[] = [];
    for (let id = 0; id < this.#labels.length; id++) if (this.#labels[id] !== undefined) out.push(id);
    return out;
  }
}
