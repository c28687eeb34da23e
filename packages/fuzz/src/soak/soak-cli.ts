// pnpm bench:soak [--minutes 10] [--nodes 200] [--seed 1] [--max-heap-slope 10] [--max-rss-slope 30]
//
// A bounded soak with churn against a real server process (default worker
// count: one process per CPU): a stable population heartbeats throughout
// while churn nodes join, leave (Goodbye), fall silent (the server times
// them out) and publish. A watcher subscribed to $hb.presence records every
// event; at the end its view is reconciled with what the churn did (zero
// lost events), and the RSS and heap slope of every server process
// (primary and workers, sampled every 5 s after a full GC in each, from 30 %
// of the run on; fitted to the per-minute floor, see memorySlopes) is
// printed and
// checked. Exits 1 on a lost event or a slope over its limit.
import { type ChildProcess, spawn } from "node:child_process";
import { arch, cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { ChurnNode, presenceKindName } from "./churn-node.js";
import { type MemoryPoint, memorySlopes } from "./memory-slope.js";
import { PresenceLedger } from "./presence-ledger.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    nodes: { type: "string", default: "200" },
    seed: { type: "string", default: "1" },
    "max-heap-slope": { type: "string", default: "10" },
    "max-rss-slope": { type: "string", default: "30" },
  },
});
const MINUTES = Number(values.minutes);
const STABLE = Number(values.nodes);
const CHURN_MAX = STABLE; // churn nodes alive at most
const BEAT_MS = 500;
const TIMEOUT_MS = 3_000;
// JIT code and V8's heap sizing settle in the first minutes: the slope is fitted after them.
const WARMUP_S = Math.max(60, MINUTES * 60 * 0.3);
const rng = xoroshiro128plus(Number(values.seed));
const rand = (from: number, to: number) => uniformInt(rng, from, to);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The server process.
const script = fileURLToPath(new URL("./soak-server.ts", import.meta.url));
const options = {
  heartbeatInterval: 2 * BEAT_MS,
  minHeartbeatInterval: 100,
  heartbeatTimeout: TIMEOUT_MS,
  heartbeatCheckInterval: 250,
};
const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", script], {
  env: { ...process.env, HB_OPTIONS: JSON.stringify(options) },
  stdio: ["ignore", "inherit", "inherit", "ipc"],
});
const port = await new Promise<number>((resolve, reject) => {
  child.once("message", (m) => resolve((m as { port: number }).port));
  child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
});
interface Sample {
  procs: { name: string; rss: number; heapUsed: number }[];
  stats: Record<string, number>;
}
const sample = () =>
  new Promise<Sample>((resolve) => {
    child.once("message", (m) => resolve(m as Sample));
    child.send("sample");
  });

console.log(
  `hb soak: ${MINUTES} min, ${STABLE} stable nodes + up to ${CHURN_MAX} churning, seed ${values.seed}; ` +
    `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model} (${arch()}), ${Math.round(totalmem() / 2 ** 30)} GiB; ${new Date().toISOString()}`,
);

// The watcher and the stable population.
const ledger = new PresenceLedger();
const watcher = await ChurnNode.join(port, "soak-watcher", BEAT_MS);
let delivered = 0;
watcher.onFrame = (f) => {
  if (f.body.case === "presence") ledger.saw(f.body.value.nodeId, presenceKindName(f.body.value.kind));
  else if (f.body.case === "delivery") delivered++;
  else if (f.body.case === "error") console.log(`watcher got ${f.body.value.code}: ${f.body.value.message}`);
};
watcher.subscribe("$hb.presence", 1);
watcher.subscribe("soak.>", 2);
await sleep(200);
const stable: ChurnNode[] = [];
for (let i = 0; i < STABLE; i += 50) {
  stable.push(...(await Promise.all(Array.from({ length: Math.min(50, STABLE - i) }, (_, k) => ChurnNode.join(port, `stable-${i + k}`, BEAT_MS)))));
}
for (const n of stable) ledger.expect(n.nodeId, "joined");

// Churn.
const live: ChurnNode[] = [];
const silent: ChurnNode[] = [];
let next = 0;
let published = 0;
const counts = { joined: 0, left: 0, silenced: 0 };
const memory = new Map<string, MemoryPoint[]>();
const t0 = performance.now();
const end = t0 + MINUTES * 60_000;
let lastSample = 0;
while (performance.now() < end) {
  const action = rand(0, 9);
  if ((action <= 3 && live.length < CHURN_MAX) || live.length === 0) {
    const id = `churn-${next++}`;
    ledger.expect(id, "joined");
    live.push(await ChurnNode.join(port, id, BEAT_MS));
    counts.joined++;
  } else if (action <= 5) {
    const n = live.splice(rand(0, live.length - 1), 1)[0] as ChurnNode;
    ledger.expect(n.nodeId, "left");
    n.leave();
    counts.left++;
  } else if (action === 6) {
    const n = live.splice(rand(0, live.length - 1), 1)[0] as ChurnNode;
    ledger.expect(n.nodeId, "timeout");
    n.fallSilent();
    silent.push(n);
    void n.closed.then(() => silent.splice(silent.indexOf(n), 1));
    counts.silenced++;
  } else {
    const n = live[rand(0, live.length - 1)] as ChurnNode;
    n.publish(`soak.${rand(0, 9)}`, new Uint8Array(rand(1, 512)));
    published++;
  }
  const now = performance.now();
  if (now - lastSample >= 5_000) {
    lastSample = now;
    const s = await sample();
    const t = (now - t0) / 1_000;
    for (const p of s.procs) {
      let list = memory.get(p.name);
      if (list === undefined) memory.set(p.name, (list = []));
      if (t >= WARMUP_S) list.push({ t, rss: p.rss, heapUsed: p.heapUsed });
    }
    if (Math.round(t) % 60 < 5) {
      console.log(
        `  ${Math.round(t)} s: ${s.stats.online} online, ${s.stats.connections} connections, joined ${s.stats.joined}, left ${s.stats.left}, ` +
          `timed out ${s.stats.timedOut}; ${s.procs.map((p) => `${p.name} rss ${(p.rss / 2 ** 20).toFixed(0)} MiB heap ${(p.heapUsed / 2 ** 20).toFixed(0)} MiB`).join(", ")}`,
      );
    }
  }
  await sleep(50);
}

// Let the last silent nodes time out, then reconcile.
await sleep(TIMEOUT_MS + 3_000);
const deadline = Date.now() + 30_000;
while (ledger.lost().length > 0 && Date.now() < deadline) await sleep(500);
const lost = ledger.lost();
console.log(
  `churn: ${counts.joined} joined, ${counts.left} left, ${counts.silenced} timed out, ${published} published (${delivered} delivered to the watcher); ` +
    `presence: ${ledger.expectedCount} changes expected, ${ledger.seenCount} events seen, ${lost.length} lost${lost.length > 0 ? `: ${lost.slice(0, 10).join("; ")}` : ""}`,
);
let failed = lost.length > 0;
const maxHeap = Number(values["max-heap-slope"]);
const maxRss = Number(values["max-rss-slope"]);
for (const [name, points] of memory) {
  const s = memorySlopes(points);
  const first = points[0];
  const last = points.at(-1);
  const over = s.heap > maxHeap || s.rss > maxRss;
  failed ||= over;
  console.log(
    `memory ${name}: ${points.length} samples after ${WARMUP_S.toFixed(0)} s warm-up; rss ${((first?.rss ?? 0) / 2 ** 20).toFixed(1)} → ${((last?.rss ?? 0) / 2 ** 20).toFixed(1)} MiB, ` +
      `slope ${s.rss.toFixed(2)} MiB/h (limit ${maxRss}); heap ${((first?.heapUsed ?? 0) / 2 ** 20).toFixed(1)} → ${((last?.heapUsed ?? 0) / 2 ** 20).toFixed(1)} MiB, ` +
      `slope ${s.heap.toFixed(2)} MiB/h (limit ${maxHeap})${over ? "  OVER" : ""}`,
  );
}
for (const n of [...stable, ...live, ...silent, watcher]) n.destroy();
child.send("close");
await new Promise((r) => child.once("exit", r));
console.log(failed ? "soak: FAILED" : "soak: passed (no presence event lost, memory flat)");
process.exit(failed ? 1 : 0);
