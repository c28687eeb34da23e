import { ErrorCode } from "@hb/codec";
import type { AuthenticateDecision, AuthenticateHook } from "../options/server-options.js";
import type { AuthOutcome, AuthRequest, Authenticator } from "./auth-outcome.js";

const REFUSED: AuthOutcome = { ok: false, code: ErrorCode.UNAUTHORIZED, message: "authentication refused" };

/**
 * The `authenticate` hook as an {@link Authenticator}: `true` accepts,
 * an {@link AuthenticateDecision} accepts with an expiry, bindings or
 * permissions, anything else (a throw, a rejection) refuses with
 * `UNAUTHORIZED`; a decision whose expiry has passed is `TOKEN_EXPIRED`.
 * A throw or rejection is reported to `failed` (counted, logged).
 */
export class HookAuthenticator implements Authenticator {
  readonly #hook: AuthenticateHook;
  readonly #failed: (err: unknown) => void;

  constructor(hook: AuthenticateHook, failed: (err: unknown) => void) {
    this.#hook = hook;
    this.#failed = failed;
  }

  /** See {@link Authenticator.authenticate}. */
  authenticate(request: AuthRequest): AuthOutcome | Promise<AuthOutcome> {
    let result: ReturnType<AuthenticateHook>;
    try {
      result = this.#hook(request.hello, { remoteAddress: request.remoteAddress, renewal: request.renewal });
    } catch (err) {
      this.#failed(err);
      return REFUSED;
    }
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      return (result as Promise<boolean | AuthenticateDecision>).then(decide, (err: unknown) => {
        this.#failed(err);
        return REFUSED;
      });
    }
    return decide(result as boolean | AuthenticateDecision);
  }
}

function decide(result: unknown): AuthOutcome {
  if (result === true) return { ok: true, grant: { expiresAt: undefined, nodeId: undefined, labels: undefined, permissions: undefined, name: undefined } };
  if (typeof result !== "object" || result === null) return REFUSED;
  const d = result as AuthenticateDecision;
  const expiresAt = d.expiresAt ?? (d.expiresIn === undefined ? undefined : Date.now() + d.expiresIn);
  if (expiresAt !== undefined && !(expiresAt > Date.now())) {
    return { ok: false, code: ErrorCode.TOKEN_EXPIRED, message: "credential expired" };
  }
  return { ok: true, grant: { expiresAt, nodeId: d.nodeId, labels: d.labels, permissions: d.permissions, name: undefined } };
}
