/**
 * A glob over node ids: `*` matches any run of characters (none included),
 * every other character itself. Compiled once to a RegExp.
 */
export class IdGlob {
  /** The glob as written. */
  readonly source: string;
  readonly #re: RegExp | undefined;

  constructor(source: string) {
    this.source = source;
    this.#re = source.includes("*")
      ? new RegExp(`^${source.split("*").map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "su")
      : undefined;
  }

  /** Whether `id` matches. */
  test(id: string): boolean {
    return this.#re === undefined ? id === this.source : this.#re.test(id);
  }
}
