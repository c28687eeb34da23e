/**
 * The logging interface the server needs: the four levels of a pino logger,
 * each called as `logger.warn({ code, conn }, "message")`. A pino logger
 * fits as is; so does any object with these methods.
 */
export interface Logger {
  /** Detail useful when debugging one connection. */
  debug(obj: object, msg?: string): void;
  /** Normal lifecycle events. */
  info(obj: object, msg?: string): void;
  /** A peer misbehaved (the object carries the error `code`). */
  warn(obj: object, msg?: string): void;
  /** The server itself failed (a bug or a throwing hook). */
  error(obj: object, msg?: string): void;
}
