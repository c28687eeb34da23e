import { ErrorCode, HbError, subjectProblem } from "@hb/codec";

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  /** Subscribers whose pattern ends at this node. */
  here: Set<T>;
  /** Subscribers whose pattern ends with `>` below this node. */
  tail: Set<T>;
}

const node = <T>(): TrieNode<T> => ({ children: new Map(), here: new Set(), tail: new Set() });

/**
 * Subscription index: patterns in, the subscribers of a concrete subject
 * out. A token trie in the manner of NATS's sublist, with `*` and `>`
 * children; `match` results are cached per subject and the cache is dropped
 * on any change, so steady-state publishing costs one Map lookup.
 */
export class SubjectIndex<T> {
  readonly #root = node<T>();
  readonly #cache = new Map<string, readonly T[]>();
  readonly #maxCache: number;
  #size = 0;

  /** @param maxCache - most subjects whose match result is cached (default 4096) */
  constructor(maxCache = 4096) {
    this.#maxCache = maxCache;
  }

  /** Number of (pattern, subscriber) entries. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds a subscriber under a pattern.
   *
   * @throws `HbError` `INVALID_ARGUMENT` for an invalid pattern (`subjectProblem` of @hb/codec)
   */
  add(pattern: string, subscriber: T): void {
    const problem = subjectProblem(pattern, true);
    if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
    const tokens = pattern.split(".");
    let n = this.#root;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as string;
      if (t === ">") {
        if (!n.tail.has(subscriber)) this.#size++;
        n.tail.add(subscriber);
        this.#cache.clear();
        return;
      }
      let child = n.children.get(t);
      if (child === undefined) {
        child = node<T>();
        n.children.set(t, child);
      }
      n = child;
    }
    if (!n.here.has(subscriber)) this.#size++;
    n.here.add(subscriber);
    this.#cache.clear();
  }

  /** Removes a subscriber from a pattern; prunes empty branches. */
  remove(pattern: string, subscriber: T): boolean {
    const tokens = pattern.split(".");
    const path: [TrieNode<T>, string][] = [];
    let n: TrieNode<T> | undefined = this.#root;
    let removed = false;
    for (let i = 0; i < tokens.length && n; i++) {
      const t = tokens[i] as string;
      if (t === ">" && i === tokens.length - 1) {
        removed = n.tail.delete(subscriber);
        n = undefined;
        break;
      }
      path.push([n, t]);
      n = n.children.get(t);
    }
    if (n) removed = n.here.delete(subscriber);
    if (!removed) return false;
    this.#size--;
    this.#cache.clear();
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, t] = path[i] as [TrieNode<T>, string];
      const child = parent.children.get(t);
      if (child && child.here.size === 0 && child.tail.size === 0 && child.children.size === 0) parent.children.delete(t);
      else break;
    }
    return true;
  }

  /**
   * The subscribers of a concrete subject, each once. The returned array is
   * shared with the cache: do not modify it.
   */
  match(subject: string): readonly T[] {
    const cached = this.#cache.get(subject);
    if (cached !== undefined) return cached;
    const tokens = subject.split(".");
    const out = new Set<T>();
    this.#collect(this.#root, tokens, 0, out);
    const result = [...out];
    if (this.#cache.size >= this.#maxCache) this.#cache.clear();
    this.#cache.set(subject, result);
    return result;
  }

  #collect(n: TrieNode<T>, tokens: string[], i: number, out: Set<T>): void {
    if (i === tokens.length) {
      for (const s of n.here) out.add(s);
      return;
    }
    // `>` below this node matches the one or more remaining tokens.
    for (const s of n.tail) out.add(s);
    const exact = n.children.get(tokens[i] as string);
    if (exact) this.#collect(exact, tokens, i + 1, out);
    const star = n.children.get("*");
    if (star) this.#collect(star, tokens, i + 1, out);
  }
}
