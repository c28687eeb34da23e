import type { AdminClient } from "../admin-client.js";
import { bytes, duration, millis, table } from "../format.js";

interface StatsJson {
  serverId: string;
  version: string;
  uptime: number;
  ready: boolean;
  listening: { address: string; port: number } | null;
  workerCount: number;
  fleet: { nodes: number; online: number; suspect: number };
  rates: { heartbeatsPerSecond: number; messagesPerSecond: number; latencyP50: number | null; latencyP99: number | null; loopLagP99: number } | null;
  process: { rss: number; cpu: number; loopDelay: { p99: number } } | null;
  stats: {
    connections: number;
    nodes: number;
    online: number;
    suspect: number;
    heartbeats: number;
    subscriptions: number;
    channels: number;
    errors: Record<string, number>;
    dropped: Record<string, number>;
    transitions: Record<string, Record<string, number>>;
    workers?: { memberId: string; pid: number; stats?: { connections: number; nodes: number; heartbeats: number }; process?: { rss: number; cpu: number; loopDelay: { p99: number } } }[];
    bus?: { kind: string; health: { state: string; detail?: string } };
  };
}

/** `hb stats`: the server at a glance (or its `/v1/stats` JSON). */
export async function statsCommand(admin: AdminClient, opts: { json?: boolean }, out: (text: string) => void): Promise<void> {
  const s = (await admin.get<StatsJson>("/v1/stats")) as StatsJson;
  if (opts.json) return out(JSON.stringify(s, null, 2));
  const r = s.rates;
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const lines: [string, string][] = [
    ["server", `${s.serverId} (hb ${s.version}), up ${duration(s.uptime * 1_000)}, ${s.ready ? "ready" : "NOT READY"}`],
    ["listening", s.listening === null ? "no" : `${s.listening.address}:${s.listening.port}, ${s.workerCount} process${s.workerCount === 1 ? "" : "es"}`],
    ["fleet", `${s.fleet.nodes} nodes: ${s.fleet.online} online, ${s.fleet.suspect} suspect`],
    ["this server", `${s.stats.nodes} nodes, ${s.stats.connections} connections, ${s.stats.subscriptions} subscriptions on ${s.stats.channels} channels`],
    ["heartbeats", r === null ? "-" : `${r.heartbeatsPerSecond.toFixed(1)}/s (${s.stats.heartbeats} total)`],
    ["messages", r === null ? "-" : `${r.messagesPerSecond.toFixed(1)}/s`],
    ["latency", r === null ? "-" : `p50 ${millis(r.latencyP50)}, p99 ${millis(r.latencyP99)} (reported by nodes)`],
    ["loop lag", r === null ? "-" : `p99 ${millis(r.loopLagP99)}`],
    ["timeouts", Object.entries(s.stats.transitions.timeout ?? {}).map(([k, v]) => `${k} ${v}`).join(", ") || "0"],
    ["errors", Object.entries(s.stats.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "0"],
    ["dropped", sum(s.stats.dropped) === 0 ? "0" : Object.entries(s.stats.dropped).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ")],
  ];
  if (s.stats.bus !== undefined) lines.push(["bus", `${s.stats.bus.kind}: ${s.stats.bus.health.state}${s.stats.bus.health.detail ? ` (${s.stats.bus.health.detail})` : ""}`]);
  if (s.process !== null) lines.push(["process", `rss ${bytes(s.process.rss)}, cpu ${(s.process.cpu * 100).toFixed(0)}%`]);
  out(lines.map(([k, v]) => `${k.padEnd(12)} ${v}`).join("\n"));
  const workers = s.stats.workers ?? [];
  if (workers.length > 0) {
    out("");
    out(
      table(
        ["WORKER", "PID", "CONNECTIONS", "NODES", "HEARTBEATS", "RSS", "CPU", "LOOP LAG P99"],
        workers.map((w) => [
          w.memberId,
          String(w.pid),
          String(w.stats?.connections ?? "-"),
          String(w.stats?.nodes ?? "-"),
          String(w.stats?.heartbeats ?? "-"),
          w.process === undefined ? "-" : bytes(w.process.rss),
          w.process === undefined ? "-" : `${(w.process.cpu * 100).toFixed(0)}%`,
          w.process === undefined ? "-" : millis(w.process.loopDelay.p99),
        ]),
      ),
    );
  }
}
