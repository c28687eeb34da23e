import type { Logger } from "../core/ports/logger.js";

const ignore = (): void => {};

/**
 * The logger a server uses when none is given: it drops every record. Its
 * `level` is `"silent"`, so worker processes forward nothing to it either.
 * Pass a pino logger (or any {@link Logger}) to see what the server does.
 */
export const SILENT_LOGGER: Logger = Object.freeze({
  level: "silent",
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
