import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { ScryptHash } from "../options/auth-option-checks.js";

/** scrypt cost used by {@link hashToken} (N, r, p): about 50 ms and 16 MiB per check. */
export const SCRYPT_COST = { N: 16_384, r: 8, p: 1 } as const;

/**
 * The hash of a token as `auth.tokens[].hash` holds it: `sha256:<hex>` for
 * random tokens (128 bits or more: a hash lookup, fast), or
 * `scrypt:<N>:<r>:<p>:<salt>:<hash>` (base64) for tokens people choose
 * (slow on purpose: each check costs about 50 ms of a libuv thread).
 */
export async function hashToken(token: string, algorithm: "sha256" | "scrypt" = "sha256"): Promise<string> {
  if (algorithm === "sha256") return `sha256:${sha256Hex(token)}`;
  const salt = randomBytes(16);
  const { N, r, p } = SCRYPT_COST;
  const hash = await scryptBytes(token, salt, N, r, p);
  return `scrypt:${N}:${r}:${p}:${salt.toString("base64")}:${hash.toString("base64")}`;
}

/** A random token of 32 bytes, base64url (256 bits: store its `sha256:` hash). */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The hex SHA-256 of a token's UTF-8 bytes. */
export function sha256Hex(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Whether `token` hashes to the parsed scrypt hash (constant-time comparison). */
export async function scryptMatches(token: string, h: ScryptHash): Promise<boolean> {
  const derived = await scryptBytes(token, h.salt, h.N, h.r, h.p, h.hash.length);
  return timingSafeEqual(derived, h.hash);
}

function scryptBytes(token: string, salt: Buffer, N: number, r: number, p: number, length = 32): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(token, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
