import { describe, expect, it } from "vitest";
import { MAX_V1_LENGTH, MAX_V2_LENGTH, parseProxyHeader } from "../../src/proxy/proxy-header.js";
import { v2Header } from "./proxy-bytes.js";

const ascii = (s: string) => Buffer.from(s, "latin1");

describe("parseProxyHeader", () => {
  it("parses v1 TCP4 / TCP6 / UNKNOWN and reports the header length", () => {
    const h4 = "PROXY TCP4 203.0.113.7 192.0.2.1 51000 9501\r\n";
    expect(parseProxyHeader(ascii(`${h4}rest`))).toEqual({
      state: "done",
      header: { version: 1, command: "proxy", source: { address: "203.0.113.7", port: 51000 }, destination: { address: "192.0.2.1", port: 9501 }, length: h4.length },
    });
    const h6 = parseProxyHeader(ascii("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"));
    expect(h6.state === "done" && h6.header.source).toEqual({ address: "2001:db8::1", port: 1 });
    expect(parseProxyHeader(ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"))).toMatchObject({ state: "done", header: { command: "local" } });
  });

  it("parses v2 PROXY over IPv4 and IPv6 (TLVs skipped) and LOCAL", () => {
    const v4 = v2Header({ source: "198.51.100.20", sourcePort: 4242, destination: "10.0.0.1", destinationPort: 9501, tlv: 5 });
    expect(parseProxyHeader(Buffer.concat([v4, ascii("hb")]))).toEqual({
      state: "done",
      header: { version: 2, command: "proxy", source: { address: "198.51.100.20", port: 4242 }, destination: { address: "10.0.0.1", port: 9501 }, length: v4.length },
    });
    const v6 = parseProxyHeader(v2Header({ source: "2001:db8:0:0:0:0:0:7", sourcePort: 1, destination: "::1", destinationPort: 2 }));
    expect(v6.state === "done" && v6.header.source?.address).toBe("2001:db8::7");
    expect(parseProxyHeader(v2Header({ local: true }))).toMatchObject({ state: "done", header: { version: 2, command: "local" } });
  });

  it("answers incomplete for every proper prefix, byte by byte", () => {
    for (const whole of [ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), v2Header({ source: "1.2.3.4", sourcePort: 1, destination: "5.6.7.8", destinationPort: 2, tlv: 3 })]) {
      for (let n = 0; n < whole.length; n++) expect(parseProxyHeader(whole.subarray(0, n)).state, `${n} bytes`).toBe("incomplete");
      expect(parseProxyHeader(whole).state).toBe("done");
    }
  });

  it("refuses anything else as early as it can tell", () => {
    const cases: [Buffer, RegExp][] = [
      [ascii("\x00\x00\x00\x10hello"), /not a PROXY protocol header/],
      [ascii("PROXZ"), /not a PROXY/],
      [ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), /malformed/],
      [ascii("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), /TCP4, TCP6 or UNKNOWN/],
      [ascii("PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n"), /not TCP4 addresses/],
      [ascii("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), /not TCP6 addresses/],
      [ascii("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), /0\.\.65535/],
      [ascii("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), /0\.\.65535/],
      [ascii(`PROXY ${"x".repeat(MAX_V1_LENGTH)}`), /without CRLF/],
      [v2Header({ version: 1 }), /version must be 2/],
      [v2Header({ command: 2 }), /LOCAL \(0\) or PROXY \(1\)/],
      [v2Header({ family: 0x12 }), /not TCP over IPv4 or IPv6/],
      [v2Header({ family: 0x31 }), /not TCP/],
      [v2Header({ source: "1.2.3.4", sourcePort: 1, destination: "5.6.7.8", destinationPort: 2, length: 4 }), /need 12 bytes/],
      [v2Header({ length: MAX_V2_LENGTH }), /over the/],
    ];
    for (const [bytes, message] of cases) {
      const r = parseProxyHeader(bytes);
      expect(r.state, String(message)).toBe("error");
      expect(r.state === "error" && r.message).toMatch(message);
    }
  });
});
