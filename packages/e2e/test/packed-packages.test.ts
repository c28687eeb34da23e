// The published shape, as a user gets it: `pnpm pack` the four library packages, `npm install`
// the tarballs into an empty project (third-party dependencies from the registry), then import
// them with ESM and require(), and check that ioredis comes only with the Redis subpath.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const LIBRARIES = ["codec", "server", "client", "metrics"] as const;
const work = mkdtempSync(join(tmpdir(), "hb-packed-"));
const tarballs: Record<string, string> = {};

// pnpm itself (it rewrites workspace: ranges when packing): on PATH, else the pinned one through npx.
function pnpm(args: string[], cwd: string): string {
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
  const direct = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  const [cmd, pre] = direct.status === 0 && direct.stdout.trim() === version ? ["pnpm", []] : ["npx", ["-y", `pnpm@${version}`]];
  return execFileSync(cmd, [...pre, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function npm(args: string[], cwd: string): string {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function node(file: string, cwd: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [file], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
function project(name: string, deps: string[]): string {
  const dir = join(work, name);
  execFileSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true }));
  npm(["install", ...deps.map((d) => tarballs[d] as string)], dir);
  return dir;
}
const installed = (dir: string): string[] =>
  readdirSync(join(dir, "node_modules")).flatMap((n) => (n.startsWith("@") ? readdirSync(join(dir, "node_modules", n)).map((m) => `${n}/${m}`) : n.startsWith(".") ? [] : [n]));

beforeAll(() => {
  for (const pkg of LIBRARIES) {
    const dir = join(root, "packages", pkg);
    if (!existsSync(join(dir, "dist", "index.js"))) throw new Error(`packages/${pkg}/dist is missing: build first (pnpm build)`);
    const out = pnpm(["pack", "--pack-destination", work], dir).trim().split("\n").pop() as string;
    tarballs[pkg] = out.startsWith("/") ? out : join(work, out.trim());
    expect(existsSync(tarballs[pkg] as string), tarballs[pkg]).toBe(true);
  }
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("packed packages", () => {
  it("carry a LICENSE, a README that starts with install and a minimal use, and real metadata", () => {
    for (const pkg of LIBRARIES) {
      const listing = execFileSync("tar", ["-tzf", tarballs[pkg] as string], { encoding: "utf8" });
      expect(listing, pkg).toContain("package/LICENSE");
      const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarballs[pkg] as string, "package/package.json"], { encoding: "utf8" }));
      expect(manifest.license).toBe("MIT");
      expect(manifest.repository.url).not.toMatch(/example\.invalid/);
      expect(JSON.stringify(manifest)).not.toContain("workspace:");
      const readme = execFileSync("tar", ["-xzOf", tarballs[pkg] as string, "package/README.md"], { encoding: "utf8" });
      const head = readme.split("\n").slice(0, 25).join("\n");
      expect(head, pkg).toMatch(/npm i(nstall)? @hb\//);
      expect(head, pkg).toMatch(/```ts/);
    }
  });

  it("@hb/server alone installs no ioredis, no pino, no prom-client", () => {
    const dir = project("server-only", ["codec", "server"]);
    const pkgs = installed(dir);
    // jose (no dependencies of its own) verifies JWTs for the built-in auth.
    expect(pkgs.sort()).toEqual(["@bufbuild/protobuf", "@hb/codec", "@hb/server", "jose"]);
    writeFileSync(join(dir, "check.mjs"), `import { HeartbeatServer } from "@hb/server";
const s = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", port: 0 });
const { port } = await s.listen();
await s.close();
try { await import("@hb/server/redis"); console.log("redis subpath loaded"); } catch (e) { console.log("redis:", e.code); }
try { await import("@hb/server/admin"); console.log("admin subpath loaded"); } catch (e) { console.log("admin:", e.code); }
const { MemoryBus } = await import("@hb/server/memory");
console.log("memory bus", typeof new MemoryBus().link);
// Type-only subpaths: they resolve and load (empty at run time).
console.log("type subpaths", Object.keys(await import("@hb/server/auth")).length, Object.keys(await import("@hb/server/bus")).length);
console.log("listened on", port > 0);`);
    const r = node("check.mjs", dir);
    expect(r.out).toContain("listened on true");
    expect(r.out).toContain("type subpaths 0 0");
    // Their declarations ship: what a user's TypeScript reads for `import type { AuthOptions } from "@hb/server/auth"`.
    const types = (f: string) => readFileSync(join(dir, "node_modules", "@hb", "server", "dist", f), "utf8");
    expect(types("auth.d.ts")).toMatch(/\bAuthOptions\b/);
    expect(types("bus.d.ts")).toMatch(/\bBusLink\b/);
    expect(r.out).toContain("redis: ERR_MODULE_NOT_FOUND");
    expect(r.out).toContain("admin: ERR_MODULE_NOT_FOUND");
    expect(r.out).toContain("memory bus function");
    expect(r.code).toBe(0);
  }, 180_000);

  it("the four import with ESM and require(); a server, a client and the admin endpoint work together", () => {
    const dir = project("all-four", [...LIBRARIES]);
    expect(installed(dir)).not.toContain("ioredis");
    writeFileSync(join(dir, "esm.mjs"), `import { HeartbeatServer } from "@hb/server";
import { AdminServer } from "@hb/server/admin";
import { HeartbeatClient } from "@hb/client";
import { HbMetrics, METRIC_NAMES } from "@hb/metrics";
import { encodeFrame, makeFrame } from "@hb/codec";
const server = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", port: 0 });
const admin = new AdminServer(server, { port: 0 });
const { port } = await server.listen();
const a = await admin.listen();
const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId: "packed" });
await c.connect();
const text = await (await fetch("http://127.0.0.1:" + a.port + "/metrics")).text();
console.log("online", /^heartbeat_nodes_online 1$/m.test(text));
console.log("dashboard", (await fetch("http://127.0.0.1:" + a.port + "/")).status);
console.log("frame", encodeFrame(makeFrame("heartbeat", { seq: 1n, sendTimeUs: 1n })).length > 0, typeof HbMetrics, METRIC_NAMES.nodesOnline);
await c.close(); await admin.close(); await server.close();`);
    const esm = node("esm.mjs", dir);
    expect(esm.out).toContain("online true");
    expect(esm.out).toContain("dashboard 200");
    expect(esm.out).toContain("frame true function heartbeat_nodes_online");
    expect(esm.code).toBe(0);
    writeFileSync(join(dir, "cjs.cjs"), `const { HeartbeatServer } = require("@hb/server");
const { HeartbeatClient } = require("@hb/client");
const { HbMetrics } = require("@hb/metrics");
const { FrameDecoder } = require("@hb/codec");
const { AdminServer } = require("@hb/server/admin");
console.log([HeartbeatServer, HeartbeatClient, HbMetrics, FrameDecoder, AdminServer].map((f) => typeof f).join(" "));
try { require("@hb/server/redis"); } catch (e) { console.log("redis:", e.code); }`);
    const cjs = node("cjs.cjs", dir);
    expect(cjs.out).toContain("function function function function function");
    expect(cjs.out).toMatch(/redis: (ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND)/);
    expect(cjs.code).toBe(0);
  }, 180_000);

  it("the Redis subpath works once ioredis is installed next to it", () => {
    const dir = project("with-redis", ["codec", "server"]);
    npm(["install", "ioredis@^6.0.0"], dir);
    writeFileSync(join(dir, "redis.cjs"), `const { RedisBus } = require("@hb/server/redis");
const bus = new RedisBus({ redis: "redis://127.0.0.1:1" });
console.log(typeof RedisBus, bus.kind);`);
    const r = node("redis.cjs", dir);
    expect(r.out).toContain("function redis");
    expect(r.code).toBe(0);
  }, 180_000);
});
