// Builds PROXY protocol v2 headers for the tests (valid ones, and broken on purpose).
import { isIPv4 } from "node:net";

export interface V2Options {
  local?: boolean;
  source?: string;
  sourcePort?: number;
  destination?: string;
  destinationPort?: number;
  /** Bytes of a (meaningless) TLV appended after the addresses. */
  tlv?: number;
  version?: number;
  command?: number;
  family?: number;
  /** Override of the length field. */
  length?: number;
}

export function v2Header(o: V2Options): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  let body = Buffer.alloc(0);
  let family = 0x00;
  if (!o.local && o.source !== undefined && o.destination !== undefined) {
    const v4 = isIPv4(o.source);
    family = v4 ? 0x11 : 0x21;
    const addr = (a: string) => (v4 ? Buffer.from(a.split(".").map(Number)) : ipv6Bytes(a));
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(o.sourcePort ?? 0, 0);
    ports.writeUInt16BE(o.destinationPort ?? 0, 2);
    body = Buffer.concat([addr(o.source), addr(o.destination), ports]);
  }
  if (o.tlv) body = Buffer.concat([body, Buffer.from([0x04, 0, o.tlv]), Buffer.alloc(o.tlv, 7)]);
  const head = Buffer.alloc(4);
  head[0] = ((o.version ?? 2) << 4) | (o.command ?? (o.local ? 0 : 1));
  head[1] = o.family ?? family;
  head.writeUInt16BE(o.length ?? body.length, 2);
  return Buffer.concat([sig, head, body]);
}

function ipv6Bytes(text: string): Buffer {
  const [head = "", tail = ""] = text.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = text.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}
