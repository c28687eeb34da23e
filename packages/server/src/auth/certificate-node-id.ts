import type { PeerCertificate } from "node:tls";

/**
 * The node id a client certificate names (`auth.certificateNodeId`): the
 * subject's CN (`"cn"`), or the first subjectAltName of type DNS or URI.
 *
 * @returns the id, or `undefined` when the certificate has none of that kind
 */
export function certificateNodeId(cert: PeerCertificate, from: "cn" | "dns" | "uri"): string | undefined {
  if (from === "cn") {
    const cn = cert.subject?.CN;
    return typeof cn === "string" && cn !== "" ? cn : Array.isArray(cn) ? cn[0] : undefined;
  }
  const prefix = from === "dns" ? "DNS:" : "URI:";
  for (const entry of (cert.subjectaltname ?? "").split(",")) {
    const e = entry.trim();
    if (e.startsWith(prefix) && e.length > prefix.length) return e.slice(prefix.length);
  }
  return undefined;
}
