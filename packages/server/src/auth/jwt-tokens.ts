import { ErrorCode } from "@hb/codec";
import {
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWSHeaderParameters,
  createLocalJWKSet,
  errors,
  importSPKI,
  jwtVerify,
} from "jose";
import type { JwtAuthOptions, JwtKey, PermissionGrant } from "../options/auth-options.js";
import type { AuthOutcome, AuthRequest, Authenticator } from "./auth-outcome.js";

type Key = CryptoKey | Uint8Array;

/**
 * `auth.mode` `"jwt"`: signed tokens verified with `jose` (`jwtVerify`):
 * the signature with the configured keys or JWKS (HS*, RS*, PS*, ES*,
 * EdDSA), `exp` and `nbf` (with `clockTolerance`), `aud` and `iss` when
 * configured. An expired token is `TOKEN_EXPIRED`, anything else wrong
 * `UNAUTHORIZED`. The node id (`nodeIdClaim`, default `sub`), labels
 * (`labelsClaim`) and permissions (`permissionsClaim`) come from claims.
 */
export class JwtTokens implements Authenticator {
  readonly #o: JwtAuthOptions;
  readonly #getKey: JWTVerifyGetKey;
  readonly #algorithms: string[] | undefined;

  constructor(options: JwtAuthOptions) {
    this.#o = options;
    const keys = options.keys ?? [];
    const imported = new Map<JwtKey, Promise<Key>>();
    const load = (k: JwtKey): Promise<Key> => {
      let p = imported.get(k);
      if (p === undefined) {
        p = k.secret !== undefined ? Promise.resolve(new TextEncoder().encode(k.secret)) : importSPKI(k.publicKey as string, k.alg);
        imported.set(k, p);
      }
      return p;
    };
    const jwks = options.jwks === undefined ? undefined : createLocalJWKSet(options.jwks as Parameters<typeof createLocalJWKSet>[0]);
    this.#algorithms = options.jwks === undefined ? [...new Set(keys.map((k) => k.alg))] : undefined;
    this.#getKey = async (header: JWSHeaderParameters, token) => {
      const key = keys.find((k) => header.kid !== undefined && k.kid === header.kid) ?? keys.find((k) => k.alg === header.alg && (header.kid === undefined || k.kid === undefined));
      if (key !== undefined) return load(key);
      if (jwks !== undefined) return jwks(header, token);
      throw new errors.JWKSNoMatchingKey();
    };
  }

  /** See {@link Authenticator.authenticate}. */
  async authenticate(request: AuthRequest): Promise<AuthOutcome> {
    const o = this.#o;
    if (request.token === "") return { ok: false, code: ErrorCode.UNAUTHORIZED, message: "a token is required" };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(request.token, this.#getKey, {
        ...(this.#algorithms === undefined ? {} : { algorithms: this.#algorithms }),
        ...(o.audience === undefined ? {} : { audience: o.audience }),
        ...(o.issuer === undefined ? {} : { issuer: o.issuer }),
        clockTolerance: o.clockTolerance ?? 5,
        ...(o.requireExpiry === true ? { requiredClaims: ["exp"] } : {}),
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, code: ErrorCode.TOKEN_EXPIRED, message: "token expired" };
      const why = err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : "malformed token";
      return { ok: false, code: ErrorCode.UNAUTHORIZED, message: `token refused (${why})` };
    }
    const idClaim = o.nodeIdClaim ?? "sub";
    const nodeId = idClaim === "" ? undefined : payload[idClaim];
    if (nodeId !== undefined && typeof nodeId !== "string") return bad(`claim ${idClaim} must be a string`);
    const labels = payload[o.labelsClaim ?? "hb_labels"];
    if (labels !== undefined && !isStringRecord(labels)) return bad(`claim ${o.labelsClaim ?? "hb_labels"} must be an object of strings`);
    const permissions = payload[o.permissionsClaim ?? "hb_permissions"];
    if (permissions !== undefined && (typeof permissions !== "object" || permissions === null || Array.isArray(permissions))) {
      return bad(`claim ${o.permissionsClaim ?? "hb_permissions"} must be an object`);
    }
    return {
      ok: true,
      grant: {
        expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : undefined,
        nodeId,
        labels,
        permissions: permissions as PermissionGrant | undefined,
        name: typeof payload.sub === "string" ? payload.sub : undefined,
      },
    };
  }
}

function bad(message: string): AuthOutcome {
  return { ok: false, code: ErrorCode.UNAUTHORIZED, message: `token refused (${message})` };
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}
