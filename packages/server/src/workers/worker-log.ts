import type { Logger } from "../core/ports/logger.js";
import { type LeveledLogger, jsonLineLogger } from "./json-line-logger.js";

/** pino's numeric levels, highest first, mapped to the {@link Logger} method that relays them. */
const RELAY_LEVELS: readonly [number, keyof Logger][] = [
  [50, "error"], // error, fatal
  [40, "warn"],
  [30, "info"],
  [0, "debug"], // debug, trace
];

/**
 * The level a worker logs at so that the primary's `logger` sees what it
 * would have logged itself: a pino logger's own `level`, else `debug` (the
 * primary's logger filters).
 */
export function workerLogLevel(primary: Logger): string {
  const level = (primary as unknown as { level?: unknown }).level;
  return typeof level === "string" ? level : "debug";
}

/**
 * A worker's logger when its `workerModule` gives none: at `level` (a pino
 * level name),
 * each record (tagged with `memberId` and `workerPid`) handed as one JSON
 * line to `send`, which posts it to the primary.
 */
export function forwardingLogger(level: string, memberId: string, send: (line: string) => void): LeveledLogger {
  return jsonLineLogger(level, { memberId, workerPid: process.pid }, send);
}

/**
 * Primary side: logs one record received from a worker with the primary's
 * `logger`, at the record's level (pino numbers mapped to the four
 * {@link Logger} methods). A line that is not a JSON object is logged as a
 * warning with the raw text.
 */
export function relayWorkerLog(logger: Logger, line: string, memberId: string): void {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError("not an object");
    record = parsed as Record<string, unknown>;
  } catch {
    logger.warn({ memberId, line: line.slice(0, 1_000) }, "unreadable log record from a worker");
    return;
  }
  const { level, msg, ...fields } = record;
  const n = typeof level === "number" ? level : 30;
  const method = RELAY_LEVELS.find(([min]) => n >= min)?.[1] ?? "info";
  logger[method](fields, typeof msg === "string" ? msg : undefined);
}
