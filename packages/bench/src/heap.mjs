// Heap breakdown per connection (issue 13's memory budget): heap snapshots
// of every hb server process, listening and then holding --nodes idle raw
// nodes (the load clients of bench:scale, heartbeating every 10 s), and the
// growth per constructor between the two, per node.
//
//   node packages/bench/src/heap.mjs --nodes 15000                      # one process
//   node packages/bench/src/heap.mjs --nodes 15000 --server '{"workerCount":2}'   # primary and workers
//   node packages/bench/src/heap.mjs --node .tools/node22/node_modules/node/bin/node # the server on another Node
//
// Snapshots are taken with --heapsnapshot-signal (SIGUSR2; given to the
// server and its workers through NODE_OPTIONS), written to .cache/heap/.
// Each snapshot forces a full GC first, so what is left is live memory.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { printUsage } from "./usage.mjs";
import { Fleet } from "./load/fleet.mjs";
import { heapByConstructor, heapDiff } from "./heap/heap-by-constructor.mjs";
import { processTree, treeUsage } from "./proc/process-tree.mjs";
import { describeMachine } from "./report/machine.mjs";
import { freePort } from "./servers/free-port.mjs";
import { HbServerProcess } from "./servers/hb-server-process.mjs";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const { values: a } = parseArgs({
  options: {
    help: { type: "boolean", default: false },
    nodes: { type: "string", default: "15000" },
    server: { type: "string", default: '{"workerCount":1}' },
    top: { type: "string", default: "25" },
    node: { type: "string" },
  },
});
if (a.help) printUsage(import.meta.url);
const NODES = Number(a.nodes);
const dir = path.join(root, ".cache/heap");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const port = await freePort();
const server = await HbServerProcess.start({
  options: { ...JSON.parse(a.server), port },
  execPath: a.node,
  env: { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` },
  log: path.join(root, ".cache/heap-server.log"),
});

/** Signals every server process and waits for one new snapshot file per process; returns pid → file. */
async function snapshot(tag) {
  const pids = processTree(server.pid);
  const before = new Set(readdirSync(dir));
  for (const pid of pids) process.kill(pid, "SIGUSR2");
  const files = new Map();
  const until = Date.now() + 300_000;
  while (files.size < pids.length && Date.now() < until) {
    await sleep(1_000);
    for (const f of readdirSync(dir)) {
      if (before.has(f) || !f.endsWith(".heapsnapshot")) continue;
      const pid = Number(f.split(".")[3]); // Heap.<date>.<time>.<pid>.<thread>.<seq>.heapsnapshot
      if (pids.includes(pid)) files.set(pid, path.join(dir, f));
    }
  }
  // A file appears when writing starts (a worker holding thousands of sockets may take a while): wait until each is complete.
  const complete = (f) => {
    const fd = openSync(f, "r");
    try {
      const { size } = fstatSync(fd);
      if (size < 2) return false;
      const end = Buffer.alloc(2);
      readSync(fd, end, 0, 2, size - 2);
      return end.toString() === "]}";
    } finally {
      closeSync(fd);
    }
  };
  while (![...files.values()].every(complete) && Date.now() < until) await sleep(1_000);
  console.error(`${tag}: ${files.size} snapshots`);
  // In process-tree order: the primary first.
  return new Map(pids.filter((p) => files.has(p)).map((p) => [p, files.get(p)]));
}

await sleep(2_000);
const empty = await snapshot("listening");
const rss0 = treeUsage(server.pid);
const fleet = new Fleet({ protocol: "hb", wire: { interval: 10_000 }, port, nodes: NODES, processes: Math.ceil(NODES / 12_500), interval: 10_000, reconnect: null, deadlineMs: 600_000 });
for (let i = 0; i < 300 && (fleet.totals().ready ?? 0) < NODES; i++) await sleep(1_000);
await sleep(12_000); // every node has heartbeated at least once
const ready = fleet.totals().ready ?? 0;
const rss1 = treeUsage(server.pid);
const full = await snapshot("with nodes");
await fleet.stop();
await server.close();

console.log(`\n## Heap per node: ${ready} idle nodes, server options ${a.server}\n\n${describeMachine(a.node)}\n`);
const pids = [...full.keys()];
for (const [i, pid] of pids.entries()) {
  const before = heapByConstructor(empty.get(pid));
  const after = heapByConstructor(full.get(pid));
  const rows = heapDiff(before, after);
  const total = rows.reduce((s, r) => s + r.size, 0);
  const r0 = rss0.processes.find((p) => p.pid === pid)?.rss ?? 0;
  const r1 = rss1.processes.find((p) => p.pid === pid)?.rss ?? 0;
  console.log(
    `### ${pids.length > 1 ? (i === 0 ? "primary" : `worker ${i}`) : "server"} (pid ${pid}): heap +${(total / 2 ** 20).toFixed(1)} MiB = ${Math.round(total / ready)} B per node; RSS +${((r1 - r0) / 2 ** 20).toFixed(1)} MiB = ${Math.round((r1 - r0) / ready)} B per node\n`,
  );
  console.log("| what (V8 type:constructor) | count per node | bytes per node | share |");
  console.log("|---|---|---|---|");
  for (const r of rows.slice(0, Number(a.top))) {
    console.log(`| ${r.key.replace(/\|/g, "\\|")} | ${(r.count / ready).toFixed(2)} | ${(r.size / ready).toFixed(1)} | ${((r.size / total) * 100).toFixed(1)} % |`);
  }
  console.log("");
}
process.exit(0);
