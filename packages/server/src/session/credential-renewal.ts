import { ErrorCode, type Frame, type Hello, type Permissions, type Renew, makeFrame } from "@hb/codec";
import type { CheckResult, CredentialCheck } from "../auth/credential-check.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { SessionTransport } from "../core/ports/session-transport.js";
import type { ResolvedServerOptions } from "../options/server-options.js";
import type { SessionRecord } from "./session-record.js";

/** What a {@link CredentialRenewal} does to its session (a `Session`). */
export interface RenewalOutlet {
  /** The session's record while it is welcomed (`undefined` once it closed). */
  openRecord(): SessionRecord | undefined;
  /** Sends a control frame. */
  send(frame: Frame): void;
  /** Closes the session with a fatal error. */
  fail(code: ErrorCode, message: string, level?: "info" | "warn"): void;
  /** Refuses a Renew: a non-fatal error about it (`ref_body` = Renew). */
  refuse(code: ErrorCode, message: string): void;
  /** Logs at debug level. */
  debug(message: string): void;
  /** A handler threw: fatal `INTERNAL`. */
  internal(err: unknown): void;
  /** The connection's permissions as Welcome and Renewed carry them. */
  wirePermissions(): Permissions | undefined;
}

/** What a {@link CredentialRenewal} shares with every session of the server. */
export interface RenewalContext {
  /** The server's options in force (`auth.tokenGrace`). */
  readonly options: ResolvedServerOptions;
  /** The server's counters (`renewals`). */
  readonly stats: ServerCounters;
  /** Authentication and the permission rules. */
  readonly credentials: CredentialCheck;
}

/** Message of the fatal `PROTOCOL_VIOLATION` for a Renew on a connection that did not negotiate `token-renewal`. */
export const RENEW_NOT_NEGOTIATED = "Renew without feature token-renewal negotiated";

/**
 * One welcomed connection's credential over time (PROTOCOL.md §5.8): the
 * expiry timer (the connection closes `auth.tokenGrace` ms after its
 * credential expired, with `TOKEN_EXPIRED` to a client that negotiated
 * `token-renewal`, `UNAUTHORIZED` to one that did not) and Renew: the same
 * check as the handshake's, for the connection's node id and labels, which
 * restarts the expiry and may change the permissions.
 *
 * Created only for a connection whose credential expires or that negotiated
 * `token-renewal`.
 */
export class CredentialRenewal {
  /** Whether the client negotiated `token-renewal` (Renew accepted, `TOKEN_EXPIRED` sent). */
  readonly negotiated: boolean;
  readonly #ctx: RenewalContext;
  readonly #transport: SessionTransport;
  readonly #session: RenewalOutlet;
  // The Hello as registered (bound node id and labels), for renewals.
  readonly #registered: Hello | undefined;
  // A Renew is being checked.
  #renewing = false;
  // Closes the session when its credential expired and the grace passed.
  #expiryTimer: NodeJS.Timeout | undefined;

  /** `hello` and `nodeId`: the Hello and node id as registered (kept only when renewal is negotiated). */
  constructor(ctx: RenewalContext, transport: SessionTransport, session: RenewalOutlet, hello: Hello, nodeId: string, negotiated: boolean) {
    this.#ctx = ctx;
    this.#transport = transport;
    this.#session = session;
    this.negotiated = negotiated;
    // Kept for renewals only (a Renew is checked against the registered id and labels).
    if (negotiated) this.#registered = { ...hello, nodeId, token: "" };
  }

  /** A Renew frame: checked like the Hello's credential; answered with Renewed or a non-fatal error. */
  renew(renew: Renew, remoteAddress: string): void {
    if (!this.negotiated) {
      this.#session.fail(ErrorCode.PROTOCOL_VIOLATION, RENEW_NOT_NEGOTIATED);
      return;
    }
    if (this.#renewing) {
      this.#session.fail(ErrorCode.PROTOCOL_VIOLATION, "a second Renew before the first was answered");
      return;
    }
    const hello = this.#registered as Hello;
    this.#renewing = true;
    this.#ctx.credentials.run(
      { token: renew.token, hello: { ...hello, token: renew.token }, remoteAddress, renewal: true, certificate: this.#transport.peerCertificate?.() },
      (result) => this.#renewed(result),
    );
  }

  /** (Re)starts the expiry timer; returns the ms until expiry (0: none). */
  expireAt(expiresAt: number | undefined): number {
    this.stop();
    if (expiresAt === undefined) return 0;
    const ms = Math.max(1, Math.ceil(expiresAt - Date.now()));
    const grace = this.#ctx.options.auth.tokenGrace;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#ctx.stats.renewals.expired++;
      // PROTOCOL.md §5.8 rule 5: UNAUTHORIZED to a client that does not know TOKEN_EXPIRED.
      if (this.negotiated) this.#session.fail(ErrorCode.TOKEN_EXPIRED, `credential expired ${grace} ms ago and was not renewed`, "info");
      else this.#session.fail(ErrorCode.UNAUTHORIZED, `credential expired ${grace} ms ago`, "info");
    }, ms + grace);
    this.#expiryTimer.unref();
    return ms;
  }

  /** Stops the expiry timer (the session closed). */
  stop(): void {
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
  }

  #renewed(result: CheckResult): void {
    this.#renewing = false;
    const s = this.#session;
    const rec = s.openRecord();
    if (rec === undefined) return;
    try {
      if (!result.ok || result.nodeId !== rec.nodeId) {
        const code = !result.ok && result.code === ErrorCode.TOKEN_EXPIRED ? ErrorCode.TOKEN_EXPIRED : ErrorCode.UNAUTHORIZED;
        this.#ctx.stats.renewals.refused++;
        s.refuse(code, result.ok ? "the credential is bound to another node id" : result.message);
        return;
      }
      const hello = this.#registered as Hello;
      const before = rec.permissions;
      rec.permissions = this.#ctx.credentials.policy.forNode({ nodeId: rec.nodeId, labels: hello.labels }, result.grant);
      this.#ctx.stats.renewals.accepted++;
      const expiresIn = this.expireAt(result.expiresAt);
      s.send(
        makeFrame("renewed", {
          tokenExpiresInMs: BigInt(expiresIn),
          ...(rec.permissions === before ? {} : { permissions: s.wirePermissions() }),
        }),
      );
      s.debug(expiresIn > 0 ? `credential renewed, expires in ${expiresIn} ms` : "credential renewed, no expiry");
    } catch (err) {
      s.internal(err);
    }
  }
}
