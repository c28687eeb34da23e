import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { describe, expect, it } from "vitest";
import { HeartbeatServer } from "../src/index.js";
import { FAST } from "./helpers.js";
import { RawPeer } from "./raw-peer.js";

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

/** A throwaway self-signed certificate for localhost. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "hb-tls-"));
  try {
    const r = spawnSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost",
    ]);
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasOpenssl)("TLS", () => {
  it("speaks the protocol over TLS when the tls option is set", async () => {
    const { key, cert } = selfSigned();
    const server = new HeartbeatServer({ ...FAST, tls: { key, cert } });
    const { port } = await server.listen();
    try {
      const socket = connect({ port, host: "127.0.0.1", ca: cert, servername: "localhost" });
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", resolve);
        socket.once("error", reject);
      });
      const peer = RawPeer.wrap(socket);
      const w = await peer.hello({ nodeId: "secure" });
      expect(w.nodeId).toBe("secure");
      peer.heartbeat();
      await peer.next("heartbeatAck");
      expect(server.get("secure")?.state).toBe("online");
      peer.destroy();
    } finally {
      await server.close();
    }
  });
});
