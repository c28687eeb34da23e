import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/config-error.js";
import { SETTINGS, envName, flagName } from "../src/config/config-schema.js";
import { formatDuration, parseDuration } from "../src/config/parse-duration.js";
import { parseSize } from "../src/config/parse-size.js";
import { printConfig } from "../src/config/print-config.js";
import { type ConfigSources, resolveConfig } from "../src/config/resolve-config.js";

const dir = mkdtempSync(join(tmpdir(), "hb-config-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const resolve = (s: Partial<ConfigSources>) => resolveConfig({ env: {}, flags: {}, cwd: dir, ...s });
const fails = (s: Partial<ConfigSources>): string => {
  try {
    resolve(s);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("durations and sizes", () => {
  it("parse with units, format back", () => {
    expect([parseDuration("500ms"), parseDuration("30s"), parseDuration("1.5s"), parseDuration("5m"), parseDuration("1h"), parseDuration("0")]).toEqual([
      500, 30_000, 1_500, 300_000, 3_600_000, 0,
    ]);
    expect([parseDuration("30"), parseDuration("1.5ms"), parseDuration("s"), parseDuration("-1s")]).toEqual([undefined, undefined, undefined, undefined]);
    expect([formatDuration(30_000), formatDuration(1_500), formatDuration(300_000)]).toEqual(["30s", "1500ms", "5m"]);
    expect([parseSize("1024"), parseSize("64KiB"), parseSize("1MiB"), parseSize("2 kb"), parseSize("1.5x")]).toEqual([1_024, 65_536, 1_048_576, 2_000, undefined]);
  });
});

describe("resolveConfig", () => {
  it("reads the seed's snake_case keys (durations in seconds) and camelCase ones (milliseconds)", () => {
    const seed = file(
      "seed.yaml",
      "worker_count: 8\nheartbeat_timeout: 30\nheartbeat_check_interval: 10\nchannel_max_queue_size: 1000\nmax_connections: 1000000\nheartbeat_interval: 10\n",
    );
    expect(resolve({ file: seed }).server).toMatchObject({
      workerCount: 8,
      heartbeatTimeout: 30_000,
      heartbeatCheckInterval: 10_000,
      channelMaxQueueSize: 1_000,
      maxConnections: 1_000_000,
      heartbeatInterval: 10_000,
    });
    const camel = file("camel.json", JSON.stringify({ heartbeatTimeout: 30_000, heartbeatCheckInterval: "2s", rateLimit: { burst: 10 } }));
    expect(resolve({ file: camel }).server).toMatchObject({ heartbeatTimeout: 30_000, heartbeatCheckInterval: 2_000, rateLimit: { burst: 10 } });
    const toml = file("hb.toml", 'heartbeat_timeout = "45s"\nport = 9600\n[admin]\nport = 9700\n[log]\nlevel = "debug"\n');
    const t = resolve({ file: toml });
    expect(t.server).toMatchObject({ heartbeatTimeout: 45_000, port: 9600 });
    expect(t.admin).toMatchObject({ port: 9700, host: "127.0.0.1" });
    expect(t.log.level).toBe("debug");
  });

  it("applies flags over env over file over defaults, and remembers each origin", () => {
    const f = file("p.yaml", "port: 1111\nheartbeat_timeout: 20\nadmin:\n  port: 2222\nlog:\n  level: warn\n");
    const c = resolve({ file: f, env: { HB_PORT: "3333", HB_ADMIN_PORT: "4444" }, flags: { port: "5555" } });
    expect(c.server).toMatchObject({ port: 5555, heartbeatTimeout: 20_000, host: "0.0.0.0" });
    expect(c.admin?.port).toBe(4444);
    expect(c.log.level).toBe("warn");
    expect(c.entries.get("port")?.origin).toBe("--port");
    expect(c.entries.get("admin.port")?.origin).toBe("HB_ADMIN_PORT");
    expect(c.entries.get("heartbeatTimeout")?.origin).toBe(`${f}: heartbeat_timeout`);
    expect(c.entries.get("host")?.origin).toBe("default");
  });

  it("names the key, variable or flag of a bad value", () => {
    expect(fails({ file: file("u.yaml", "heartbeat_timout: 30\n") })).toMatch(/u\.yaml: heartbeat_timout: unknown setting \(did you mean heartbeat_timeout\?\)/);
    expect(fails({ file: file("r.yaml", "heartbeat_timeout: 0.1\n") })).toMatch(
      /r\.yaml: heartbeat_timeout: heartbeatTimeout must be an integer in .*, got 100 \(milliseconds\)/,
    );
    expect(fails({ file: file("t.yaml", "port: nine\n") })).toMatch(/t\.yaml: port: must be an integer, got "nine"/);
    expect(fails({ file: file("s.yaml", "admin: 3\n") })).toMatch(/s\.yaml: admin: must be a map of settings/);
    expect(fails({ file: file("y.yaml", "port: [1\n") })).toMatch(/y\.yaml is not valid YAML/);
    expect(fails({ file: join(dir, "missing.yaml") })).toMatch(/cannot read config file .*missing\.yaml/);
    expect(fails({ file: file("x.ini", "port=1\n") })).toMatch(/unknown format "\.ini"/);
    expect(fails({ env: { HB_HEARTBEAT_TIMEOUT: "30" } })).toMatch(/HB_HEARTBEAT_TIMEOUT: a duration needs a unit/);
    expect(fails({ flags: { maxConnections: "0" } })).toMatch(/--max-connections: maxConnections must be an integer in 1\.\.10000000, got 0/);
    expect(fails({ flags: { adminToken: "short" } })).toMatch(/--admin-token: admin token must be at least 16 characters/);
    expect(fails({ env: { HB_LOG_LEVEL: "loud" } })).toMatch(/HB_LOG_LEVEL: must be one of trace, debug/);
    expect(fails({ env: { HB_REDIS_PREFIX: "x" } })).toMatch(/HB_REDIS_PREFIX: has no effect without redis.url/);
    expect(fails({ flags: { redisUrl: "http://nope" } })).toMatch(/--redis-url: redis must be a redis:\/\//);
    expect(fails({ flags: { tlsCert: join(dir, "none.pem"), tlsKey: join(dir, "none.pem") } })).toMatch(/--tls-cert: cannot read/);
  });

  it("turns the admin endpoint off with admin.enabled false (--no-admin)", () => {
    expect(resolve({ flags: { admin: false } }).admin).toBeUndefined();
    expect(resolve({ env: { HB_ADMIN_ENABLED: "false" } }).admin).toBeUndefined();
  });

  it("prints the effective configuration with origins, secrets redacted, as a file it can read again", () => {
    const f = file("secret.yaml", "admin:\n  token: abcdefghijklmnopqrstuvwxyz\nredis:\n  url: redis://user:hunter2@127.0.0.1:6379\nheartbeat_timeout: 30\n");
    const c = resolve({ file: f, env: { HB_PORT: "9600" } });
    const yaml = printConfig(c, "yaml");
    expect(yaml).not.toContain("abcdefghijklmnopqrstuvwxyz");
    expect(yaml).not.toContain("hunter2");
    expect(yaml).toMatch(/token: <redacted> # .*secret\.yaml: admin\.token/);
    expect(yaml).toMatch(/url: redis:\/\/user:<redacted>@127\.0\.0\.1:6379/);
    expect(yaml).toMatch(/port: 9600 # HB_PORT/);
    expect(yaml).toMatch(/heartbeatTimeout: 30s # .*heartbeat_timeout/);
    expect(yaml).toMatch(/workerCount: \d+ # library default/);
    const again = file("again.yaml", yaml.replace(/token: <redacted>/, "token: 0123456789abcdefXYZ").replace(/^redis:\n.*\n/m, "").replace(/^serverId:.*\n/m, ""));
    expect(resolve({ file: again }).server).toMatchObject({ port: 9600, heartbeatTimeout: 30_000 });
    expect(JSON.parse(printConfig(c, "json")).admin.token).toBe("<redacted>");
  });

  it("derives env names and flags from the settings table", () => {
    const byPath = new Map(SETTINGS.map((s) => [s.path, s]));
    const s = (p: string) => byPath.get(p) as (typeof SETTINGS)[number];
    expect([envName(s("rateLimit.burst")), flagName(s("rateLimit.burst"))]).toEqual(["HB_RATE_LIMIT_BURST", "rate-limit-burst"]);
    expect([envName(s("admin.enabled")), flagName(s("admin.enabled"))]).toEqual(["HB_ADMIN_ENABLED", "admin"]);
    expect(SETTINGS.filter((x) => x.seed !== undefined).map((x) => x.seed)).toEqual([
      "worker_count",
      "heartbeat_interval",
      "heartbeat_timeout",
      "heartbeat_check_interval",
      "channel_max_queue_size",
      "max_connections",
    ]);
  });
});
