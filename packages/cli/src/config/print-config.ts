import { Document, isMap, isScalar, type YAMLMap } from "yaml";
import { SETTINGS } from "./config-schema.js";
import { formatDuration } from "./parse-duration.js";
import type { CliConfig } from "./resolve-config.js";

const REDACTED = "<redacted>";

/** One setting as `print-config` shows it. */
interface Shown {
  path: string;
  value: unknown;
  origin: string;
}

/**
 * The effective configuration, every setting with the value that runs and
 * where it came from (a flag, a variable, the file, hb-server's default or
 * the library's), secrets redacted: YAML with the origins as comments (a
 * valid config file), or JSON.
 */
export function printConfig(config: CliConfig, format: "yaml" | "json"): string {
  const shown: Shown[] = [];
  for (const s of SETTINGS) {
    const entry = config.entries.get(s.path);
    let value: unknown = entry?.value;
    let origin = entry?.origin ?? "";
    if (value === undefined && s.section === "server" && !s.path.startsWith("tls.") && !s.path.startsWith("auth.jwt.") && s.type !== "data") {
      const [head, tail] = s.path.split(".") as [string, string | undefined];
      const r = config.resolved as unknown as Record<string, unknown>;
      value = tail === undefined ? r[head] : (r[head] as Record<string, unknown> | undefined)?.[tail];
      origin = s.path === "serverId" ? "generated at start (set serverId to keep one)" : "library default";
    }
    if (value === undefined) continue;
    if (s.secret) value = REDACTED;
    else if (s.type === "duration" && typeof value === "number" && value !== 0) value = formatDuration(value);
    else if (s.path === "redis.url") value = redactUrl(String(value));
    shown.push({ path: s.path, value, origin });
  }
  const nested: Record<string, unknown> = {};
  for (const { path, value } of shown) setPath(nested, path, value);
  if (format === "json") return `${JSON.stringify(nested, null, 2)}\n`;
  const doc = new Document(nested);
  doc.commentBefore = " hb-server effective configuration (flags > HB_* environment > config file > defaults)";
  if (isMap(doc.contents)) annotate(doc.contents, [], new Map(shown.map((s) => [s.path, s.origin])));
  return doc.toString({ lineWidth: 0 });
}

function annotate(map: YAMLMap, prefix: string[], origins: ReadonlyMap<string, string>): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const path = [...prefix, key];
    if (isMap(pair.value)) annotate(pair.value, path, origins);
    else if (isScalar(pair.value)) pair.value.comment = ` ${origins.get(path.join(".")) ?? ""}`;
  }
}

function setPath(into: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let at = into;
  for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
  at[parts[parts.length - 1] as string] = value;
}

function redactUrl(text: string): string {
  try {
    const { password } = new URL(text);
    return password === "" ? text : text.replace(`:${password}@`, `:${REDACTED}@`);
  } catch {
    return text;
  }
}
