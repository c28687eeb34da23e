import { IdGlob } from "./id-glob.js";

/** Compiled allow / deny lists of node id globs (send targets, attached node ids). */
export class IdRule {
  /** The allow globs, `undefined` for "any id not denied". */
  readonly allow: readonly string[] | undefined;
  /** The deny globs. */
  readonly deny: readonly string[];
  readonly #allow: IdGlob[] | undefined;
  readonly #deny: IdGlob[];

  constructor(allow: readonly string[] | undefined, deny: readonly string[]) {
    this.allow = allow;
    this.deny = deny;
    this.#allow = allow?.map((g) => new IdGlob(g));
    this.#deny = deny.map((g) => new IdGlob(g));
  }

  /** Whether `nodeId` matches an allow glob and no deny glob. */
  allows(nodeId: string): boolean {
    return (this.#allow === undefined || this.#allow.some((g) => g.test(nodeId))) && !this.#deny.some((g) => g.test(nodeId));
  }
}
