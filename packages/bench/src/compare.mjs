// Draws the bench:scale chart of several runs together, from their JSON
// results (e.g. before and after a change to the accept path).
//
//   node packages/bench/src/compare.mjs --out docs/x.svg .cache/a.json=before .cache/b.json=after
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { scaleChart } from "./report/scale-chart.mjs";
import { printUsage } from "./usage.mjs";

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: { help: { type: "boolean", default: false }, out: { type: "string" } },
});
if (a.help || a.out === undefined || positionals.length === 0) printUsage(import.meta.url);
const runs = positionals.map((p) => {
  const [file, name] = p.split("=");
  return { result: JSON.parse(readFileSync(file, "utf8")), name };
});
writeFileSync(
  a.out,
  scaleChart(
    runs.map((r) => r.result),
    runs.map((r) => r.name ?? r.result.label),
  ),
);
console.log(`Chart: ${a.out}`);
