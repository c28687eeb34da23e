import { generateKeyPairSync } from "node:crypto";
import { SignJWT, exportJWK, importPKCS8 } from "jose";

/** A shared secret for HS256 tests (≥ 32 characters, as auth.jwt requires). */
export const HS_SECRET = "test-secret-of-at-least-32-characters!";

/** Signs `claims` with HS256; `expiresInS` sets `exp` from now (omit: none). */
export async function hs256(claims: Record<string, unknown>, expiresInS?: number, secret = HS_SECRET): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (expiresInS !== undefined) jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + expiresInS);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A key pair for `alg` (RS256 or EdDSA): the PEM public key, a signer and the public JWK. */
export async function keyPair(alg: "RS256" | "EdDSA"): Promise<{
  publicKey: string;
  sign: (claims: Record<string, unknown>, expiresInS?: number, kid?: string) => Promise<string>;
  jwk: object;
}> {
  const pair = alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ed25519");
  const publicKey = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
  const privateKey = await importPKCS8(pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), alg);
  const jwk = { ...(await exportJWK(pair.publicKey)), alg, kid: `${alg}-kid` };
  return {
    publicKey,
    jwk,
    sign: async (claims, expiresInS, kid) => {
      let jwt = new SignJWT(claims).setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) });
      if (expiresInS !== undefined) jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + expiresInS);
      return jwt.sign(privateKey);
    },
  };
}
