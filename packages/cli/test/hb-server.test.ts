// hb-server as an operator runs it: the real binary, real signals, real sockets on loopback.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DisconnectInfo, HeartbeatClient } from "@hb/client";
import { ErrorCode, HbError } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, type RunningServer, getJson, run, startServer } from "./bin.js";

const dir = mkdtempSync(join(tmpdir(), "hb-server-bin-"));
const servers: RunningServer[] = [];
const clients: HeartbeatClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  for (const s of servers.splice(0)) s.kill();
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function node(port: number, nodeId: string): Promise<HeartbeatClient> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, autoReconnect: false });
  c.on("error", () => {});
  clients.push(c);
  await c.connect();
  return c;
}

describe("hb-server binary", () => {
  it("--help lists every setting with its variable, the units rule and the signals; --version prints the version", async () => {
    const help = await run(BIN.hbServer, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--heartbeat-timeout <duration>.*HB_HEARTBEAT_TIMEOUT/);
    expect(help.stdout).toMatch(/--admin-port <n>.*HB_ADMIN_PORT, default 9502/);
    expect(help.stdout).toContain("seconds under a snake_case key");
    expect(help.stdout).toContain("SIGHUP");
    const version = await run(BIN.hbServer, ["--version"]);
    expect(version.stdout).toMatch(/^hb-server \d+\.\d+\.\d+ \(node v\d+/);
  });

  it("takes flags over HB_* variables over the config file over defaults", async () => {
    const file = write("precedence.yaml", "port: 1111\nworker_count: 3\nheartbeat_timeout: 20\nadmin:\n  port: 2222\nlog:\n  level: warn\n");
    const r = await run(BIN.hbServer, ["print-config", "--json", "-c", file, "--port", "5555"], {
      env: { HB_PORT: "3333", HB_ADMIN_PORT: "4444", HB_WORKER_COUNT: "2" },
    });
    expect(r.stderr).toBe("");
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({ port: 5555, workerCount: 2, heartbeatTimeout: "20s", admin: { port: 4444, host: "127.0.0.1" }, log: { level: "warn" } });
    // HB_CONFIG names the file when --config does not.
    const viaEnv = await run(BIN.hbServer, ["print-config", "--json"], { env: { HB_CONFIG: file } });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ port: 1111, workerCount: 3 });
  });

  it("check-config on a bad file exits 2 with a message naming the key; on a good one exits 0", async () => {
    const bad = write("bad.yaml", "worker_count: 2\nheartbeat_timeout: 30\nchannel_max_queue_size: 0\n");
    const r = await run(BIN.hbServer, ["check-config", "-c", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml: channel_max_queue_size: channelMaxQueueSize must be an integer in 1\.\.10000000, got 0/);
    const typo = await run(BIN.hbServer, ["check-config", "-c", write("typo.toml", "heartbeat_timout = 3\n")]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/typo\.toml: heartbeat_timout: unknown setting \(did you mean heartbeat_timeout\?\)/);
    const good = await run(BIN.hbServer, ["check-config", "-c", write("good.yaml", "heartbeat_timeout: 30\n")]);
    expect(good).toMatchObject({ code: 0, stdout: expect.stringMatching(/^configuration OK: .*good\.yaml/) });
  });

  it("runs workers by default; SIGTERM drains: nodes get GoAway, the process exits 0", async () => {
    const s = await startServer(["--port", "0", "--admin-port", "0", "--host", "127.0.0.1", "--close-timeout", "3s"]);
    servers.push(s);
    const ready = await s.record((r) => r.msg === "hb-server ready");
    expect(ready.workers).toBeGreaterThanOrEqual(2); // the CPU count: this machine has 2 or more
    await s.record((r) => typeof r.msg === "string" && r.msg.startsWith("dashboard: http://127.0.0.1:"));
    const nodes = await Promise.all(["a", "b", "c"].map((id) => node(s.port, id)));
    const reasons = nodes.map((c) => new Promise<DisconnectInfo>((resolve) => c.once("disconnect", resolve)));
    s.child.kill("SIGTERM");
    for (const info of await Promise.all(reasons)) {
      expect(info.reason).toBe("go_away");
      expect(info.error).toBeInstanceOf(HbError);
      expect((info.error as HbError).code).toBe(ErrorCode.SHUTTING_DOWN);
    }
    expect(await s.exited).toBe(0);
    expect(s.records.some((r) => r.msg === "draining: GoAway to every node" && r.signal === "SIGTERM")).toBe(true);
    expect(s.records.at(-1)?.msg).toBe("hb-server stopped");
  }, 60_000);

  it("SIGHUP applies live settings, says what needs a restart, and survives a bad file", async () => {
    const file = write("reload.yaml", "port: 0\nmax_connections: 100\nworker_count: 1\nadmin:\n  port: 0\nlog:\n  level: info\n");
    const s = await startServer(["-c", file, "--host", "127.0.0.1"]);
    servers.push(s);
    await node(s.port, "first");
    writeFileSync(file, "port: 9999\nmax_connections: 1\nworker_count: 1\nadmin:\n  port: 0\nlog:\n  level: debug\n");
    s.child.kill("SIGHUP");
    const done = await s.record((r) => typeof r.msg === "string" && r.msg.startsWith("SIGHUP: configuration reloaded"));
    expect(done.applied).toEqual({ maxConnections: "100 → 1", "log.level": "info → debug" });
    expect(done.needsRestart).toEqual(["port"]);
    // Live now: the second connection is over the new limit.
    await expect(node(s.port, "second")).rejects.toMatchObject({ code: ErrorCode.SERVER_FULL });
    // A broken file is refused and the server keeps running.
    writeFileSync(file, "port: 0\nmax_connections: -5\n");
    s.child.kill("SIGHUP");
    const failed = await s.record((r) => typeof r.msg === "string" && r.msg.startsWith("SIGHUP: reload failed"));
    expect(failed.error).toMatch(/max_connections: maxConnections must be an integer/);
    const stats = await getJson(`${s.admin}/v1/stats`);
    expect(stats.stats.connections).toBe(1);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  }, 60_000);

  it("refuses to start on a bad setting from the environment, naming the variable", async () => {
    const r = await run(BIN.hbServer, [], { env: { HB_HEARTBEAT_TIMEOUT: "30" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HB_HEARTBEAT_TIMEOUT: a duration needs a unit/);
  });
});
