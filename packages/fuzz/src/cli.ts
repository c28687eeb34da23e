// pnpm fuzz [--target decoder,session,tcp] [--frames N | --seconds S] [--seed N] [--out DIR] [--replay FILE]
//
// Mutation fuzzer seeded from proto/testdata (the golden vectors): drives
// the frame decoder, a full server session in-process (no sockets), and a
// real server over loopback TCP. Prints inputs/s, frames/s and the distinct
// error codes reached per target; writes every crash or hang with the input
// that caused it to DIR (default .cache/fuzz) and exits 1 if there was one.
// Each target runs in a worker thread watched from here, so that an input
// that never returns is caught too (fuzz-worker.ts).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { arch, cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatReport } from "./fuzz-report.js";
import { runInWorker } from "./fuzz-worker.js";
import { Mutator } from "./mutator.js";
import { loadSeeds } from "./seed-corpus.js";
import { decoderTarget } from "./targets/decoder-target.js";
import { sessionTarget } from "./targets/session-target.js";
import { tcpTarget } from "./targets/tcp-target.js";

// An input in flight this long means the target is stuck (an endless loop): a hang.
const WATCHDOG_MS = 30_000;

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "decoder,session,tcp" },
    frames: { type: "string" },
    seconds: { type: "string" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: ".cache/fuzz" },
    replay: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log("pnpm fuzz [--target decoder,session,tcp] [--frames N | --seconds S] [--seed N] [--out DIR]");
  console.log("  --frames: mutated inputs per target; --seconds: time per target (default 10 s when neither is given)");
  console.log("  --replay FILE: feed one saved input (a crash-*.bin) to the targets once, in this thread, and report");
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
if (values.replay !== undefined) {
  const input = new Uint8Array(readFileSync(values.replay));
  for (const name of values.target.split(",")) {
    const target = name === "decoder" ? decoderTarget() : name === "session" ? sessionTarget(seeds) : await tcpTarget(seeds);
    const codes: Record<string, number> = {};
    await target.run(input, new Mutator(seeds, seed), codes);
    await target.close();
    console.log(`${name}: replayed ${input.length} bytes: ${JSON.stringify(codes)}`);
  }
  process.exit(0);
}

let failed = false;
for (const name of values.target.split(",")) {
  const result = await runInWorker(name, seed, { inputs, seconds }, WATCHDOG_MS);
  const findings =
    "target" in result
      ? result.findings
      : [{ kind: "hang" as const, target: name, index: result.index, input: result.input, detail: `no progress for ${Math.round(result.ms)} ms (watchdog)${result.truncated ? "; input cut to 4 MiB" : ""}` }];
  if ("target" in result) console.log(formatReport(result));
  for (const f of findings) {
    failed = true;
    mkdirSync(out, { recursive: true });
    const base = join(out, `${f.kind}-${f.target}-seed${seed}-input${f.index}`);
    writeFileSync(`${base}.bin`, f.input);
    writeFileSync(`${base}.txt`, `${f.detail}\n`);
    console.log(`  ${f.kind} at input ${f.index}: written to ${base}.bin (${f.input.length} bytes); ${f.detail.split("\n")[0]}`);
  }
}
process.exit(failed ? 1 : 0);
