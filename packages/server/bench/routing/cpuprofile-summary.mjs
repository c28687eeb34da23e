// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per
// function, top N, mapped back to packages/*/src through the dist source
// maps, and self time per area (socket I/O, protobuf, codec, server, GC, idle).
//
//   node packages/server/bench/routing/cpuprofile-summary.mjs <file.cpuprofile> [--top 20]
//
// `summarise(file, { fromUs, toUs })` keeps only samples in [fromUs, toUs]
// (process.hrtime in µs, the clock V8 stamps samples with on Linux), so a
// profile of a whole server process can be cut down to the measurement window.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";

const maps = new Map();
function sourceMapFor(url) {
  if (!url.startsWith("file://") || !url.endsWith("/dist/index.js")) return undefined;
  if (!maps.has(url)) {
    let map;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, "utf8")));
    } catch {
      map = undefined;
    }
    maps.set(url, map);
  }
  return maps.get(url);
}

function where(cf) {
  const url = cf.url ?? "";
  const map = sourceMapFor(url);
  if (map !== undefined) {
    const e = map.findEntry(cf.lineNumber, cf.columnNumber);
    if (e?.originalSource) {
      const file = e.originalSource.replace(/^.*?\/(packages\/)/, "$1").replace(/^(\.\.\/)+/, "");
      return `${file}:${e.originalLine + 1}`;
    }
  }
  if (url === "") return "";
  const short = url.replace(/^file:\/\/.*?\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "").replace(/^file:\/\/.*?\/packages\//, "packages/");
  return `${short}:${cf.lineNumber + 1}`;
}

/** The area a function belongs to, from its URL (a rough guide to what the time is spent on). */
function area(cf) {
  const name = cf.functionName;
  const url = cf.url ?? "";
  if (name === "(garbage collector)") return "GC";
  if (name === "(idle)") return "idle";
  if (name === "(program)") return "native / VM (program)";
  if (name === "(root)") return "other";
  if (url.includes("@bufbuild/protobuf")) return "protobuf-es (encode/decode)";
  if (url.includes("/codec/dist/")) return "@hb/codec (frame decoder, scheduler, wire check)";
  if (url.includes("/server/dist/")) return "@hb/server (session, router, writer)";
  if (url.startsWith("node:internal/stream") || url.startsWith("node:net") || url.includes("stream_base_commons") || name === "writev" || name === "writeBuffer" || name === "writeUtf8String") return "socket I/O (node:net / streams)";
  if (url.startsWith("node:internal/timers") || url.startsWith("node:timers")) return "timers / setImmediate";
  if (url.startsWith("node:")) return "node internals (other)";
  if (url === "") return `native: ${name}`;
  return "other JS";
}

/**
 * @returns { totalMs, windowed, top: [{ name, where, area, selfMs, pct }], areas: [{ area, selfMs, pct }] }
 */
export function summarise(file, { fromUs, toUs, top = 20 } = {}) {
  const p = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const samples = p.samples;
  const deltas = p.timeDeltas;
  let t = p.startTime;
  let total = 0;
  const windowed = fromUs !== undefined && toUs !== undefined && fromUs >= p.startTime && toUs <= p.endTime;
  // Each sample counts one sampling interval (not the gap to the next sample: when another process
  // holds the core, that gap would be charged to whatever function happened to run before it).
  const interval = p.samples.length > 1 ? (p.endTime - p.startTime) / p.samples.length : 0;
  const sorted = deltas.slice(1).sort((a, b) => a - b);
  const dur = sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)] : interval;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i];
    if (windowed && (t < fromUs || t > toUs)) continue;
    total += dur;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dur);
  }
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const key = `${cf.functionName}|${cf.url}|${cf.lineNumber}|${cf.columnNumber}`;
    const f = fns.get(key) ?? { name: cf.functionName || "(anonymous)", where: where(cf), area: area(cf), us: 0 };
    f.us += us;
    fns.set(key, f);
    const a = f.area;
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us) => (total === 0 ? 0 : (100 * us) / total);
  return {
    totalMs: total / 1000,
    windowed,
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, area: f.area, selfMs: f.us / 1000, pct: pct(f.us) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([a, us]) => ({ area: a, selfMs: us / 1000, pct: pct(us) })),
  };
}

/** Prints a summary as two small tables. */
export function printSummary(s, title) {
  console.log(`\n${title} — ${s.totalMs.toFixed(0)} ms sampled${s.windowed ? " in the measurement window" : " (whole process)"} (samples × median interval)`);
  console.log("  self %  self ms  function (source)                                              area");
  for (const f of s.top) {
    const fn = `${f.name} (${f.where})`;
    console.log(`  ${f.pct.toFixed(1).padStart(5)}  ${f.selfMs.toFixed(0).padStart(7)}  ${fn.slice(0, 62).padEnd(62)} ${f.area}`);
  }
  console.log("  by area:");
  for (const a of s.areas.slice(0, 10)) console.log(`  ${a.pct.toFixed(1).padStart(5)}  ${a.selfMs.toFixed(0).padStart(7)}  ${a.area}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node cpuprofile-summary.mjs <file.cpuprofile> [--top N]");
    process.exit(2);
  }
  const i = process.argv.indexOf("--top");
  printSummary(summarise(file, { top: i > 0 ? Number(process.argv[i + 1]) : 20 }), file);
}
