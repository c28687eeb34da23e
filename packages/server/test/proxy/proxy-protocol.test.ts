// PROXY protocol over real sockets: a server behind a (simulated) balancer sees the clients'
// addresses, for per-IP limits, authenticate and NodeInfo; anything without a header is refused.
import { connect } from "node:net";
import { ErrorCode, PROTOCOL_VERSION, encodeFrame, makeFrame } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import type { AuthenticateContext } from "../../src/auth.js";
import type { HeartbeatServer } from "../../src/index.js";
import { readProxyHeader } from "../../src/proxy/read-proxy-header.js";
import { start } from "../helpers.js";
import { RawPeer, waitFor } from "../raw-peer.js";
import { v2Header } from "./proxy-bytes.js";

const servers: HeartbeatServer[] = [];
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function proxied(port: number, header: Buffer, split = false): Promise<RawPeer> {
  const peer = await RawPeer.connect(port);
  peers.push(peer);
  if (split) for (const b of header) peer.sendRaw(Buffer.from([b]));
  else peer.sendRaw(header);
  return peer;
}

describe("proxyProtocol", () => {
  it("takes the client address from v1 and v2 headers: per-IP limit, authenticate, NodeInfo", async () => {
    const seen: string[] = [];
    const { server, port } = await start({
      proxyProtocol: true,
      maxConnectionsPerIp: 1,
      authenticate: (_hello, ctx: AuthenticateContext) => {
        seen.push(ctx.remoteAddress);
        return true;
      },
    });
    servers.push(server);
    const a = await proxied(port, Buffer.from("PROXY TCP4 203.0.113.1 127.0.0.1 40000 9501\r\n"));
    await a.hello({ nodeId: "a" });
    const b = await proxied(port, v2Header({ source: "2001:db8::b", sourcePort: 1, destination: "::1", destinationPort: 2, tlv: 8 }), true);
    await b.hello({ nodeId: "b" });
    expect(seen).toEqual(["203.0.113.1", "2001:db8::b"]);
    expect(server.get("a")?.remoteAddress).toBe("203.0.113.1");
    expect(server.get("b")?.remoteAddress).toBe("2001:db8::b");
    // Every connection comes from 127.0.0.1 (the "balancer"), but the limit is per client address.
    const again = await proxied(port, Buffer.from("PROXY TCP4 203.0.113.1 127.0.0.1 40001 9501\r\n"));
    const refused = await again.nextOf(["error"], 5_000);
    expect(refused.body.case === "error" && refused.body.value.code).toBe(ErrorCode.SERVER_FULL);
  });

  it("feeds the bytes that follow the header in the same packet to the session", async () => {
    const { server, port } = await start({ proxyProtocol: true });
    servers.push(server);
    const peer = await RawPeer.connect(port);
    peers.push(peer);
    const hello = encodeFrame(makeFrame("hello", { protocolVersion: PROTOCOL_VERSION, nodeId: "together" }));
    peer.sendRaw(Buffer.concat([Buffer.from("PROXY TCP4 198.51.100.9 127.0.0.1 1 2\r\n"), hello]));
    await peer.nextOf(["welcome"], 5_000);
    expect(server.get("together")?.remoteAddress).toBe("198.51.100.9");
  });

  it("a LOCAL (health check) header keeps the socket's own address", async () => {
    const { server, port } = await start({ proxyProtocol: true });
    servers.push(server);
    const peer = await proxied(port, v2Header({ local: true }));
    await peer.hello({ nodeId: "check" });
    expect(server.get("check")?.remoteAddress).toBe("127.0.0.1");
  });

  it("closes connections without a valid header, counts and logs them, and the others go on", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (o: object) => warnings.push((o as { code?: string }).code ?? "") };
    const { server, port } = await start({ proxyProtocol: true, handshakeTimeout: 300, logger });
    servers.push(server);
    const ok = await proxied(port, Buffer.from("PROXY TCP4 192.0.2.5 127.0.0.1 1 2\r\n"));
    await ok.hello({ nodeId: "ok" });
    const direct = await RawPeer.connect(port); // speaks hb straight away: no header
    peers.push(direct);
    direct.send("hello", { protocolVersion: PROTOCOL_VERSION, nodeId: "direct" });
    const silent = await RawPeer.connect(port); // sends nothing: closed after handshakeTimeout
    peers.push(silent);
    const garbage = await proxied(port, Buffer.from("PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\n"));
    await Promise.all([direct.closed, silent.closed, garbage.closed]);
    expect(server.get("direct")).toBeUndefined();
    await waitFor(() => server.stats().socketErrors === 3, 2_000, "3 refused connections counted");
    expect(warnings.filter((c) => c === "PROXY_PROTOCOL")).toHaveLength(3);
    ok.heartbeat();
    await ok.nextOf(["heartbeatAck"], 2_000);
  });

  it("readProxyHeader leaves the rest of the stream to the next reader", async () => {
    const { createServer } = await import("node:net");
    const got = new Promise<{ address?: string; rest: string }>((resolve, reject) => {
      const srv = createServer((socket) => {
        readProxyHeader(socket, 2_000).then((h) => {
          let rest = "";
          socket.on("data", (d) => (rest += d.toString()));
          socket.on("end", () => {
            resolve({ address: h.source?.address, rest });
            srv.close();
          });
        }, reject);
      });
      srv.listen(0, "127.0.0.1", () => {
        const c = connect((srv.address() as { port: number }).port, "127.0.0.1", () => {
          c.write("PROXY TCP4 192.0.2.77 127.0.0.1 5 6\r\nfirst ");
          setTimeout(() => c.end("second"), 50);
        });
      });
    });
    expect(await got).toEqual({ address: "192.0.2.77", rest: "first second" });
  });

  it("is refused together with tls", async () => {
    await expect(start({ proxyProtocol: true, tls: {} })).rejects.toThrow(/proxyProtocol cannot be combined with tls/);
  });
});
