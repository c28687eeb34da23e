import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Checks a `workerModule` option value and returns it as a `file:` URL
 * string (what a worker passes to `import()`).
 *
 * @throws TypeError when it is not an absolute path or a `file:` URL, or names no file
 */
export function resolveWorkerModule(value: unknown): string {
  let path: string;
  if (value instanceof URL || (typeof value === "string" && value.startsWith("file:"))) {
    const url = new URL(String(value));
    if (url.protocol !== "file:") throw new TypeError(`workerModule must be a file: URL, got ${url.protocol}`);
    path = fileURLToPath(url);
  } else if (typeof value === "string" && isAbsolute(value)) {
    path = value;
  } else {
    throw new TypeError(
      "workerModule must be an absolute path or a file: URL (e.g. new URL(\"./hooks.js\", import.meta.url))",
    );
  }
  if (!existsSync(path)) throw new TypeError(`workerModule ${path} does not exist`);
  return pathToFileURL(path).href;
}
