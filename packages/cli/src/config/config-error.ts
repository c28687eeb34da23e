/**
 * A configuration problem, with a message that names where the bad value
 * came from (`hb.yaml: heartbeat_timeout: …`, `HB_PORT: …`, `--port: …`).
 * hb-server prints it and exits with status 2.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}
