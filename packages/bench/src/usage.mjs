import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Prints the leading `//` comment block of the entry file `url` (its usage and options) and exits. */
export function printUsage(url) {
  const lines = readFileSync(fileURLToPath(url), "utf8").split("\n");
  const head = [];
  for (const l of lines) {
    if (!l.startsWith("//")) break;
    head.push(l.replace(/^\/\/ ?/, ""));
  }
  console.log(head.join("\n"));
  process.exit(0);
}
