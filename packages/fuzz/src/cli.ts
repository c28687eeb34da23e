// pnpm fuzz [--target decoder,session,tcp] [--frames N | --seconds S] [--seed N] [--out DIR]
//
// Mutation fuzzer seeded from proto/testdata (the golden vectors): drives
// the frame decoder, a full server session in-process (no sockets), and a
// real server over loopback TCP. Prints inputs/s, frames/s and the distinct
// error codes reached per target; writes every crash or hang with the input
// that caused it to DIR (default .cache/fuzz) and exits 1 if there was one.
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatReport } from "./fuzz-report.js";
import { runFuzz } from "./run-fuzz.js";
import { loadSeeds } from "./seed-corpus.js";
import { decoderTarget } from "./targets/decoder-target.js";
import type { FuzzTarget } from "./targets/fuzz-target.js";
import { sessionTarget } from "./targets/session-target.js";
import { tcpTarget } from "./targets/tcp-target.js";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "decoder,session,tcp" },
    frames: { type: "string" },
    seconds: { type: "string" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: ".cache/fuzz" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log("pnpm fuzz [--target decoder,session,tcp] [--frames N | --seconds S] [--seed N] [--out DIR]");
  console.log("  --frames: mutated inputs per target; --seconds: time per target (default 10 s when neither is given)");
  process.exit(0);
}
const seed = Number(values.seed);
const inputs = values.frames === undefined ? undefined : Number(values.frames);
const seconds = values.seconds === undefined ? (inputs === undefined ? 10 : undefined) : Number(values.seconds);
const seeds = loadSeeds();
const out = resolve(values.out);

console.log(
  `hb fuzz: seed ${seed}, ${seeds.length} seed vectors, budget ${inputs === undefined ? "" : `${inputs} inputs `}` +
    `${seconds === undefined ? "" : `${seconds} s `}per target; node ${process.version}, ${cpus().length} × ${cpus()[0]?.model} (${arch()}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB; ${new Date().toISOString()}`,
);
let failed = false;
for (const name of values.target.split(",")) {
  let target: FuzzTarget;
  if (name === "decoder") target = decoderTarget();
  else if (name === "session") target = sessionTarget(seeds);
  else if (name === "tcp") target = await tcpTarget(seeds);
  else throw new Error(`unknown target ${name} (decoder, session, tcp)`);
  const report = await runFuzz(target, seeds, seed, { inputs, seconds });
  console.log(formatReport(report));
  for (const f of report.findings) {
    failed = true;
    mkdirSync(out, { recursive: true });
    const base = join(out, `${f.kind}-${f.target}-seed${seed}-input${f.index}`);
    writeFileSync(`${base}.bin`, f.input);
    writeFileSync(`${base}.txt`, `${f.detail}\n`);
    console.log(`  ${f.kind} at input ${f.index}: written to ${base}.bin (${f.input.length} bytes); ${f.detail.split("\n")[0]}`);
  }
}
process.exit(failed ? 1 : 0);
