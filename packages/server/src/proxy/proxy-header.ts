import { isIPv4, isIPv6 } from "node:net";

/** One end of a proxied connection. */
export interface ProxyAddress {
  /** IP address (IPv4 dotted, IPv6 in its short form). */
  address: string;
  /** TCP port. */
  port: number;
}

/** A parsed PROXY protocol header (HAProxy's spec, versions 1 and 2). */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  version: 1 | 2;
  /**
   * `proxy`: a relayed connection, `source` is the client. `local`: the
   * balancer's own connection (a health check): no addresses, the socket's
   * own apply. A v1 `UNKNOWN` header is `local` too.
   */
  command: "proxy" | "local";
  /** The client, for `proxy` over TCP/IPv4 or TCP/IPv6. */
  source?: ProxyAddress;
  /** The address the client connected to, likewise. */
  destination?: ProxyAddress;
  /** Bytes of the header (the connection's own bytes follow). */
  length: number;
}

/** Result of {@link parseProxyHeader}. */
export type ProxyParse =
  | { state: "incomplete" }
  | { state: "done"; header: ProxyHeader }
  | { state: "error"; message: string };

/** Longest v1 header, CRLF included (the spec's 107 bytes). */
export const MAX_V1_LENGTH = 107;
/** Longest v2 header accepted (16 fixed bytes + addresses + TLVs); a longer one is refused. */
export const MAX_V2_LENGTH = 16 + 4_096;

const V1_PREFIX = Buffer.from("PROXY ", "latin1");
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/**
 * Parses the PROXY protocol header at the start of `bytes` (v1 or v2,
 * told apart by their first bytes), as a load balancer (HAProxy, nginx
 * `proxy_protocol`, AWS NLB, …) sends it before the client's own bytes.
 * Incremental: call again with more bytes while it answers `incomplete`;
 * it never needs more than {@link MAX_V2_LENGTH} bytes and answers `error`
 * as soon as the bytes cannot start a valid header (so a client speaking
 * hb directly to a port that expects PROXY is refused on its first bytes).
 * v2 over UDP or Unix sockets is refused (hb speaks TCP); TLVs are skipped.
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyParse {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(buf, V2_SIGNATURE)) return buf.length < V2_SIGNATURE.length ? { state: "incomplete" } : parseV2(buf);
  if (startsWith(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? { state: "incomplete" } : parseV1(buf);
  return { state: "error", message: "not a PROXY protocol header (v1 or v2)" };
}

// Whether `buf` and `prefix` agree on their common length.
function startsWith(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.subarray(0, MAX_V1_LENGTH).indexOf("\r\n", 0, "latin1");
  if (end < 0) {
    return buf.length >= MAX_V1_LENGTH ? { state: "error", message: "PROXY v1 header without CRLF in its first 107 bytes" } : { state: "incomplete" };
  }
  const line = buf.toString("latin1", 0, end);
  const length = end + 2;
  const parts = line.split(" ");
  if (parts[1] === "UNKNOWN") return { state: "done", header: { version: 1, command: "local", length } };
  if (parts.length !== 6) return { state: "error", message: `malformed PROXY v1 header "${line}"` };
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const valid = proto === "TCP4" ? isIPv4 : proto === "TCP6" ? isIPv6 : undefined;
  if (valid === undefined) return { state: "error", message: `PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN, got "${proto}"` };
  if (!valid(src) || !valid(dst)) return { state: "error", message: `PROXY v1 addresses are not ${proto} addresses: "${src}", "${dst}"` };
  const sp = port(sport);
  const dp = port(dport);
  if (sp === undefined || dp === undefined) return { state: "error", message: `PROXY v1 ports must be 0..65535: "${sport}", "${dport}"` };
  return {
    state: "done",
    header: { version: 1, command: "proxy", source: { address: src, port: sp }, destination: { address: dst, port: dp }, length },
  };
}

function port(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65_535 ? n : undefined;
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return { state: "incomplete" };
  const verCmd = buf[12] as number;
  if (verCmd >> 4 !== 2) return { state: "error", message: `PROXY v2 version must be 2, got ${verCmd >> 4}` };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { state: "error", message: `PROXY v2 command must be LOCAL (0) or PROXY (1), got ${cmd}` };
  const family = buf[13] as number;
  const len = buf.readUInt16BE(14);
  const length = 16 + len;
  if (length > MAX_V2_LENGTH) return { state: "error", message: `PROXY v2 header of ${length} bytes is over the ${MAX_V2_LENGTH} allowed` };
  if (buf.length < length) return { state: "incomplete" };
  if (cmd === 0) return { state: "done", header: { version: 2, command: "local", length } };
  if (family === 0x00) return { state: "done", header: { version: 2, command: "local", length } };
  if (family === 0x11) {
    if (len < 12) return { state: "error", message: `PROXY v2 TCP/IPv4 addresses need 12 bytes, got ${len}` };
    const src = Array.from(buf.subarray(16, 20)).join(".");
    const dst = Array.from(buf.subarray(20, 24)).join(".");
    return {
      state: "done",
      header: { version: 2, command: "proxy", source: { address: src, port: buf.readUInt16BE(24) }, destination: { address: dst, port: buf.readUInt16BE(26) }, length },
    };
  }
  if (family === 0x21) {
    if (len < 36) return { state: "error", message: `PROXY v2 TCP/IPv6 addresses need 36 bytes, got ${len}` };
    return {
      state: "done",
      header: {
        version: 2,
        command: "proxy",
        source: { address: ipv6(buf.subarray(16, 32)), port: buf.readUInt16BE(48) },
        destination: { address: ipv6(buf.subarray(32, 48)), port: buf.readUInt16BE(50) },
        length,
      },
    };
  }
  return { state: "error", message: `PROXY v2 address family 0x${family.toString(16).padStart(2, "0")} is not TCP over IPv4 or IPv6` };
}

// 16 bytes → the short text form (the WHATWG URL serializer compresses the longest run of zero groups).
function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}
