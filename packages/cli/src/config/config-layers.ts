import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./config-error.js";
import { LOG_FORMATS, LOG_LEVELS, SECTIONS, type Setting, SETTINGS, camelCase, envName, flagName, settingAt, snakeCase } from "./config-schema.js";
import { parseDuration } from "./parse-duration.js";
import { parseSize } from "./parse-size.js";

/** A value of one setting from one source, already parsed (durations in ms, sizes in bytes). */
export interface ConfigEntry {
  /** The value (a `data` setting's: the list or map as written in the file). */
  value: string | number | boolean | object;
  /** Where it came from, for messages: `hb.yaml: heartbeat_timeout`, `HB_PORT`, `--port`, `default`. */
  origin: string;
}

/** The settings one source gives, by camelCase path. */
export type ConfigLayer = Map<string, ConfigEntry>;

interface From {
  kind: "file" | "env" | "flag";
  // A duration written as a bare number in the seed's snake_case style means seconds.
  seedSeconds: boolean;
  baseDir: string;
}

/**
 * Reads a config file: YAML (`.yaml`, `.yml`), TOML (`.toml`) or JSON
 * (`.json`). Keys are camelCase or snake_case (the seed's `worker_count`,
 * `heartbeat_timeout`, …), sections are nested objects (`admin: { port }`,
 * `[admin]` in TOML). A duration is a string with a unit (`"30s"`,
 * `"500ms"`), or a bare number: milliseconds under a camelCase key,
 * **seconds under a snake_case key** (the seed's unit). Relative paths are
 * relative to the file.
 *
 * @throws ConfigError for an unreadable or malformed file, an unknown key (with a suggestion) or a bad value, naming the key
 */
export function fileLayer(path: string): ConfigLayer {
  const name = path;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${name}: ${(err as Error).message}`);
  }
  let data: unknown;
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".yaml" || ext === ".yml") data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
    else if (ext === ".toml") data = parseToml(text);
    else if (ext === ".json") data = JSON.parse(text);
    else throw new ConfigError(`config file ${name}: unknown format "${ext}" (use .yaml, .yml, .toml or .json)`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`config file ${name} is not valid ${ext.slice(1).toUpperCase()}: ${(err as Error).message.trim()}`);
  }
  if (data === null || data === undefined) return new Map();
  if (!isObject(data)) throw new ConfigError(`config file ${name}: the top level must be a map of settings`);
  const layer: ConfigLayer = new Map();
  const baseDir = dirname(resolve(path));
  const walk = (obj: Record<string, unknown>, camel: string[], written: string[]): void => {
    for (const [key, raw] of Object.entries(obj)) {
      const c = [...camel, camelCase(key)];
      const w = [...written, key];
      const p = c.join(".");
      const origin = `${name}: ${w.join(".")}`;
      if (SECTIONS.includes(p)) {
        if (!isObject(raw)) throw new ConfigError(`${origin}: must be a map of settings (${settingsUnder(p)})`);
        walk(raw, c, w);
        continue;
      }
      const s = settingAt(p);
      if (s === undefined) throw new ConfigError(`${origin}: unknown setting${suggest(w.join("."))}`);
      const seedSeconds = s.type === "duration" && key.includes("_");
      layer.set(p, { value: parseValue(s, raw, { kind: "file", seedSeconds, baseDir }, origin), origin });
    }
  };
  walk(data, [], []);
  return layer;
}

/**
 * The settings given as `HB_*` environment variables (durations need a
 * unit: `HB_HEARTBEAT_TIMEOUT=30s`). Other variables are ignored.
 *
 * @throws ConfigError for a bad value, naming the variable
 */
export function envLayer(env: NodeJS.ProcessEnv, cwd: string): ConfigLayer {
  const layer: ConfigLayer = new Map();
  for (const s of SETTINGS) {
    const name = envName(s);
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    layer.set(s.path, { value: parseValue(s, raw, { kind: "env", seedSeconds: false, baseDir: cwd }, name), origin: name });
  }
  return layer;
}

/**
 * The settings given as flags, from commander's parsed options (keyed by
 * the camelCase of the flag: `rateLimitBurst`); booleans are `true` /
 * `false` (`--demo`, `--no-demo`).
 *
 * @throws ConfigError for a bad value, naming the flag
 */
export function flagLayer(flags: Readonly<Record<string, unknown>>, cwd: string): ConfigLayer {
  const layer: ConfigLayer = new Map();
  for (const s of SETTINGS) {
    const raw = flags[camelCase(flagName(s))];
    if (raw === undefined) continue;
    const origin = `--${flagName(s)}`;
    layer.set(s.path, { value: parseValue(s, raw, { kind: "flag", seedSeconds: false, baseDir: cwd }, origin), origin });
  }
  return layer;
}

/** hb-server's own defaults (where they differ from the library's). */
export function defaultLayer(): ConfigLayer {
  const layer: ConfigLayer = new Map();
  for (const s of SETTINGS) if (s.default !== undefined) layer.set(s.path, { value: s.default, origin: "default" });
  return layer;
}

function parseValue(s: Setting, raw: unknown, from: From, origin: string): string | number | boolean | object {
  const fail = (what: string): never => {
    throw new ConfigError(`${origin}: ${what}, got ${JSON.stringify(raw)}`);
  };
  switch (s.type) {
    case "int":
      if (typeof raw === "number" && Number.isInteger(raw)) return raw;
      if (typeof raw === "string" && /^-?\d+$/.test(raw.trim())) return Number(raw);
      return fail("must be an integer");
    case "duration": {
      if (typeof raw === "number" && from.kind === "file") {
        const ms = from.seedSeconds ? raw * 1_000 : raw;
        if (!Number.isInteger(ms)) return fail(`must be a whole number of milliseconds${from.seedSeconds ? " (a bare number here means seconds, as in the seed)" : ""}`);
        return ms;
      }
      if (typeof raw === "string") {
        const ms = parseDuration(raw);
        if (ms !== undefined) return ms;
        if (/^\d+(\.\d+)?$/.test(raw.trim())) return fail('a duration needs a unit (ms, s, m, h), e.g. "30s" or "500ms"');
      }
      return fail('must be a duration such as "30s", "500ms" or "5m"');
    }
    case "size": {
      if (typeof raw === "number" && Number.isInteger(raw)) return raw;
      const n = typeof raw === "string" ? parseSize(raw) : undefined;
      return n ?? fail('must be a size in bytes, or with a unit such as "64KiB" or "1MiB"');
    }
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "string") {
        const t = raw.trim().toLowerCase();
        if (["true", "1", "yes", "on"].includes(t)) return true;
        if (["false", "0", "no", "off"].includes(t)) return false;
      }
      return fail("must be true or false");
    case "level":
      return typeof raw === "string" && LOG_LEVELS.includes(raw) ? raw : fail(`must be one of ${LOG_LEVELS.join(", ")}`);
    case "format":
      return typeof raw === "string" && LOG_FORMATS.includes(raw) ? raw : fail(`must be one of ${LOG_FORMATS.join(", ")}`);
    case "path":
      return typeof raw === "string" && raw.length > 0 ? resolve(from.baseDir, raw) : fail("must be a file path");
    case "string":
      return typeof raw === "string" && raw.length > 0 ? raw : fail("must be a non-empty string");
    case "data": {
      // A list or map: as written in the file, or JSON in a variable or flag.
      if (typeof raw === "object" && raw !== null) return raw;
      if (typeof raw === "string") {
        try {
          const v: unknown = JSON.parse(raw);
          if (typeof v === "object" && v !== null) return v;
        } catch {
          // reported below
        }
      }
      return fail("must be a list or map (JSON outside the config file)");
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function settingsUnder(section: string): string {
  return SETTINGS.filter((s) => s.path.startsWith(`${section}.`))
    .map((s) => s.path.slice(section.length + 1))
    .join(", ");
}

// " (did you mean heartbeat_timeout?)" for a near miss, else the list of sections.
function suggest(written: string): string {
  const candidates = SETTINGS.flatMap((s) => [s.path, s.path.split(".").map(snakeCase).join(".")]);
  let best: string | undefined;
  let bestDistance = 4;
  for (const c of candidates) {
    const d = distance(written.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === undefined ? " (see hb-server --help for the settings)" : ` (did you mean ${best}?)`;
}

// Levenshtein distance, for the suggestion only.
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
