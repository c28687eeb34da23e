// Routing benchmark (issue 4): what one @hb/server process, on one core,
// routes over real loopback TCP with 100-byte payloads.
//
//   pnpm bench:routing                                  # builds, then everything: ≈ 1.5–2.5 minutes
//   node packages/server/bench/routing/routing.bench.mjs --only fanin,rtt --measure 3000 --no-profile
//
// Scenarios (--only <ids>, comma-separated):
//   fanin            100 publishers → 1 subscriber, msg/s delivered (target ≥ 500 000)
//   fanout-100x100   1 publish → 10 000 subscriptions on 100 connections (target ≥ 2 000 000 deliveries/s)
//   fanout-10000x1   1 publish → 10 000 subscriptions on 10 000 connections (same target)
//   unicast          N pairs of nodes sending direct messages (Send), msg/s (--pairs, default 50)
//   rtt              heartbeat RTT p50/p99 without load, and while 50 MiB messages stream on another
//                    channel of the same connection (target p99 ≤ 10 ms)
//   client           how fast @hb/client itself publishes (why the load generators use raw sockets)
//   fanin-open       opt-in (--all or --only): fan-in without pacing, ≈ 50 s, shows the overload collapse
// Other options: --measure <ms> (window, default 5000), --warmup <ms> (default 1000),
// --no-profile, --profile-dir <dir> (default $TMPDIR/hb-routing-bench-<pid>), --no-pin,
// --no-wait-quiet, --spec '<json>' (merged into every selected scenario's spec, for experiments),
// --server '<json>' (merged into the server's options, e.g. {"workerCount":2} with --no-pin).
//
// Layout: the server (server-child.mjs, packages/server/dist) runs alone in
// its own process pinned to CPU 0 (`taskset -c 0`, all its threads: one
// core, GC helpers included); each scenario's load generator (loadgen.mjs,
// raw sockets with @hb/codec framing, pre-encoded frames written in large
// batches, deliveries counted by scanning frame lengths) runs in another
// process pinned to CPU 1, as does this orchestrator. A fresh server per
// scenario. Figures are counted by the receiving side over a measurement
// window after a warm-up; the server's counters (CPU, run-queue wait,
// deliveries, drops, event-loop lag) are snapshotted at the window's edges
// over IPC. Load is closed-loop (messages sent and not yet received ≤ a
// budget below every queue limit), so the figures are what the server
// sustains without dropping.
//
// The machine is shared: before each scenario the script waits (≤ 20 s,
// ≤ 60 s per run) for a quiet moment, and each row says how much CPU the server got
// ("main thread runnable but waiting"), plus the rate per server
// CPU-second, which other processes on the machine do not change.
//
// Where a target is missed, the scenario runs again with the server under
// `node --cpu-prof`, and the top self-time functions of the measurement
// window are printed (cpuprofile-summary.mjs), mapped to packages/*/src.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { printSummary, summarise } from "./cpuprofile-summary.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const flag = (name) => process.argv.includes(`--${name}`);
const MEASURE = Number(arg("measure", 5000));
const WARMUP = Number(arg("warmup", 1000));
const PAIRS = Number(arg("pairs", 50));
const PROFILE = !flag("no-profile");
const QUIET = !flag("no-wait-quiet");
const PIN = !flag("no-pin") && os.cpus().length >= 2 && spawnSync("taskset", ["-V"]).status === 0;
const PROFILE_DIR = arg("profile-dir", path.join(os.tmpdir(), `hb-routing-bench-${process.pid}`));
const ALL = flag("all");
const only = arg("only")?.split(",");
// Experiments: --spec '{"inflight":128}' is merged into the spec of every selected scenario.
const SPEC = JSON.parse(arg("spec", "{}"));
// Server options merged into the server's (e.g. --server '{"workerCount":2}' with --no-pin, to compare
// worker processes against one process: the workers then share both cores with the load generators).
const SERVER_OPTIONS = JSON.parse(arg("server", "{}"));
const started = Date.now();

// The orchestrator and the load generators share CPU 1; the server gets CPU 0 to itself.
if (PIN) spawnSync("taskset", ["-a", "-cp", "1", String(process.pid)]);

const SCENARIOS = [
  {
    id: "fanin",
    figure: "fan-in: 100 publishers → 1 subscriber",
    unit: "msg/s delivered",
    target: 500_000,
    loadgen: "fanIn",
    // budget: messages sent and not yet received; 2 500–5 000 is fastest here (40 000: ≈ 330 000/s, longer queues, more GC).
    spec: { publishers: 100, batch: 64, budget: 5_000 },
  },
  {
    id: "fanin-open",
    figure: "fan-in, open loop (publishers limited by flow control only)",
    unit: "msg/s delivered",
    loadgen: "fanIn",
    spec: { publishers: 100, batch: 64, openLoop: true, queueSize: 0, measureMs: 2000, extraDeadlineMs: 120_000 },
    // ≈ 40 s: the server falls into multi-second event-loop turns. Run with --all or --only fanin-open.
    optIn: true,
  },
  {
    id: "fanout-100x100",
    figure: "fan-out: 1 publish → 10 000 subs (100 conns × 100 subs)",
    unit: "deliveries/s",
    target: 2_000_000,
    loadgen: "fanOut",
    spec: { conns: 100, subsPerConn: 100, inflight: 32 },
  },
  {
    id: "fanout-10000x1",
    figure: "fan-out: 1 publish → 10 000 subs (10 000 conns × 1 sub)",
    unit: "deliveries/s",
    target: 2_000_000,
    loadgen: "fanOut",
    // More publishes in flight than 100 × 100: each connection gets one write per turn, so more frames per write (32: ≈ 1.1 M/s).
    spec: { conns: 10_000, subsPerConn: 1, inflight: 128 },
  },
  {
    id: "unicast",
    figure: `node-to-node unicast: ${PAIRS} pairs, Send`,
    unit: "msg/s delivered",
    loadgen: "unicast",
    spec: { pairs: PAIRS, batch: 32, budget: 512 },
  },
  {
    id: "rtt",
    figure: "heartbeat RTT",
    loadgen: "rtt",
    spec: { intervalMs: 2, baselineMs: 2000, loadMs: Math.max(2000, MEASURE) },
  },
  {
    id: "client",
    figure: "@hb/client publish rate, 1 client (load-generator check)",
    unit: "msg/s",
    loadgen: "clientPublish",
    spec: { measureMs: 2000 },
  },
]
  .filter((s) => (only === undefined ? ALL || !s.optIn : only.includes(s.id)))
  .map((s) => ({ ...s, spec: { ...s.spec, ...SPEC } }));

// ---------------------------------------------------------------- processes

// Share of the machine's CPU time busy over `ms` (all processes; ours are idle when this runs).
async function machineBusy(ms = 500) {
  const read = () => readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, ms));
    const b = read();
    const d = b.map((v, i) => v - a[i]);
    const total = d.reduce((x, y) => x + y, 0);
    const idle = d[3] + (d[4] ?? 0);
    return total > 0 ? 1 - idle / total : 0;
  } catch {
    return undefined;
  }
}

// Other processes share this machine (test suites, builds): wait up to 20 s for a quiet moment
// (< 15 % busy over half a second) before a scenario; the figures say how much CPU the server got anyway.
// At most 60 s of such waiting per run in all, so a busy machine does not stretch a run past ≈ 3 minutes.
let quietBudgetMs = 60_000;
async function waitQuiet() {
  if (!QUIET) return undefined;
  const t0 = Date.now();
  const limit = Math.min(20_000, quietBudgetMs);
  let busy = await machineBusy();
  while (busy !== undefined && busy >= 0.15 && Date.now() - t0 < limit) busy = await machineBusy();
  quietBudgetMs = Math.max(0, quietBudgetMs - (Date.now() - t0));
  return { busy, waitedMs: Date.now() - t0 };
}

function startServer(execArgv = [], options = {}) {
  const file = path.join(here, "server-child.mjs");
  const argv = [...execArgv, file, JSON.stringify(options)];
  const child = PIN
    ? spawn("taskset", ["-c", "0", process.execPath, ...argv], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    : spawn(process.execPath, argv, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("server did not start within 15 s")), 15_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before it was ready`)));
    child.on("message", (m) => {
      if (m.type === "ready") {
        clearTimeout(t);
        child.removeAllListeners("exit");
        resolve({ child, port: m.port });
      }
    });
  });
}

let snapshotId = 0;
function snapshot(server) {
  const id = ++snapshotId;
  return new Promise((resolve) => {
    if (!server.connected) return resolve(undefined);
    // A server stuck in one long event-loop turn answers late: give up after 30 s.
    const t = setTimeout(() => {
      server.off("message", on);
      resolve(undefined);
    }, 30_000);
    const on = (m) => {
      if (m.type === "snapshot" && m.id === id) {
        clearTimeout(t);
        server.off("message", on);
        resolve(m);
      }
    };
    server.on("message", on);
    server.send({ type: "snapshot", id });
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    if (server.exitCode !== null) return resolve();
    const t = setTimeout(() => {
      server.kill("SIGKILL");
      resolve();
    }, 10_000);
    server.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    server.send({ type: "stop" });
  });
}

async function runScenario(sc, { execArgv = [], measureMs = MEASURE } = {}) {
  const quiet = await waitQuiet();
  const { child: server, port } = await startServer(execArgv, SERVER_OPTIONS);
  // The load generator stops itself at this deadline whatever happens (10 000 connections take a while to open).
  const spec = { port, warmupMs: WARMUP, measureMs, ...sc.spec };
  spec.deadlineMs = spec.warmupMs + spec.measureMs + 30_000 + 9 * (spec.loadMs ?? 0) + (spec.extraDeadlineMs ?? 0);
  const file = path.join(here, "loadgen.mjs");
  const gen = spawn(process.execPath, [file, sc.loadgen, JSON.stringify(spec)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const marks = {};
  const result = await new Promise((resolve) => {
    const kill = setTimeout(() => {
      gen.kill("SIGKILL");
      resolve({ error: "load generator timed out" });
    }, spec.deadlineMs + 10_000);
    gen.on("message", async (m) => {
      if (m.type === "mark") {
        marks[m.phase] = await snapshot(server);
        if (gen.connected) gen.send({ type: "marked", phase: m.phase });
      } else if (m.type === "result") {
        clearTimeout(kill);
        resolve(m.error ? { error: m.error } : m.result);
      }
    });
    gen.on("exit", (code) => {
      clearTimeout(kill);
      resolve({ error: `load generator exited with ${code}` });
    });
  });
  await new Promise((r) => (gen.exitCode !== null ? r() : gen.once("exit", r)));
  const server1 = marks.end ?? (await snapshot(server).catch(() => undefined));
  await stopServer(server);
  return { result, marks, serverEnd: server1, quiet };
}

// ------------------------------------------------------------------ figures

const fmt = (n) => (n === undefined || Number.isNaN(n) ? "—" : Math.round(n).toLocaleString("en-US"));
const ms = (n) => (n === undefined ? "—" : `${n.toFixed(2)} ms`);

function serverWindow(marks, from = "start", to = "end") {
  const a = marks[from];
  const b = marks[to];
  if (a === undefined || b === undefined) return undefined;
  const wallUs = b.hr - a.hr;
  const cpu = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / wallUs;
  // The main thread's own CPU share, and the share it was runnable but CPU 0 ran something else:
  // another process, or the server's own GC / helper threads (cpu - main).
  const main = (b.sched[0] - a.sched[0]) / 1000 / wallUs;
  const wait = (b.sched[1] - a.sched[1]) / 1000 / wallUs;
  const d = (k) => b.stats[k] - a.stats[k];
  const dropped = Object.keys(b.stats.dropped).reduce((acc, k) => acc + (b.stats.dropped[k] - a.stats.dropped[k]), 0);
  return {
    cpu,
    main,
    wait,
    fromUs: a.hr,
    toUs: b.hr,
    framesIn: d("framesIn") / (wallUs / 1e6),
    deliveries: d("deliveries") / (wallUs / 1e6),
    dropped,
    droppedBy: Object.fromEntries(Object.keys(b.stats.dropped).map((k) => [k, b.stats.dropped[k] - a.stats.dropped[k]]).filter(([, v]) => v > 0)),
    lagP50: b.lagP50,
    lagP99: b.lagP99,
    lagMax: b.lagMax,
    rssMiB: b.mem / 2 ** 20,
    errors: b.stats.errors,
  };
}

const pc = (x) => `${(100 * x).toFixed(0)} %`;
// "server CPU 98 % (main thread 80 %, GC/helpers 18 %; main thread waited 20 % for the core)"
function serverCpu(w) {
  const helpers = Math.max(0, w.cpu - w.main);
  const wait = w.wait >= 0.03 ? `; main thread runnable but waiting ${pc(w.wait)} (for GC/helper threads or other processes)` : "";
  return `server CPU ${pc(w.cpu)} (main thread ${pc(w.main)}, GC/helpers ${pc(helpers)}${wait})`;
}

// The server's event-loop lag over a window (its own monitorEventLoopDelay): "p50 / p99 ms (max)".
const lagCell = (w) => (w === undefined ? "—" : `${w.lagP50.toFixed(1)} / ${w.lagP99.toFixed(1)} ms (max ${w.lagMax.toFixed(0)})`);
const LAG_TARGET_MS = 50;
const lagMet = (w) => (w === undefined ? "" : w.lagP99 <= LAG_TARGET_MS ? "met" : "MISSED");

function rows(sc, run) {
  return rowsOf(sc, run).map((row) => {
    const w = row.window ?? serverWindow(run.marks);
    return { ...row, lag: lagCell(w), lagMet: lagMet(w) };
  });
}

function rowsOf(sc, run) {
  const r = run.result;
  if (r.error) return [{ figure: sc.figure, measured: "error", target: "", met: "", notes: r.error.split("\n")[0] }];
  const s = serverWindow(run.marks);
  const cpuNote = (extra = "") =>
    [
      // What one fully available core would do if the server stays CPU-bound: robust to other processes on the machine.
      s && r.rate !== undefined && s.cpu > 0.05 ? `≈ ${fmt(r.rate / s.cpu)} per server CPU-second` : "",
      s ? serverCpu(s) : "",
      r.loadgenCpu !== undefined ? `loadgen CPU ${(100 * r.loadgenCpu).toFixed(0)} %` : "",
      r.loadgenWait >= 0.05 ? `loadgen waited ${(100 * r.loadgenWait).toFixed(0)} %` : "",
      s && s.dropped > 0 ? `server dropped ${fmt(s.dropped)} (${Object.entries(s.droppedBy).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")})` : s ? "0 dropped" : "",
      extra,
      // Cross-check: the server's own delivery counter over the same window (it counts frames queued).
      s && r.rate !== undefined ? `server counted ${fmt(s.deliveries)} deliveries/s` : "",
      r.errors?.length ? `errors: ${r.errors.join("; ")}` : "",
    ]
      .filter(Boolean)
      .join(", ");
  const met = (v, target, higher = true) => (target === undefined ? "(info)" : (higher ? v >= target : v <= target) ? "met" : "MISSED");
  switch (sc.loadgen) {
    case "fanIn":
      return [
        {
          figure: sc.figure,
          measured: `${fmt(r.rate)} ${sc.unit}`,
          target: sc.target ? `≥ ${fmt(sc.target)}` : "",
          met: met(r.rate, sc.target),
          value: r.rate,
          notes: cpuNote(`published ${fmt((r.sent ?? 0) / r.seconds)}/s`),
        },
      ];
    case "fanOut":
      return [
        {
          figure: sc.figure,
          measured: `${fmt(r.rate)} ${sc.unit}`,
          target: `≥ ${fmt(sc.target)}`,
          met: met(r.rate, sc.target),
          value: r.rate,
          notes: cpuNote(`${fmt((r.sent ?? 0) / r.seconds)} publishes/s, setup ${r.setupSeconds?.toFixed(1)} s`),
        },
      ];
    case "unicast":
      return [{ figure: sc.figure, measured: `${fmt(r.rate)} ${sc.unit}`, target: "", met: "(info)", value: r.rate, notes: cpuNote() }];
    case "clientPublish":
      return [
        {
          figure: sc.figure,
          measured: `${fmt(r.rate)} ${sc.unit}`,
          target: "",
          met: "(info)",
          value: r.rate,
          notes: `client process CPU ${(100 * r.loadgenCpu).toFixed(0)} %; no subscriber`,
        },
      ];
    case "rtt": {
      // Server CPU and run-queue wait of one phase; loadgen wait from the load generator.
      const phase = (from, to, x) => {
        const w = serverWindow(run.marks, from, to);
        return [
          w ? serverCpu(w) : "",
          x.loadgenWait >= 0.02 ? `loadgen waited ${(100 * x.loadgenWait).toFixed(0)} %` : "",
        ]
          .filter(Boolean)
          .join(", ");
      };
      const out = [
        {
          figure: "heartbeat RTT, no load (baseline)",
          measured: `p50 ${ms(r.baseline.p50)}, p99 ${ms(r.baseline.p99)}`,
          target: "",
          met: "(info)",
          notes: `${r.baseline.samples} samples, max ${ms(r.baseline.max)}, ${phase("baseline", "download", r.baseline)}`,
          window: serverWindow(run.marks, "baseline", "download"),
        },
      ];
      const mb = (r.messageSize / 2 ** 20).toFixed(0);
      for (const [key, label] of [
        ["download", `heartbeat RTT while ${mb} MiB messages stream to the same connection (other channel)`],
        ["self", `heartbeat RTT while the same connection uploads ${mb} MiB messages and receives them back`],
      ]) {
        const x = r[key];
        if (x === undefined) continue;
        out.push({
          figure: label,
          measured: `p50 ${ms(x.p50)}, p99 ${ms(x.p99)}`,
          target: key === "download" ? "p99 ≤ 10 ms" : "",
          met: key === "download" ? met(x.p99, 10, false) : "(info)",
          value: x.p99,
          notes: `${x.samples} samples, max ${ms(x.max)}, ${x.messages} messages at ${x.mibPerSecond.toFixed(0)} MiB/s, ${phase(key, `${key}-end`, x)}`,
          window: serverWindow(run.marks, key, `${key}-end`),
        });
      }
      return out;
    }
    default:
      return [];
  }
}

function printTable(all) {
  const cols = ["figure", "measured", "target", "met", "lag", "lagMet", "notes"];
  const titles = { lag: `server loop lag p50 / p99`, lagMet: `lag p99 ≤ ${LAG_TARGET_MS} ms` };
  console.log(`\n| ${cols.map((c) => titles[c] ?? c).join(" | ")} |`);
  console.log(`|${cols.map(() => "---").join("|")}|`);
  for (const row of all) console.log(`| ${cols.map((c) => String(row[c] ?? "")).join(" | ")} |`);
}

function machine() {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? "?"} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.type()} ${os.release()} (${os.arch()})`;
}

// -------------------------------------------------------------------- main

console.log(`hb routing benchmark — ${machine()}`);
console.log(
  `server: packages/server/dist in its own process${PIN ? ", pinned to CPU 0 (load generators and this process on CPU 1)" : " (not pinned)"}; ` +
    `100-byte payloads; warm-up ${WARMUP} ms, window ${MEASURE} ms per scenario; raw-socket load generators (@hb/codec framing, pre-encoded batches, deliveries counted by frame length)`,
);
const all = [];
const missed = [];
for (const sc of SCENARIOS) {
  process.stdout.write(`running ${sc.id} … `);
  const t = Date.now();
  const run = await runScenario(sc);
  const rs = rows(sc, run);
  const q = run.quiet;
  const qs = q?.busy === undefined ? "" : ` (machine ${(100 * q.busy).toFixed(0)} % busy at start${q.waitedMs > 600 ? `, after waiting ${(q.waitedMs / 1000).toFixed(0)} s for a quiet moment` : ""})`;
  console.log(`${((Date.now() - t) / 1000).toFixed(1)} s${qs}: ${rs.map((x) => `${x.measured} ${x.met}, loop lag ${x.lag}`).join("; ")}`);
  if (run.result.error) console.log(run.result.error);
  all.push(...rs);
  if (rs.some((x) => x.met === "MISSED" || x.lagMet === "MISSED")) missed.push(sc);
}

printTable(all);
console.log(`\ncommand: ${process.argv.slice(1).map((a) => path.relative(process.cwd(), a) || a).join(" ") || "node routing.bench.mjs"} (cwd ${process.cwd()})`);
console.log(`machine: ${machine()}`);

if (PROFILE && missed.length > 0) {
  mkdirSync(PROFILE_DIR, { recursive: true });
  console.log(`\nProfiles of the server for the missed targets (node --cpu-prof, 3 s window, files in ${PROFILE_DIR}):`);
  for (const sc of missed) {
    const dir = path.join(PROFILE_DIR, sc.id);
    mkdirSync(dir, { recursive: true });
    const run = await runScenario(sc, {
      execArgv: ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "200"],
      measureMs: 3000,
    });
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => path.join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (files.length === 0) {
      console.log(`${sc.id}: no profile written`);
      continue;
    }
    const w = sc.id === "rtt" ? serverWindow(run.marks, "download", "download-end") : serverWindow(run.marks);
    const s = summarise(files[0], { fromUs: w?.fromUs, toUs: w?.toUs, top: 15 });
    const r = rows(sc, run).find((x) => x.met === "MISSED" || x.lagMet === "MISSED") ?? rows(sc, run)[0];
    printSummary(s, `${sc.id} under the profiler: ${r.measured}, loop lag ${r.lag} — ${path.relative(process.cwd(), files[0])}`);
  }
}
console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
