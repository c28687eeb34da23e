// TLS done fully, over real TLS connections: certificates replaced without
// a restart (reloadTls, in one process and in every worker), and client
// certificates (mTLS) with the node id taken from the certificate.
import { ErrorCode } from "@hb/codec";
import { type TLSSocket, connect } from "node:tls";
import { describe, expect, it } from "vitest";
import type { HeartbeatServerOptions } from "../../src/index.js";
import { RawPeer } from "../raw-peer.js";
import { useServers } from "./server-fixture.js";
import { type Pem, hasOpenssl, makeCa } from "./tls-certs.js";

const fixture = useServers();
// Long liveness timeouts: these raw peers do not heartbeat.
const serve = (options: HeartbeatServerOptions) => fixture.serve({ heartbeatTimeout: 30_000, ...options });

// A TLS connection trusting `ca` (and presenting `client`, if given): the peer, or the handshake error.
async function tlsPeer(port: number, ca: Buffer, client?: Pem): Promise<RawPeer> {
  const socket: TLSSocket = connect({ port, host: "127.0.0.1", servername: "localhost", ca, ...(client ?? {}) });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  return fixture.track(RawPeer.wrap(socket));
}

describe.skipIf(!hasOpenssl)("TLS reload and client certificates", () => {
  it.each([1, 2])("reloadTls replaces the certificate for new connections; open ones stay (workerCount %i)", async (workerCount) => {
    const first = makeCa([]);
    const second = makeCa([]);
    const { server, port } = await serve({ workerCount, tls: first.server });
    const old = await tlsPeer(port, first.ca.cert);
    await old.hello({ nodeId: `before-${workerCount}` });
    await server.reloadTls(second.server);
    // New connections get the new certificate: trusted by the second CA only.
    const fresh = await tlsPeer(port, second.ca.cert);
    expect((await fresh.hello({ nodeId: `after-${workerCount}` })).nodeId).toBe(`after-${workerCount}`);
    await expect(tlsPeer(port, first.ca.cert)).rejects.toThrow();
    // The connection made before the reload is untouched.
    old.heartbeat();
    await old.next("heartbeatAck");
  }, 30_000);

  it("refuses a bad certificate on reload and keeps the running one", async () => {
    const { ca, server: pem } = makeCa([]);
    const { server, port } = await serve({ tls: pem });
    await expect(server.reloadTls({ cert: Buffer.from("not a certificate"), key: pem.key })).rejects.toThrow();
    const p = await tlsPeer(port, ca.cert);
    expect((await p.hello({ nodeId: "still" })).nodeId).toBe("still");
  });

  it("mTLS: the node id comes from the client certificate; another id, or no certificate, is refused", async () => {
    const { ca, server: pem, clients } = makeCa(["node-7", "node-8"]);
    const { server, port } = await serve({
      tls: { ...pem, ca: ca.cert, requestCert: true, rejectUnauthorized: false },
      auth: { certificateNodeId: "cn" },
    });
    const a = await tlsPeer(port, ca.cert, clients["node-7"]);
    expect((await a.hello({})).nodeId).toBe("node-7");
    const b = await tlsPeer(port, ca.cert, clients["node-8"]);
    await expect(b.hello({ nodeId: "node-7" })).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    const anonymous = await tlsPeer(port, ca.cert);
    await expect(anonymous.hello({ nodeId: "node-9" })).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    expect(server.get("node-7")).toBeDefined();
    expect(server.get("node-9")).toBeUndefined();
  });

  it("mTLS with rejectUnauthorized: a client without a certificate from the CA fails the TLS handshake; uri names the node", async () => {
    const { ca, server: pem, clients } = makeCa(["node-u"]);
    const stranger = makeCa(["node-x"]);
    const { port } = await serve({ tls: { ...pem, ca: ca.cert, requestCert: true }, auth: { certificateNodeId: "uri" } });
    const ok = await tlsPeer(port, ca.cert, clients["node-u"]);
    expect((await ok.hello({})).nodeId).toBe("hb://node-u");
    const bad = await tlsPeer(port, ca.cert, stranger.clients["node-x"]).catch((err: Error) => err);
    if (bad instanceof RawPeer) {
      // TLS 1.3: the client learns of the refusal after its handshake completed, at its first read.
      await expect(bad.hello({ nodeId: "x" })).rejects.toThrow();
    } else {
      expect(bad).toBeInstanceOf(Error);
    }
  });
});
