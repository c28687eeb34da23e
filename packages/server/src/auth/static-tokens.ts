import { ErrorCode } from "@hb/codec";
import type { StaticToken } from "../options/auth-options.js";
import { type AuthGrant, type AuthOutcome, type AuthRequest, type Authenticator } from "./auth-outcome.js";
import { type ScryptHash, parseScrypt } from "../options/auth-option-checks.js";
import { scryptMatches, sha256Hex } from "./token-hash.js";

const refused: AuthOutcome = { ok: false, code: ErrorCode.UNAUTHORIZED, message: "unknown token" };

/**
 * `auth.mode` `"tokens"`: a static list of credentials, hashed at rest.
 * `sha256:` entries are found with one hash and a Map lookup; `scrypt:`
 * entries are tried one by one off the event loop (libuv threads), so keep
 * them few.
 */
export class StaticTokens implements Authenticator {
  readonly #bySha = new Map<string, AuthGrant>();
  readonly #scrypt: { hash: ScryptHash; grant: AuthGrant }[] = [];

  constructor(tokens: readonly StaticToken[]) {
    for (const t of tokens) {
      const grant: AuthGrant = { expiresAt: undefined, nodeId: t.nodeId, labels: t.labels, permissions: t.permissions, name: t.name };
      if (t.hash.startsWith("sha256:")) this.#bySha.set(t.hash.slice("sha256:".length), grant);
      else {
        const hash = parseScrypt(t.hash);
        if (hash !== undefined) this.#scrypt.push({ hash, grant });
      }
    }
  }

  /** See {@link Authenticator.authenticate}. */
  authenticate(request: AuthRequest): AuthOutcome | Promise<AuthOutcome> {
    const token = request.token;
    if (token === "") return { ok: false, code: ErrorCode.UNAUTHORIZED, message: "a token is required" };
    const grant = this.#bySha.get(sha256Hex(token));
    if (grant !== undefined) return { ok: true, grant };
    if (this.#scrypt.length === 0) return refused;
    return this.#tryScrypt(token);
  }

  async #tryScrypt(token: string): Promise<AuthOutcome> {
    for (const { hash, grant } of this.#scrypt) if (await scryptMatches(token, hash)) return { ok: true, grant };
    return refused;
  }
}
