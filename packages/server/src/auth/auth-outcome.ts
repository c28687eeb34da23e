import type { ErrorCode, Hello } from "@hb/codec";
import type { PermissionGrant } from "../options/auth-options.js";

/** What an accepted credential says about the connection. */
export interface AuthGrant {
  /** When the credential expires, ms since the Unix epoch; `undefined`: never. */
  readonly expiresAt: number | undefined;
  /** The node id it is bound to, if any. */
  readonly nodeId: string | undefined;
  /** Labels it binds, if any. */
  readonly labels: Readonly<Record<string, string>> | undefined;
  /** Its permissions (instead of the `permissions` rules), if any. */
  readonly permissions: PermissionGrant | undefined;
  /** A name for logs (a static token's `name`, a JWT's `sub`). */
  readonly name: string | undefined;
}

/** The answer of an authentication: a grant, or a refusal with its code (`UNAUTHORIZED` or `TOKEN_EXPIRED`). */
export type AuthOutcome = { readonly ok: true; readonly grant: AuthGrant } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** What an authentication is asked about: a Hello, or a Renew on a live connection. */
export interface AuthRequest {
  /** The credential (`Hello.token` or `Renew.token`). */
  readonly token: string;
  /** The Hello (for a Renew: the connection's, with the new token). */
  readonly hello: Hello;
  /** The connection's address. */
  readonly remoteAddress: string;
  /** Whether this is a Renew. */
  readonly renewal: boolean;
}

/** A grant with nothing in it: no expiry, no binding, no permissions. */
export const EMPTY_GRANT: AuthGrant = Object.freeze({
  expiresAt: undefined,
  nodeId: undefined,
  labels: undefined,
  permissions: undefined,
  name: undefined,
});

/** An authentication mode (`auth.mode`), or the hook. */
export interface Authenticator {
  /** Checks a credential; may answer synchronously. */
  authenticate(request: AuthRequest): AuthOutcome | Promise<AuthOutcome>;
}
