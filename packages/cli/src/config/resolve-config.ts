import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { HeartbeatServerOptions, ResolvedServerOptions } from "@hb/server";
import type { AuthOptions, JwtAuthOptions } from "@hb/server/auth";
// The server's own option checks, so a config file fails with the server's messages (internal: @hb/cli pins @hb/server's exact version).
import { resolveServerOptions } from "@hb/server/internal";
import { type AdminOptions, resolveAdminOptions } from "@hb/server/admin";
import { type RedisBusOptions, resolveRedisBusOptions } from "@hb/server/redis";
import { ConfigError } from "./config-error.js";
import { type ConfigEntry, type ConfigLayer, defaultLayer, envLayer, fileLayer, flagLayer } from "./config-layers.js";
import { SETTINGS, type SettingSection } from "./config-schema.js";

/** Where hb-server reads its settings from (each source overrides the one before). */
export interface ConfigSources {
  /** Config file (`--config`, else `HB_CONFIG`); none: defaults, env and flags only. */
  file?: string;
  /** The environment (`HB_*` variables). */
  env: NodeJS.ProcessEnv;
  /** Parsed flags (commander's option values). */
  flags: Readonly<Record<string, unknown>>;
  /** Directory relative paths of env and flags resolve against. */
  cwd: string;
}

/** hb-server's effective configuration, checked. */
export interface CliConfig {
  /** The config file read, if any. */
  file: string | undefined;
  /** Every setting given or defaulted, by camelCase path, with its origin. */
  entries: ReadonlyMap<string, ConfigEntry>;
  /** Options for `new HeartbeatServer()` (TLS files read; no logger, no bus yet). */
  server: HeartbeatServerOptions;
  /** The same with the library's defaults applied (what runs). */
  resolved: ResolvedServerOptions;
  /** The admin endpoint, when enabled. */
  admin: AdminOptions | undefined;
  /** Logging. */
  log: { level: string; format: "auto" | "json" | "pretty" };
  /** The Redis bus, when `redis.url` is set. */
  redis: RedisBusOptions | undefined;
  /** Run the demo fleet. */
  demo: boolean;
}

/**
 * Reads the sources (precedence: flags > env > file > defaults) and checks
 * the result: server settings with @hb/server's `resolveServerOptions`,
 * admin and Redis ones with theirs. Every message names the key, variable
 * or flag the offending value came from.
 *
 * @throws ConfigError
 */
export function resolveConfig(sources: ConfigSources): CliConfig {
  const layers: ConfigLayer[] = [defaultLayer()];
  if (sources.file !== undefined) layers.push(fileLayer(sources.file));
  layers.push(envLayer(sources.env, sources.cwd), flagLayer(sources.flags, sources.cwd));
  const entries = new Map<string, ConfigEntry>();
  for (const layer of layers) for (const [path, entry] of layer) entries.set(path, entry);
  const get = (path: string): ConfigEntry["value"] | undefined => entries.get(path)?.value;

  const server: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    if (s.section !== "server" || s.path.startsWith("tls.") || s.path.startsWith("auth.")) continue;
    const value = get(s.path);
    if (value === undefined) continue;
    const [head, tail] = s.path.split(".") as [string, string | undefined];
    if (tail === undefined) server[head] = s.type === "path" ? pathToFileURL(value as string).href : value;
    else server[head] = { ...(server[head] as object | undefined), [tail]: value };
  }
  const tls = readTls(entries);
  if (tls !== undefined) server.tls = tls;
  const auth = readAuth(entries);
  if (auth !== undefined) server.auth = auth;
  const resolved = check("server", entries, () => resolveServerOptions(server as HeartbeatServerOptions));

  let admin: AdminOptions | undefined;
  if (get("admin.enabled") !== false) {
    admin = { host: get("admin.host") as string, port: get("admin.port") as number, dashboard: get("admin.dashboard") as boolean };
    const token = get("admin.token");
    if (token !== undefined) admin.token = token as string;
    check("admin", entries, () => resolveAdminOptions(admin));
  }

  let redis: RedisBusOptions | undefined;
  const url = get("redis.url");
  if (url !== undefined) {
    redis = { redis: url as string };
    for (const key of ["prefix", "leaseTtl", "leaseRefresh"] as const) {
      const v = get(`redis.${key}`);
      if (v !== undefined) (redis as Record<string, unknown>)[key] = v;
    }
    check("redis", entries, () => resolveRedisBusOptions(redis));
  } else {
    for (const key of ["redis.prefix", "redis.leaseTtl", "redis.leaseRefresh"]) {
      const e = entries.get(key);
      if (e !== undefined) throw new ConfigError(`${e.origin}: has no effect without redis.url`);
    }
  }

  return {
    file: sources.file,
    entries,
    server: server as HeartbeatServerOptions,
    resolved,
    admin,
    log: { level: get("log.level") as string, format: get("log.format") as CliConfig["log"]["format"] },
    redis,
    demo: get("demo") === true,
  };
}

// Runs a validator; its error message starts with the option's name, which maps back to where the value came from.
function check<T>(section: SettingSection, entries: ReadonlyMap<string, ConfigEntry>, validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    const message = err.message;
    const named = SETTINGS.filter((s) => s.section === section)
      .map((s) => ({ s, name: validatorName(section, s.path) }))
      .filter(({ name }) => message.startsWith(`${name} `) || message.startsWith(`${name}.`))
      .sort((a, b) => b.name.length - a.name.length)[0];
    const origin = named === undefined ? undefined : entries.get(named.s.path)?.origin;
    const unit = named?.s.type === "duration" ? " (milliseconds)" : "";
    throw new ConfigError(origin === undefined ? message : `${origin}: ${message}${unit}`);
  }
}

// How each validator names a setting in its messages.
function validatorName(section: SettingSection, path: string): string {
  if (section === "admin") return `admin ${path.slice("admin.".length)}`;
  if (section === "redis") return path === "redis.url" ? "redis" : path.slice("redis.".length);
  return path;
}

function readTls(entries: ReadonlyMap<string, ConfigEntry>): HeartbeatServerOptions["tls"] {
  const file = (key: string): Buffer | undefined => {
    const e = entries.get(`tls.${key}`);
    if (e === undefined) return undefined;
    try {
      return readFileSync(e.value as string);
    } catch (err) {
      throw new ConfigError(`${e.origin}: cannot read ${e.value}: ${(err as Error).message}`);
    }
  };
  const cert = file("cert");
  const key = file("key");
  const ca = file("ca");
  const passphrase = entries.get("tls.passphrase")?.value as string | undefined;
  const requestCert = entries.get("tls.requestCert")?.value as boolean | undefined;
  const rejectUnauthorized = entries.get("tls.rejectUnauthorized")?.value as boolean | undefined;
  if (requestCert === true && ca === undefined) throw new ConfigError(`${entries.get("tls.requestCert")?.origin}: client certificates need tls.ca (the CA that signs them)`);
  if (cert === undefined && key === undefined && ca === undefined) {
    if (passphrase !== undefined) throw new ConfigError(`${entries.get("tls.passphrase")?.origin}: has no effect without tls.cert and tls.key`);
    return undefined;
  }
  if (cert === undefined || key === undefined) {
    const given = entries.get(cert === undefined ? "tls.key" : "tls.cert")?.origin ?? "tls";
    throw new ConfigError(`${given}: TLS needs both tls.cert and tls.key`);
  }
  return {
    cert,
    key,
    ...(ca === undefined ? {} : { ca }),
    ...(passphrase === undefined ? {} : { passphrase }),
    ...(requestCert === undefined ? {} : { requestCert }),
    ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
  };
}

// The auth.* settings as the server's `auth` option (key files read now, and again on every SIGHUP).
function readAuth(entries: ReadonlyMap<string, ConfigEntry>): AuthOptions | undefined {
  const get = (key: string): ConfigEntry["value"] | undefined => entries.get(`auth.${key}`)?.value;
  if (![...entries.keys()].some((k) => k.startsWith("auth."))) return undefined;
  const read = (key: string): string | undefined => {
    const e = entries.get(`auth.${key}`);
    if (e === undefined) return undefined;
    try {
      return readFileSync(e.value as string, "utf8");
    } catch (err) {
      throw new ConfigError(`${e.origin}: cannot read ${String(e.value)}: ${(err as Error).message}`);
    }
  };
  const auth: Record<string, unknown> = {};
  for (const key of ["mode", "tokens", "tokenGrace", "certificateNodeId"]) {
    const v = get(key);
    if (v !== undefined) auth[key] = v;
  }
  if ([...entries.keys()].some((k) => k.startsWith("auth.jwt."))) {
    const jwt: JwtAuthOptions = {};
    const secret = get("jwt.secret") as string | undefined;
    const publicKey = read("jwt.publicKeyFile");
    const alg = (get("jwt.algorithm") as string | undefined) ?? (secret !== undefined ? "HS256" : undefined);
    if ((secret !== undefined || publicKey !== undefined) && alg === undefined) {
      throw new ConfigError(`${entries.get("auth.jwt.publicKeyFile")?.origin}: needs auth.jwt.algorithm (RS256, PS256, ES256 or EdDSA)`);
    }
    const keys = [
      ...(secret === undefined ? [] : [{ alg: alg as string, secret }]),
      ...(publicKey === undefined ? [] : [{ alg: alg as string, publicKey }]),
    ];
    if (keys.length > 0) jwt.keys = keys;
    const jwks = read("jwt.jwksFile");
    if (jwks !== undefined) {
      try {
        jwt.jwks = JSON.parse(jwks) as { keys: object[] };
      } catch (err) {
        throw new ConfigError(`${entries.get("auth.jwt.jwksFile")?.origin}: not JSON: ${(err as Error).message}`);
      }
    }
    for (const key of ["audience", "issuer", "nodeIdClaim", "clockTolerance"] as const) {
      const v = get(`jwt.${key}`);
      if (v !== undefined) (jwt as Record<string, unknown>)[key] = v;
    }
    auth.jwt = jwt;
  }
  return auth as AuthOptions;
}
