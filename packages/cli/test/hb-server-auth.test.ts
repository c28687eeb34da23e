// hb-server with authentication, permissions and TLS from its config file:
// the real binary, worker processes, real signals and sockets on loopback.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { HeartbeatClient } from "@hb/client";
import { ErrorCode } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, type RunningServer, run, startServer } from "./bin.js";

const dir = mkdtempSync(join(tmpdir(), "hb-server-auth-"));
const servers: RunningServer[] = [];
const clients: HeartbeatClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  for (const s of servers.splice(0)) s.kill();
});

const write = (name: string, text: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function node(port: number, nodeId: string, token: string): Promise<Awaited<ReturnType<HeartbeatClient["connect"]>>> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port, ...(nodeId === "" ? {} : { nodeId }), token, autoReconnect: false });
  c.on("error", () => {});
  clients.push(c);
  return c.connect();
}

const sha = (t: string): string => `sha256:${createHash("sha256").update(t).digest("hex")}`;

describe("hb-server hash-token", () => {
  it("hashes a token from stdin, or makes a random one with its hash", async () => {
    const r = await run(BIN.hbServer, ["hash-token"], { input: "my-node-token\n" });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(sha("my-node-token"));
    const g = await run(BIN.hbServer, ["hash-token", "--generate"]);
    const [, token] = /token: (\S+)/.exec(g.stdout) ?? [];
    const [, hash] = /hash: (\S+)/.exec(g.stdout) ?? [];
    expect(token?.length).toBeGreaterThanOrEqual(43);
    expect(hash).toBe(sha(token as string));
    const s = await run(BIN.hbServer, ["hash-token", "--scrypt"], { input: "people-choose-this" });
    expect(s.stdout).toMatch(/^scrypt:16384:8:1:/);
    const none = await run(BIN.hbServer, ["hash-token"], { input: "" });
    expect(none.code).toBe(2);
  });
});

describe("hb-server auth from the config file", () => {
  it("tokens and permissions reach every worker; SIGHUP applies a new token list and rules live", async () => {
    const file = write(
      "auth.yaml",
      [
        "port: 0",
        "worker_count: 2",
        "admin:\n  port: 0",
        "auth:",
        "  mode: tokens",
        "  tokens:",
        `    - { hash: "${sha("token-a")}", name: a, nodeId: node-a }`,
        `    - { hash: "${sha("token-b")}", name: b }`,
        "permissions:",
        "  - match: { nodeId: node-a }",
        "    publish: false",
        "  - {}",
        "",
      ].join("\n"),
    );
    const s = await startServer(["-c", file, "--host", "127.0.0.1"]);
    servers.push(s);
    const a = await node(s.port, "", "token-a");
    expect(a.nodeId).toBe("node-a");
    expect(a.permissions?.publish).toBe("denied");
    const b = await node(s.port, "node-b", "token-b");
    expect(b.permissions?.publish).toBe("allowed");
    await expect(node(s.port, "node-c", "token-c")).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    await expect(node(s.port, "node-x", "token-a")).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    // Rotate: token-c in, token-b out, live.
    writeFileSync(file, readFileSync(file, "utf8").replace(sha("token-b"), sha("token-c")));
    s.child.kill("SIGHUP");
    const done = await s.record((r) => typeof r.msg === "string" && r.msg.startsWith("SIGHUP: configuration reloaded"));
    expect(Object.keys(done.applied)).toContain("auth.tokens");
    await expect(node(s.port, "node-c", "token-c")).resolves.toBeDefined();
    await expect(node(s.port, "node-b2", "token-b")).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  }, 60_000);

  it("warns loudly at start without authentication beyond loopback", async () => {
    const file = write("open.yaml", "port: 0\nworker_count: 1\nadmin:\n  enabled: false\n");
    // Listens on every interface only for the moment of the check (port 0, no client connects).
    const s = await startServer(["-c", file]);
    servers.push(s);
    const warning = await s.record((r) => typeof r.msg === "string" && r.msg.startsWith("NO AUTHENTICATION"));
    expect(warning.level).toBe(40);
  }, 30_000);
});

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

describe.skipIf(!hasOpenssl)("hb-server TLS", () => {
  const selfSigned = (name: string): { key: Buffer; cert: Buffer } => {
    const r = spawnSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.pem`), "-days", "1", "-subj", "/CN=localhost",
    ]);
    if (r.status !== 0) throw new Error(String(r.stderr));
    return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) };
  };

  // Completes a TLS handshake trusting only `ca`: resolves true, or false when the server's certificate is another.
  const trusts = (port: number, ca: Buffer): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect({ port, host: "127.0.0.1", servername: "localhost", ca });
      socket.once("secureConnect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });

  it("SIGHUP re-reads a certificate rotated in place: new connections get it", async () => {
    const one = selfSigned("one");
    const two = selfSigned("two");
    const cert = write("server.pem", one.cert);
    const key = write("server.key", one.key);
    const file = write("tls.yaml", `port: 0\nworker_count: 2\nadmin:\n  port: 0\ntls:\n  cert: ${cert}\n  key: ${key}\n`);
    const s = await startServer(["-c", file, "--host", "127.0.0.1"]);
    servers.push(s);
    expect(await trusts(s.port, one.cert)).toBe(true);
    writeFileSync(cert, two.cert);
    writeFileSync(key, two.key);
    s.child.kill("SIGHUP");
    await s.record((r) => r.msg === "SIGHUP: TLS certificate and key reloaded");
    expect(await trusts(s.port, two.cert)).toBe(true);
    expect(await trusts(s.port, one.cert)).toBe(false);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  }, 60_000);
});
