import type { HeartbeatServer, LiveServerOptions } from "@hb/server";
import type { Logger as Pino } from "pino";
import { settingAt } from "../config/config-schema.js";
import { formatDuration } from "../config/parse-duration.js";
import type { CliConfig } from "../config/resolve-config.js";

/** What a reload did: the settings applied live, and those that need a restart. */
export interface ReloadResult {
  /** Applied: `path: old → new` (secrets redacted). */
  applied: Record<string, string>;
  /** Changed in the sources but only taken at start. */
  needsRestart: string[];
}

/**
 * Applies the settings of `next` that differ from `running` and can change
 * live (`log.level`, `maxConnections`,  `maxConnectionsPerIp`,
 * `rateLimit.*`, `auth.*`, `permissions`: see `live` in the settings
 * table) to the logger and the server (every worker too), and lists the
 * other differences, which need a restart. `auth` is applied too when only
 * the key files it reads changed. TLS files are re-read by the caller
 * (`HeartbeatServer.reloadTls`) on every reload. Returns what it did; the
 * caller logs it and keeps `next`'s live values as the running ones.
 */
export function reloadConfig(running: CliConfig, next: CliConfig, server: HeartbeatServer, logger: Pino): ReloadResult {
  const paths = new Set([...running.entries.keys(), ...next.entries.keys()]);
  const applied: Record<string, string> = {};
  const needsRestart: string[] = [];
  const changes: LiveServerOptions = {};
  let levelChanged = false;
  for (const path of [...paths].sort()) {
    const before = running.entries.get(path)?.value;
    const after = next.entries.get(path)?.value;
    if (before === after || (typeof before === "object" && JSON.stringify(before) === JSON.stringify(after))) continue;
    const setting = settingAt(path);
    const removable = path.startsWith("auth.") || path === "permissions";
    if (setting?.live !== true || (after === undefined && !removable)) {
      needsRestart.push(path);
      continue;
    }
    applied[path] = `${show(path, before)} → ${show(path, after)}`;
    if (path.startsWith("tls.")) continue; // re-read by the caller
    if (path.startsWith("auth.")) changes.auth = next.server.auth ?? { mode: "none" };
    else if (path === "permissions") changes.permissions = next.server.permissions ?? [];
    else if (path === "log.level") levelChanged = true;
    else if (path === "rateLimit.framesPerSecond" || path === "rateLimit.burst") {
      changes.rateLimit = { ...changes.rateLimit, [path.slice("rateLimit.".length)]: after as number };
    } else (changes as Record<string, number>)[path] = after as number;
  }
  // Key files (auth.jwt.publicKeyFile, jwksFile) may have changed in place.
  if (changes.auth === undefined && JSON.stringify(next.server.auth) !== JSON.stringify(running.server.auth)) {
    changes.auth = next.server.auth ?? { mode: "none" };
    applied.auth = "key files re-read";
  }
  if (levelChanged) logger.level = next.log.level;
  // The workers take the logger's level with any reconfigure, so call it for a level change alone too.
  if (Object.keys(changes).length > 0 || levelChanged) server.reconfigure(changes);
  return { applied, needsRestart };
}

function show(path: string, value: unknown): string {
  const s = settingAt(path);
  if (value === undefined) return "(default)";
  if (s?.secret) return "<redacted>";
  if (s?.type === "duration" && typeof value === "number") return formatDuration(value);
  if (s?.type === "data") return `${Array.isArray(value) ? `${value.length} entries` : "a map"}`;
  return String(value);
}
