import { subjectProblem } from "@hb/codec";
import type { AllowDeny, AuthOptions, MessageRateOptions, PermissionGrant, PermissionRule } from "./auth-options.js";
import { integerOption } from "./option-checks.js";

/** {@link AuthOptions} with defaults applied. */
export interface ResolvedAuthOptions extends AuthOptions {
  /** See {@link AuthOptions.mode}. */
  readonly mode: "none" | "tokens" | "jwt";
  /** See {@link AuthOptions.tokenGrace}. */
  readonly tokenGrace: number;
}

/** {@link MessageRateOptions} with defaults applied (0: that limit is off). */
export type ResolvedMessageRate = Readonly<Required<MessageRateOptions>>;

const JWT_ALGS = new Set(["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]);
const TEMPLATE = /\{(nodeId|labels\.[^}]+)\}/g;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function stringRecord(v: unknown, name: string): void {
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === "string")) throw new TypeError(`${name} must be an object of strings`);
}

function stringList(v: unknown, name: string): void {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x !== "")) throw new TypeError(`${name} must be a list of non-empty strings`);
}

/**
 * Checks the `auth` option (shape, mode, token hashes, JWT keys) and
 * applies its defaults.
 *
 * @throws TypeError / RangeError naming the offending field (`auth.tokens[2].hash …`)
 */
export function resolveAuthOptions(value: unknown): ResolvedAuthOptions {
  if (value === undefined) return Object.freeze({ mode: "none", tokenGrace: 30_000 });
  if (!isObject(value)) throw new TypeError("auth must be an object ({ mode, tokens, jwt, certificateNodeId, tokenGrace })");
  for (const key of Object.keys(value)) {
    if (!["mode", "tokens", "jwt", "certificateNodeId", "tokenGrace"].includes(key)) throw new TypeError(`unknown auth option "${key}"`);
  }
  const mode = value.mode ?? "none";
  if (mode !== "none" && mode !== "tokens" && mode !== "jwt") throw new TypeError(`auth.mode must be "none", "tokens" or "jwt", got ${JSON.stringify(mode)}`);
  if (mode === "tokens") {
    const tokens = value.tokens;
    if (!Array.isArray(tokens)) throw new TypeError("auth.tokens must be a list of { hash, name?, nodeId?, labels?, permissions? } in mode tokens");
    tokens.forEach((t: unknown, i) => {
      const name = `auth.tokens[${i}]`;
      if (!isObject(t)) throw new TypeError(`${name} must be an object`);
      const problem = tokenHashProblem(t.hash);
      if (problem !== undefined) throw new TypeError(`${name}.hash ${problem}`);
      if (t.nodeId !== undefined && typeof t.nodeId !== "string") throw new TypeError(`${name}.nodeId must be a string`);
      if (t.labels !== undefined) stringRecord(t.labels, `${name}.labels`);
      if (t.permissions !== undefined) checkGrant(t.permissions, `${name}.permissions`);
    });
  } else if (value.tokens !== undefined) throw new TypeError('auth.tokens needs auth.mode "tokens"');
  if (mode === "jwt") checkJwt(value.jwt);
  else if (value.jwt !== undefined) throw new TypeError('auth.jwt needs auth.mode "jwt"');
  const cert = value.certificateNodeId;
  if (cert !== undefined && cert !== "cn" && cert !== "dns" && cert !== "uri") throw new TypeError(`auth.certificateNodeId must be "cn", "dns" or "uri", got ${JSON.stringify(cert)}`);
  const tokenGrace = integerOption(value.tokenGrace, "auth.tokenGrace", 30_000, { min: 0, max: 3_600_000 });
  return Object.freeze({ ...(value as AuthOptions), mode, tokenGrace });
}

function checkJwt(jwt: unknown): void {
  if (!isObject(jwt)) throw new TypeError("auth.jwt must be an object ({ keys | jwks, audience, issuer, … }) in mode jwt");
  const keys = jwt.keys;
  if (keys === undefined && jwt.jwks === undefined) throw new TypeError("auth.jwt needs keys or jwks");
  if (keys !== undefined) {
    if (!Array.isArray(keys)) throw new TypeError("auth.jwt.keys must be a list of { alg, secret | publicKey, kid? }");
    keys.forEach((k: unknown, i) => {
      const name = `auth.jwt.keys[${i}]`;
      if (!isObject(k) || typeof k.alg !== "string" || !JWT_ALGS.has(k.alg)) throw new TypeError(`${name}.alg must be one of ${[...JWT_ALGS].join(", ")}`);
      const hs = k.alg.startsWith("HS");
      if (hs && (typeof k.secret !== "string" || k.secret.length < 32)) throw new TypeError(`${name}.secret must be a string of at least 32 characters for ${k.alg}`);
      if (!hs && (typeof k.publicKey !== "string" || !k.publicKey.includes("BEGIN PUBLIC KEY"))) throw new TypeError(`${name}.publicKey must be a PEM public key (SPKI) for ${k.alg}`);
    });
  }
  if (jwt.jwks !== undefined && (!isObject(jwt.jwks) || !Array.isArray(jwt.jwks.keys))) throw new TypeError('auth.jwt.jwks must be a JWKS document ({ "keys": [...] })');
  for (const claim of ["audience", "issuer"] as const) {
    const v = jwt[claim];
    if (v !== undefined && typeof v !== "string") stringList(v, `auth.jwt.${claim}`);
  }
  for (const claim of ["nodeIdClaim", "labelsClaim", "permissionsClaim"] as const) {
    if (jwt[claim] !== undefined && typeof jwt[claim] !== "string") throw new TypeError(`auth.jwt.${claim} must be a string`);
  }
  integerOption(jwt.clockTolerance, "auth.jwt.clockTolerance", 5, { min: 0, max: 3_600 });
}

function checkAllowDeny(v: unknown, name: string, subjects: boolean): void {
  if (typeof v === "boolean") return;
  if (!isObject(v)) throw new TypeError(`${name} must be true, false or { allow?, deny? }`);
  for (const key of Object.keys(v)) if (key !== "allow" && key !== "deny") throw new TypeError(`unknown ${name} key "${key}" (allow, deny)`);
  for (const key of ["allow", "deny"] as const) {
    const list = (v as AllowDeny)[key];
    if (list === undefined) continue;
    stringList(list, `${name}.${key}`);
    if (!subjects) continue;
    for (const p of list) {
      const problem = subjectProblem(p.replace(TEMPLATE, "x"), true);
      if (problem !== undefined) throw new TypeError(`${name}.${key}: ${JSON.stringify(p)}: ${problem}`);
    }
  }
}

/** Checks a {@link PermissionGrant} (a rule's, a token's, a claim's). @throws TypeError naming the field */
export function checkGrant(g: unknown, name: string): void {
  if (!isObject(g)) throw new TypeError(`${name} must be an object`);
  for (const key of Object.keys(g)) {
    if (!["publish", "subscribe", "send", "broadcast", "attach", "presence", "match"].includes(key)) throw new TypeError(`unknown ${name} key "${key}"`);
  }
  const grant = g as PermissionGrant;
  if (grant.publish !== undefined) checkAllowDeny(grant.publish, `${name}.publish`, true);
  if (grant.subscribe !== undefined) checkAllowDeny(grant.subscribe, `${name}.subscribe`, true);
  if (grant.send !== undefined) checkAllowDeny(grant.send, `${name}.send`, false);
  if (grant.attach !== undefined) checkAllowDeny(grant.attach, `${name}.attach`, false);
  if (grant.broadcast !== undefined && typeof grant.broadcast !== "boolean") throw new TypeError(`${name}.broadcast must be true or false`);
  const p = grant.presence;
  if (p !== undefined && typeof p !== "boolean") {
    if (!isObject(p)) throw new TypeError(`${name}.presence must be true, false or { filter }`);
    stringRecord(p.filter, `${name}.presence.filter`);
  }
}

/** Checks the `permissions` option (a list of rules). @throws TypeError naming the rule and field */
export function resolvePermissionRules(value: unknown): readonly PermissionRule[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new TypeError("permissions must be a list of rules ({ match?, publish?, subscribe?, send?, broadcast?, attach?, presence? })");
  value.forEach((rule: unknown, i) => {
    const name = `permissions[${i}]`;
    checkGrant(rule, name);
    const m = (rule as PermissionRule).match;
    if (m !== undefined) {
      if (!isObject(m)) throw new TypeError(`${name}.match must be an object ({ labels?, nodeId? })`);
      if (m.labels !== undefined) stringRecord(m.labels, `${name}.match.labels`);
      if (m.nodeId !== undefined && typeof m.nodeId !== "string") throw new TypeError(`${name}.match.nodeId must be a string (a glob)`);
    }
  });
  return Object.freeze([...(value as PermissionRule[])]);
}

/** Checks the `messageRate` option and applies its defaults. @throws TypeError / RangeError naming the field */
export function resolveMessageRate(value: unknown): ResolvedMessageRate {
  if (value === undefined) return Object.freeze({ messagesPerSecond: 0, messageBurst: 0, bytesPerSecond: 0, byteBurst: 0 });
  if (!isObject(value)) throw new TypeError("messageRate must be an object ({ messagesPerSecond, messageBurst, bytesPerSecond, byteBurst })");
  for (const key of Object.keys(value)) {
    if (!["messagesPerSecond", "messageBurst", "bytesPerSecond", "byteBurst"].includes(key)) throw new TypeError(`unknown messageRate option "${key}"`);
  }
  const range = { min: 0, max: 1e12 };
  const messagesPerSecond = integerOption(value.messagesPerSecond, "messageRate.messagesPerSecond", 0, range);
  const bytesPerSecond = integerOption(value.bytesPerSecond, "messageRate.bytesPerSecond", 0, range);
  const messageBurst = integerOption(value.messageBurst, "messageRate.messageBurst", 2 * messagesPerSecond, { min: messagesPerSecond > 0 ? 1 : 0, max: 1e12 });
  const byteBurst = integerOption(value.byteBurst, "messageRate.byteBurst", 2 * bytesPerSecond, { min: bytesPerSecond > 0 ? 1 : 0, max: 1e12 });
  return Object.freeze({ messagesPerSecond, messageBurst, bytesPerSecond, byteBurst });
}

/** A parsed `scrypt:` token hash. */
export interface ScryptHash {
  /** Cost parameter (a power of 2). */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
  /** Salt. */
  readonly salt: Buffer;
  /** The derived key. */
  readonly hash: Buffer;
}

/**
 * Checks the form of a stored token hash (`auth.tokens[].hash`).
 *
 * @returns the problem, or `undefined` for a valid `sha256:<64 hex>` or `scrypt:<N>:<r>:<p>:<salt>:<hash>`
 */
export function tokenHashProblem(stored: unknown): string | undefined {
  if (typeof stored !== "string") return "must be a string";
  if (stored.startsWith("sha256:")) return /^sha256:[0-9a-f]{64}$/.test(stored) ? undefined : "sha256: must be followed by 64 lowercase hex digits";
  if (stored.startsWith("scrypt:")) return parseScrypt(stored) === undefined ? "must be scrypt:<N>:<r>:<p>:<salt base64>:<hash base64>" : undefined;
  return 'must start with "sha256:" or "scrypt:" (hb-server hash-token makes one)';
}

/** Parses a `scrypt:` hash; `undefined` when malformed. */
export function parseScrypt(stored: string): ScryptHash | undefined {
  const parts = stored.split(":");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] as string, "base64");
  const hash = Buffer.from(parts[5] as string, "base64");
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || (N & (N - 1)) !== 0 || N > 1_048_576 || r > 32 || p > 16) return undefined;
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { N, r, p, salt, hash };
}
