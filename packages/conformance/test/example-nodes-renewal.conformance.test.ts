// The Go and Python example nodes renew their credential against the real
// server (PROTOCOL.md §5.8): a HeartbeatServer verifying JWTs of a 2-second
// life, the node reading its credential from a file the test keeps fresh.
// The node must stay on its one connection, with no presence change, well
// past several lifetimes plus the grace; the server counts its renewals.
// Needs `bash scripts/polyglot.sh build` (npm test does it first).
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeartbeatServer, type NodeEvent } from "@hb/server";
import { describe, expect, it, onTestFinished } from "vitest";
import { ROOT } from "./helpers.js";
import { spawn, type ChildProcess } from "node:child_process";

const SECRET = "renewal-test-secret-of-32-characters!";
const b64 = (v: object | Buffer): string => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString("base64url");

// An HS256 JWT for `sub` expiring in `seconds` (signed by hand: the test needs no JWT library).
function jwt(sub: string, seconds: number): string {
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + seconds })}`;
  return `${head}.${b64(createHmac("sha256", SECRET).update(head).digest())}`;
}

const NODES = {
  "go-node": [join(ROOT, "examples/go-node/bin/go-node")],
  "python-node": [join(ROOT, "examples/python-node/python-node")],
};


async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.concurrent("the example nodes renew their credential against the server", () => {
  for (const [name, [command]] of Object.entries(NODES)) {
    it(`${name} renews in place: one connection, no presence change, past three lifetimes + grace`, async () => {
      // Per test: the two run concurrently.
      const cleanups: (() => unknown)[] = [];
      onTestFinished(async () => {
        for (const c of cleanups.splice(0).reverse()) await c();
      });
      const server = new HeartbeatServer({
        host: "127.0.0.1",
        port: 0,
        workerCount: 1,
        heartbeatInterval: 200,
        heartbeatTimeout: 2_000,
        auth: { mode: "jwt", jwt: { keys: [{ alg: "HS256", secret: SECRET }], clockTolerance: 0 }, tokenGrace: 500 },
      });
      cleanups.push(() => server.close());
      const events: string[] = [];
      for (const e of ["nodeJoined", "nodeLeft", "nodeTimeout", "nodeSuspect"] as const) server.on(e, (ev: NodeEvent) => events.push(`${e} ${ev.nodeId} ${ev.reason}`));
      const { port } = await server.listen();
      const dir = mkdtempSync(join(tmpdir(), "hb-renew-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const tokenFile = join(dir, "token");
      const id = `${name}-renewing`;
      writeFileSync(tokenFile, jwt(id, 2));
      // A fresh token in the file every 300 ms, as an identity agent would keep it.
      const refresh = setInterval(() => writeFileSync(tokenFile, jwt(id, 2)), 300);
      cleanups.push(() => clearInterval(refresh));
      const child: ChildProcess = spawn(command as string, ["-addr", `127.0.0.1:${port}`, "-id", id, "-token-file", tokenFile], { stdio: "ignore" });
      cleanups.push(() => {
        child.kill("SIGKILL");
      });
      await until(() => server.get(id) !== undefined, 20_000, `${id} to join`);
      const t0 = Date.now();
      // Three 2 s lifetimes plus the grace: without renewal the session would have been closed.
      await until(() => server.stats().renewals.accepted >= 3 && Date.now() - t0 > 6_500, 20_000, "three renewals and 6.5 s");
      expect(server.get(id)?.state).toBe("online");
      expect(events).toEqual([`nodeJoined ${id} hello`]);
      expect(server.stats().renewals.expired).toBe(0);
      expect(server.stats().errors.TOKEN_EXPIRED ?? 0).toBe(0);
    }, 60_000);
  }
});
