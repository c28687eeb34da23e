#!/usr/bin/env node
// hb-server: runs an hb server configured by a file, HB_* variables and flags.
import { Command, Option } from "commander";
import { ConfigError } from "../config/config-error.js";
import { SETTINGS, envName, flagName } from "../config/config-schema.js";
import { printConfig } from "../config/print-config.js";
import { type ConfigSources, resolveConfig } from "../config/resolve-config.js";
import { hashTokenCommand } from "../server/hash-token-command.js";
import { runServer } from "../server/run-server.js";
import { cliVersion } from "../version.js";

const version = cliVersion();
const PLACEHOLDER: Record<string, string> = { int: "n", duration: "duration", size: "bytes", string: "text", level: "level", format: "format", path: "file", data: "json" };

const program = new Command("hb-server")
  .description("Run an hb server: nodes on one TCP port, metrics, health, an API and a live dashboard on the admin port.")
  .version(`hb-server ${version} (node ${process.version})`, "-V, --version", "print the version")
  .helpOption("-h, --help", "show this help")
  .argument("[command]", "start (default), check-config, print-config or hash-token", "start")
  .option("-c, --config <file>", "config file: YAML, TOML or JSON (also HB_CONFIG)")
  .option("--json", "print-config: JSON instead of YAML")
  .option("--generate", "hash-token: make a random token and print it with its hash")
  .option("--scrypt", "hash-token: scrypt instead of sha256 (for tokens people choose)")
  .showHelpAfterError("(hb-server --help lists every option)");
for (const s of SETTINGS) {
  const flag = flagName(s);
  const doc = `${s.doc} [${envName(s)}${s.default === undefined ? "" : `, default ${s.default}`}${s.live ? ", live on SIGHUP" : ""}]`;
  if (s.type === "bool") {
    program.addOption(new Option(`--${flag}`, doc));
    program.addOption(new Option(`--no-${flag}`).hideHelp());
  } else {
    program.addOption(new Option(`--${flag} <${PLACEHOLDER[s.type]}>`, doc));
  }
}
program.addHelpText(
  "after",
  `
Settings come from, highest first: flags, HB_* environment variables, the
config file, defaults. In the file, keys are camelCase or snake_case (the
seed's worker_count, heartbeat_timeout, heartbeat_check_interval,
channel_max_queue_size, max_connections, heartbeat_interval) and sections
nest (admin:, log:, redis:, rateLimit:, tls:).

Durations take a unit: 500ms, 30s, 5m, 1h. In the config file a bare number
is milliseconds under a camelCase key and seconds under a snake_case key, as
in the seed (heartbeat_timeout: 30 is 30 s). Sizes: bytes, or 64KiB, 1MiB.

Signals: SIGTERM / SIGINT drain (GoAway, closeTimeout) and exit; SIGHUP
re-reads the config and applies log.level, maxConnections,
maxConnectionsPerIp, rateLimit.*, auth.* and permissions live, and re-reads
the TLS certificate, key and CA files (the rest needs a restart).

Authentication: auth.mode none (the default; a warning unless host is a
loopback address), tokens (auth.tokens, hashed: hb-server hash-token) or
jwt (auth.jwt.*); permissions: rules in the config file.

Examples:
  hb-server                                   # 0.0.0.0:9501, admin and dashboard on 127.0.0.1:9502
  hb-server -c /etc/hb/hb-server.yaml
  HB_HEARTBEAT_TIMEOUT=30s hb-server --port 9600 --log-level debug
  hb-server check-config -c hb.yaml           # exit 2 and the offending key if invalid
  hb-server print-config -c hb.yaml           # the effective config, secrets redacted
  hb-server hash-token --generate             # a random node token and the hash for auth.tokens
  echo -n "$TOKEN" | hb-server hash-token     # the hash of a token you have`,
);
program.action(async (command: string, opts: Record<string, unknown>) => {
  const sources: ConfigSources = {
    file: (opts.config as string | undefined) ?? (process.env.HB_CONFIG || undefined),
    env: process.env,
    flags: opts,
    cwd: process.cwd(),
  };
  if (!["start", "check-config", "print-config", "hash-token"].includes(command)) {
    program.error(`hb-server: unknown command "${command}" (start, check-config, print-config or hash-token)`, { exitCode: 2 });
  }
  if (command === "hash-token") {
    try {
      process.stdout.write(await hashTokenCommand({ generate: opts.generate === true, scrypt: opts.scrypt === true }, process.stdin));
    } catch (err) {
      process.stderr.write(`hb-server hash-token: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
    return;
  }
  let config: ReturnType<typeof resolveConfig>;
  try {
    config = resolveConfig(sources);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`hb-server: configuration error: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (command === "check-config") {
    process.stdout.write(`configuration OK${sources.file === undefined ? " (no config file)" : `: ${sources.file}`}\n`);
    return;
  }
  if (command === "print-config") {
    process.stdout.write(printConfig(config, opts.json === true ? "json" : "yaml"));
    return;
  }
  await runServer(config, sources, version);
});
await program.parseAsync();
