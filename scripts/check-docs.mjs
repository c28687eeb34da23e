#!/usr/bin/env node
// Builds the TypeDoc API site (docs/api, git-ignored) and fails on any
// warning, in particular an exported symbol without TSDoc. TypeDoc's own
// treatWarningsAsErrors does not reach warnings raised inside packages in
// "packages" mode, hence this wrapper. The only warnings let through are the
// members of protobuf oneof unions in generated code (`case`/`value`), which
// protoc-gen-es cannot document and which we never edit by hand.
import { spawnSync } from "node:child_process";

const ALLOWED = [/^Frame\.__type\.body\.__type\.(case|value) \(Property\), defined in @hb\/codec\/src\/gen\//, /^FrameBodyInit\.__type\.case \(Property\)/];
const r = spawnSync("typedoc", ["--logLevel", "Warn"], { encoding: "utf8", shell: false, env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
const out = `${r.stdout}${r.stderr}`;
const problems = out
  .split("\n")
  .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
  .filter((l) => /^\[(warning|error)\]/.test(l) && !/^\[warning\] Found \d+ errors/.test(l))
  .map((l) => l.replace(/^\[(warning|error)\] /, ""))
  .filter((l) => !ALLOWED.some((re) => re.test(l)));
if (r.status !== 0 || problems.length > 0) {
  console.error(out);
  console.error(`TypeDoc: ${problems.length} problem(s):\n  ${[...new Set(problems)].join("\n  ")}`);
  process.exit(1);
}
console.log("API docs built in docs/api; every export documented");
