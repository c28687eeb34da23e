import { HeartbeatClient } from "@hb/client";
import cliProgress from "cli-progress";
import * as hdr from "hdr-histogram-js";
import { parseDuration } from "../../config/parse-duration.js";
import { labelObject } from "../label-args.js";
import { parseServer } from "../tool-client.js";

/** Options of `hb bench`. */
export interface BenchOptions {
  nodes?: string;
  duration?: string;
  interval?: string;
  concurrency?: string;
  prefix?: string;
  label?: string[];
  json?: boolean;
  progress?: boolean;
}

/** What `hb bench` measured (also its `--json` output). */
export interface BenchSummary {
  /** Nodes asked for. */
  nodes: number;
  /** Connected (Welcome received). */
  connected: number;
  /** Failed to connect. */
  failed: number;
  /** First connection error, if any. */
  firstError: string | undefined;
  /** Heartbeat interval asked for, ms. */
  interval: number;
  /** Measuring time, s. */
  seconds: number;
  /** Heartbeats acknowledged while measuring. */
  heartbeats: number;
  /** Of which per second. */
  heartbeatsPerSecond: number;
  /** Connect time (socket to Welcome) percentiles, ms. */
  connectMs: { p50: number; p99: number; max: number };
  /** Heartbeat round trip percentiles, ms. */
  rttMs: { p50: number; p90: number; p99: number; p999: number; max: number; count: number };
}

/** Most nodes one `hb bench` process opens (a process may open about 20 000 files here; leave room). */
export const MAX_BENCH_NODES = 10_000;
/** Longest measuring time. */
export const MAX_BENCH_MS = 3_600_000;

/**
 * `hb bench`: a load generator. Connects `nodes` real nodes (`concurrency`
 * handshakes at a time), lets them heartbeat every `interval` for
 * `duration`, then closes them gracefully, with a progress bar on stderr;
 * prints connections, heartbeats/s and RTT percentiles (hdr-histogram,
 * microsecond resolution). Bounded: at most {@link MAX_BENCH_NODES} nodes
 * and {@link MAX_BENCH_MS}; it always stops by itself.
 */
export async function benchCommand(server: string, opts: BenchOptions, out: (t: string) => void, signal: AbortSignal): Promise<BenchSummary> {
  const nodes = int(opts.nodes ?? "100", "--nodes", 1, MAX_BENCH_NODES);
  const concurrency = int(opts.concurrency ?? "100", "--concurrency", 1, 10_000);
  const durationMs = ms(opts.duration ?? "10s", "--duration", 1, MAX_BENCH_MS);
  const interval = ms(opts.interval ?? "1s", "--interval", 10, 3_600_000);
  const { host, port } = parseServer(server);
  const prefix = opts.prefix ?? "bench";
  const metadata = { ...labelObject(opts.label), "hb.tool": "bench" };
  const showProgress = opts.progress !== false;
  const rtt = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const connect = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const clients: HeartbeatClient[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let measuring = false;
  let heartbeats = 0;

  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: "{phase} |{bar}| {value}/{total} {unit} | {detail}",
      noTTYOutput: true,
      notTTYSchedule: 1_000,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const progress = { start: (total: number, payload: object) => showProgress && bar.start(total, 0, payload), update: (v: number, payload: object) => showProgress && bar.update(v, payload), stop: () => showProgress && bar.stop() };

  progress.start(nodes, { phase: "connecting", unit: "nodes", detail: "" });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes && !signal.aborted) {
      const i = next++;
      const c = new HeartbeatClient({ host, port, nodeId: `${prefix}-${i}`, metadata, heartbeatInterval: interval, autoReconnect: false, connectTimeout: 10_000, clientName: "hb bench" });
      c.on("error", () => {});
      c.on("heartbeat", (e) => {
        if (!measuring) return;
        heartbeats++;
        rtt.recordValue(Math.max(1, Math.round(e.rtt * 1_000)));
      });
      const t0 = performance.now();
      try {
        await c.connect();
        connect.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1_000)));
        clients.push(c);
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
      progress.update(clients.length + failed, { phase: "connecting", unit: "nodes", detail: `${failed} failed` });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, nodes) }, worker));
  progress.stop();

  const seconds = durationMs / 1_000;
  const started = performance.now();
  measuring = true;
  progress.start(Math.ceil(seconds), { phase: "measuring ", unit: "s", detail: "" });
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (performance.now() - started) / 1_000;
      const p99 = rtt.totalCount === 0 ? "-" : `${(rtt.getValueAtPercentile(99) / 1_000).toFixed(2)} ms`;
      progress.update(Math.min(Math.ceil(seconds), Math.floor(elapsed)), {
        phase: "measuring ",
        unit: "s",
        detail: `${(heartbeats / Math.max(elapsed, 0.001)).toFixed(0)} heartbeats/s, RTT p99 ${p99}`,
      });
      if (elapsed >= seconds || signal.aborted) {
        clearInterval(tick);
        resolve();
      }
    }, 250);
  });
  measuring = false;
  const measured = (performance.now() - started) / 1_000;
  progress.stop();
  await Promise.all(clients.map((c) => c.close().catch(() => {})));

  const q = (h: typeof rtt, p: number) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1_000);
  const summary: BenchSummary = {
    nodes,
    connected: clients.length,
    failed,
    firstError,
    interval,
    seconds: Number(measured.toFixed(3)),
    heartbeats,
    heartbeatsPerSecond: Number((heartbeats / measured).toFixed(1)),
    connectMs: { p50: q(connect, 50), p99: q(connect, 99), max: connect.totalCount === 0 ? 0 : connect.maxValue / 1_000 },
    rttMs: { p50: q(rtt, 50), p90: q(rtt, 90), p99: q(rtt, 99), p999: q(rtt, 99.9), max: rtt.totalCount === 0 ? 0 : rtt.maxValue / 1_000, count: rtt.totalCount },
  };
  rtt.destroy();
  connect.destroy();
  if (opts.json) out(JSON.stringify(summary, null, 2));
  else {
    const f = (n: number) => `${n.toFixed(2)} ms`;
    out(`hb bench against ${server}: ${nodes} nodes, heartbeat every ${interval} ms, measured ${measured.toFixed(1)} s`);
    out(`connections  ${summary.connected} connected, ${failed} failed${firstError === undefined ? "" : ` (first: ${firstError})`}; connect p50 ${f(summary.connectMs.p50)}, p99 ${f(summary.connectMs.p99)}, max ${f(summary.connectMs.max)}`);
    out(`heartbeats   ${heartbeats} acknowledged, ${summary.heartbeatsPerSecond}/s (expected about ${((summary.connected * 1_000) / interval).toFixed(1)}/s)`);
    out(`RTT          p50 ${f(summary.rttMs.p50)}  p90 ${f(summary.rttMs.p90)}  p99 ${f(summary.rttMs.p99)}  p99.9 ${f(summary.rttMs.p999)}  max ${f(summary.rttMs.max)}  (${summary.rttMs.count} samples)`);
  }
  return summary;
}

function int(text: string, name: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${text}"`);
  return n;
}

function ms(text: string, name: string, min: number, max: number): number {
  const n = parseDuration(text);
  if (n === undefined || n < min || n > max) throw new Error(`${name} must be a duration such as 10s or 500ms (${min} ms .. ${max / 1_000} s), got "${text}"`);
  return n;
}
