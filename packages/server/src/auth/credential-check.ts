import { ErrorCode, labelsProblem } from "@hb/codec";
import type { PeerCertificate } from "node:tls";
import type { PermissionGrant, PermissionRule } from "../options/auth-options.js";
import type { ResolvedServerOptions } from "../options/server-options.js";
import { type AuthGrant, type AuthOutcome, type AuthRequest, type Authenticator, EMPTY_GRANT } from "./auth-outcome.js";
import { certificateNodeId } from "./certificate-node-id.js";
import { HookAuthenticator } from "./hook-authenticator.js";
import { JwtTokens } from "./jwt-tokens.js";
import { PermissionPolicy } from "./permission-policy.js";
import { StaticTokens } from "./static-tokens.js";

/** An accepted credential, bound to the connection. */
export interface Admission {
  /** Accepted. */
  readonly ok: true;
  /** The node id to register: the Hello's, or the one the credential or certificate binds ("": the server assigns one). */
  readonly nodeId: string;
  /** The labels to register: the Hello's with the bound ones added. */
  readonly labels: Record<string, string>;
  /** When the credential expires, ms since the Unix epoch; `undefined`: never. */
  readonly expiresAt: number | undefined;
  /** The credential's own permissions, if it carries some (else the rules apply). */
  readonly grant: PermissionGrant | undefined;
  /** A name for logs. */
  readonly name: string | undefined;
}

/** The answer of a {@link CredentialCheck}. */
export type CheckResult = Admission | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** A Hello or Renew to check, with the connection's client certificate (TLS with `requestCert`). */
export interface CheckRequest extends AuthRequest {
  /** The verified client certificate, if any. */
  readonly certificate: PeerCertificate | undefined;
}

/**
 * Authentication of a connection (PROTOCOL.md §5.3 step 2.3 and §5.8):
 * the `auth` mode (none, tokens, jwt), then the `authenticate` hook if
 * set, then the bindings (node id from the credential or the client
 * certificate, labels from the credential) against what the Hello asks.
 * The same check runs for a Renew, with the connection's node id and
 * labels: a credential bound to another node is refused.
 *
 * One per server; it rebuilds its authenticators when the options change
 * (a live reload of `auth` or `permissions`).
 */
export class CredentialCheck {
  readonly #options: () => ResolvedServerOptions;
  readonly #failed: (err: unknown) => void;
  #built: ResolvedServerOptions | undefined;
  #mode: Authenticator | undefined;
  #hook: Authenticator | undefined;
  #policy = new PermissionPolicy(undefined);
  #rules: readonly PermissionRule[] | undefined;

  /**
   * @param options - the options in force (read per check)
   * @param failed - an `authenticate` hook threw or rejected (counted and logged by the caller)
   */
  constructor(options: () => ResolvedServerOptions, failed: (err: unknown) => void) {
    this.#options = options;
    this.#failed = failed;
  }

  /** The permission rules in force. */
  get policy(): PermissionPolicy {
    this.#build();
    return this.#policy;
  }

  /** Whether connections are authenticated at all (a mode other than `none`, or the hook). */
  get authenticates(): boolean {
    const o = this.#options();
    return o.auth.mode !== "none" || o.authenticate !== undefined;
  }

  /** Checks a request; `done` is called once, synchronously when no step is asynchronous. */
  run(request: CheckRequest, done: (result: CheckResult) => void): void {
    this.#build();
    const o = this.#options();
    let certId: string | undefined;
    const from = o.auth.certificateNodeId;
    if (from !== undefined) {
      certId = request.certificate === undefined ? undefined : certificateNodeId(request.certificate, from);
      if (certId === undefined) {
        done({ ok: false, code: ErrorCode.UNAUTHORIZED, message: `a client certificate naming the node id (${from}) is required` });
        return;
      }
    }
    const hook = this.#hook;
    const finish = (mode: AuthOutcome, hooked: AuthOutcome | undefined): void => {
      if (!mode.ok) return done(mode);
      if (hooked !== undefined && !hooked.ok) return done(hooked);
      done(bind(request, certId, merge(mode.grant, hooked?.grant)));
    };
    const none: AuthOutcome = { ok: true, grant: EMPTY_GRANT };
    then<AuthOutcome>(this.#mode?.authenticate(request) ?? none, (mode) => {
      if (!mode.ok || hook === undefined) return finish(mode, undefined);
      then<AuthOutcome>(hook.authenticate(request), (hooked) => finish(mode, hooked), (err) => {
        this.#failed(err);
        finish(mode, { ok: false, code: ErrorCode.UNAUTHORIZED, message: "authentication refused" });
      });
    }, (err) => {
      this.#failed(err);
      done({ ok: false, code: ErrorCode.UNAUTHORIZED, message: "authentication failed" });
    });
  }

  #build(): void {
    const o = this.#options();
    if (this.#built === o) return;
    const prev = this.#built;
    this.#built = o;
    if (prev === undefined || prev.auth !== o.auth) {
      const a = o.auth;
      this.#mode = a.mode === "tokens" ? new StaticTokens(a.tokens ?? []) : a.mode === "jwt" ? new JwtTokens(a.jwt ?? {}) : undefined;
    }
    if (prev === undefined || prev.authenticate !== o.authenticate) {
      this.#hook = o.authenticate === undefined ? undefined : new HookAuthenticator(o.authenticate, this.#failed);
    }
    if (this.#rules !== o.permissions) {
      this.#rules = o.permissions;
      this.#policy = new PermissionPolicy(o.permissions);
    }
  }
}

// Runs `next` on a value or a promise's value.
function then<T>(value: T | Promise<T>, next: (v: T) => void, failed: (err: unknown) => void): void {
  if (typeof (value as { then?: unknown } | null)?.then === "function") (value as Promise<T>).then(next, failed);
  else next(value as T);
}

function merge(mode: AuthGrant, hook: AuthGrant | undefined): AuthGrant {
  if (hook === undefined) return mode;
  const a = mode.expiresAt;
  const b = hook.expiresAt;
  return {
    expiresAt: a === undefined ? b : b === undefined ? a : Math.min(a, b),
    nodeId: hook.nodeId ?? mode.nodeId,
    labels: mode.labels === undefined ? hook.labels : { ...mode.labels, ...hook.labels },
    permissions: hook.permissions ?? mode.permissions,
    name: mode.name ?? hook.name,
  };
}

// The credential's and the certificate's bindings against what the Hello (or the connection, for a Renew) asks.
function bind(request: CheckRequest, certId: string | undefined, grant: AuthGrant): CheckResult {
  const hello = request.hello;
  if (grant.expiresAt !== undefined && grant.expiresAt <= Date.now()) return { ok: false, code: ErrorCode.TOKEN_EXPIRED, message: "credential expired" };
  if (certId !== undefined && grant.nodeId !== undefined && certId !== grant.nodeId) {
    return { ok: false, code: ErrorCode.UNAUTHORIZED, message: "the credential and the client certificate name different node ids" };
  }
  const bound = certId ?? grant.nodeId;
  if (bound !== undefined && hello.nodeId !== "" && hello.nodeId !== bound) {
    return { ok: false, code: ErrorCode.UNAUTHORIZED, message: `the credential is bound to node id ${JSON.stringify(bound)}, not ${JSON.stringify(hello.nodeId)}` };
  }
  let labels = hello.labels;
  if (grant.labels !== undefined) {
    for (const [key, value] of Object.entries(grant.labels)) {
      const asked = hello.labels[key];
      if (asked !== undefined && asked !== value) {
        return { ok: false, code: ErrorCode.UNAUTHORIZED, message: `label ${JSON.stringify(key)} is bound by the credential to ${JSON.stringify(value)}` };
      }
    }
    labels = { ...hello.labels, ...grant.labels };
    if (request.renewal && Object.keys(labels).length !== Object.keys(hello.labels).length) {
      return { ok: false, code: ErrorCode.UNAUTHORIZED, message: "the credential binds labels the connection does not have" };
    }
    const problem = labelsProblem(labels);
    if (problem !== undefined) return { ok: false, code: ErrorCode.UNAUTHORIZED, message: `bound labels: ${problem}` };
  }
  return { ok: true, nodeId: bound ?? hello.nodeId, labels, expiresAt: grant.expiresAt, grant: grant.permissions, name: grant.name };
}
