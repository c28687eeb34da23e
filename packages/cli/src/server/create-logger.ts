import { type Logger as Pino, pino } from "pino";
import pretty from "pino-pretty";

/**
 * hb-server's logger: pino, JSON lines on stdout (one object per line, for
 * log shippers), or human-readable lines through pino-pretty when `format`
 * is `pretty`, or `auto` and stdout is a terminal.
 */
export function createLogger(level: string, format: "auto" | "json" | "pretty", stream: NodeJS.WritableStream = process.stdout): Pino {
  const usePretty = format === "pretty" || (format === "auto" && (stream as { isTTY?: boolean }).isTTY === true);
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (!usePretty) return pino(options, stream as never);
  return pino(options, pretty({ destination: stream, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", singleLine: true, sync: true }));
}
