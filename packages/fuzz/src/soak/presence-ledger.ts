/** A presence change the churn caused, which a watcher must see. */
export type Expected = "joined" | "left" | "timeout";

/**
 * The ground truth of a soak: for every node id, the presence changes the
 * churn caused, in order, and what a `$hb.presence` watcher saw. A change
 * is lost when the watcher never saw it (in order, among the node's
 * events): {@link PresenceLedger.lost} lists them.
 */
export class PresenceLedger {
  readonly #expected = new Map<string, Expected[]>();
  readonly #seen = new Map<string, string[]>();
  #expectedCount = 0;
  #seenCount = 0;

  /** The churn did something to `nodeId` that must show as `what`. */
  expect(nodeId: string, what: Expected): void {
    let list = this.#expected.get(nodeId);
    if (list === undefined) this.#expected.set(nodeId, (list = []));
    list.push(what);
    this.#expectedCount++;
  }

  /** The watcher saw an event of `kind` (`joined`, `left`, `suspect`, `timeout`, `recovered`) for `nodeId`. */
  saw(nodeId: string, kind: string): void {
    let list = this.#seen.get(nodeId);
    if (list === undefined) this.#seen.set(nodeId, (list = []));
    list.push(kind);
    this.#seenCount++;
  }

  /** Changes expected so far. */
  get expectedCount(): number {
    return this.#expectedCount;
  }

  /** Events seen so far. */
  get seenCount(): number {
    return this.#seenCount;
  }

  /** The expected changes the watcher did not see: `nodeId: kind` for each. */
  lost(): string[] {
    const out: string[] = [];
    for (const [nodeId, expected] of this.#expected) {
      const seen = this.#seen.get(nodeId) ?? [];
      let at = 0;
      for (const want of expected) {
        const i = seen.indexOf(want, at);
        if (i < 0) out.push(`${nodeId}: ${want}`);
        else at = i + 1;
      }
    }
    return out;
  }
}
