#!/usr/bin/env node
// Fails when proto/ does not pass `buf lint`, or when `buf generate` would
// change the committed generated code: packages/codec/src/gen from
// hb/v1 (proto/buf.gen.yaml) and packages/server/src/gen from the internal
// formats hb/internal/v1 (proto/buf.gen.internal.yaml). Generated code is
// never edited by hand.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const protoDir = join(root, "proto");
const TARGETS = [
  { template: "buf.gen.yaml", gen: "packages/codec/src/gen" },
  { template: "buf.gen.internal.yaml", gen: "packages/server/src/gen" },
];
const bin = join(root, "node_modules/.bin");
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

execFileSync("buf", ["lint"], { cwd: protoDir, env, stdio: "inherit" });

for (const { template, gen } of TARGETS) checkFresh(template, gen);

function checkFresh(template, gen) {
const committed = join(root, gen);
const out = mkdtempSync(join(tmpdir(), "hb-gen-"));
try {
  // buf.gen.yaml writes to ../packages/codec/src/gen relative to proto/; with
  // --output the same relative path lands under the temporary directory.
  const base = join(out, "proto");
  execFileSync("buf", ["generate", "--template", template, "--output", base], { cwd: protoDir, env, stdio: "inherit" });
  const fresh = join(out, gen);
  const list = (dir) =>
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((p) => statSync(join(dir, p)).isFile())
      .sort();
  const a = list(committed);
  const b = list(fresh);
  const problems = [];
  for (const f of new Set([...a, ...b])) {
    if (!a.includes(f)) problems.push(`missing from ${gen}: ${f}`);
    else if (!b.includes(f)) problems.push(`not generated from proto/ any more: ${f}`);
    else if (!readFileSync(join(committed, f)).equals(readFileSync(join(fresh, f)))) problems.push(`differs from buf generate: ${f}`);
  }
  if (problems.length > 0) {
    console.error(`Generated code is stale (run \`pnpm gen\` and commit):\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`generated code is fresh (${a.length} files in ${relative(root, committed)})`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
}
