import type { Logger } from "../core/ports/logger.js";

/** pino's level names and numbers (the worker's records are relayed by number, see worker-log.ts). */
const LEVELS: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** A {@link Logger} whose `level` (a pino level name) may be changed while it runs. */
export interface LeveledLogger extends Logger {
  /** The lowest level written: `trace` … `fatal`, or `silent`. */
  level: string;
}

/**
 * A logger writing each record as one JSON line in pino's shape
 * (`{ level: 30, …base, …fields, msg }`, `Error` values as
 * `{ type, message, stack, code }`) to `write`. Worker processes use it to
 * forward their records to the primary without depending on pino (which the
 * library leaves to the application); the primary logs them with its own
 * logger.
 *
 * @throws RangeError for an unknown level name
 */
export function jsonLineLogger(level: string, base: Readonly<Record<string, unknown>>, write: (line: string) => void): LeveledLogger {
  let min = levelNumber(level);
  let name = level;
  const emit = (n: number, obj: object, msg?: string): void => {
    if (n < min) return;
    // No time: the primary's logger stamps the record when it logs it.
    const record: Record<string, unknown> = { level: n, ...base };
    for (const [k, v] of Object.entries(obj)) record[k] = v instanceof Error ? serializeError(v) : v;
    if (msg !== undefined) record.msg = msg;
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ level: n, ...base, msg, unserializable: true });
    }
    write(`${line}\n`);
  };
  return {
    get level() {
      return name;
    },
    set level(next: string) {
      min = levelNumber(next);
      name = next;
    },
    debug: (obj, msg) => emit(20, obj, msg),
    info: (obj, msg) => emit(30, obj, msg),
    warn: (obj, msg) => emit(40, obj, msg),
    error: (obj, msg) => emit(50, obj, msg),
  };
}

function levelNumber(level: string): number {
  const n = LEVELS[level];
  if (n === undefined) throw new RangeError(`unknown log level "${level}" (one of ${Object.keys(LEVELS).join(", ")})`);
  return n;
}

function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  return out;
}
