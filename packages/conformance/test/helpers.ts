import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ScenarioResult } from "@hb/conformance";

/** The workspace root: commands run there so that tsx maps @hb/* to the sources (tsconfig paths). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve("tsx/package.json").replace(/package\.json$/, "dist/loader.mjs")).href;

/** A shell command running a TypeScript file of this test folder with tsx, in one process. */
export function tsNode(file: string, args = ""): string {
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
  return `"${process.execPath}" --import ${tsxLoader} "${path}" ${args}`.trim();
}

/** Shell command running the conformance CLI. */
export function cliCommand(args: string): string {
  const path = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
  return `"${process.execPath}" --import ${tsxLoader} "${path}" ${args}`;
}

/** Results by scenario name. */
export function byName(results: readonly ScenarioResult[]): Record<string, ScenarioResult> {
  return Object.fromEntries(results.map((r) => [r.name, r]));
}

/** "name: STATUS message" lines, for readable assertion failures. */
export function explain(results: readonly ScenarioResult[]): string {
  return results.map((r) => `${r.name}: ${r.status.toUpperCase()} ${r.message ?? ""}`).join("\n");
}
