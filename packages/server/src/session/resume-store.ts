import { randomBytes } from "node:crypto";

/** Length of a resume token in bytes. */
export const RESUME_TOKEN_BYTES = 16;

/**
 * Resume tokens of live and lost-but-resumable sessions. A token is 16
 * random bytes, followed by the store's `tag` if it has one (a worker of a
 * multi-process server tags its tokens with its id), handed out in every
 * Welcome and rotated each time (the old one stops working). Lookup is by
 * the token's hex form.
 *
 * @typeParam R - what a token resumes (the server's session records)
 */
export class ResumeStore<R> {
  readonly #byToken = new Map<string, R>();
  readonly #tokenOf = new Map<R, string>();
  /** Bytes appended to every token issued from now on (default none). */
  tag: Uint8Array = new Uint8Array(0);

  /** Number of resumable sessions. */
  get size(): number {
    return this.#byToken.size;
  }

  /** Issues a fresh token for `record`, revoking the one it had. */
  issue(record: R): Uint8Array {
    this.revoke(record);
    const token = Buffer.concat([randomBytes(RESUME_TOKEN_BYTES), this.tag]);
    const key = token.toString("hex");
    this.#byToken.set(key, record);
    this.#tokenOf.set(record, key);
    return new Uint8Array(token.buffer, token.byteOffset, token.byteLength);
  }

  /** The record `token` resumes, or `undefined` for an unknown, revoked or malformed token. */
  find(token: Uint8Array): R | undefined {
    if (token.length !== RESUME_TOKEN_BYTES + this.tag.length) return undefined;
    return this.#byToken.get(Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString("hex"));
  }

  /** Makes `record`'s token invalid. */
  revoke(record: R): void {
    const key = this.#tokenOf.get(record);
    if (key === undefined) return;
    this.#tokenOf.delete(record);
    this.#byToken.delete(key);
  }
}
