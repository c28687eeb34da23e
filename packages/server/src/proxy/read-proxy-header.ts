import type { Socket } from "node:net";
import { type ProxyHeader, parseProxyHeader } from "./proxy-header.js";

/** A connection refused because of its PROXY header (malformed, missing, too slow). */
export class ProxyHeaderError extends Error {
  override readonly name = "ProxyHeaderError";
  /** Stable code for logs: `PROXY_PROTOCOL`. */
  readonly code = "PROXY_PROTOCOL";
}

/**
 * Reads the PROXY protocol header off a fresh socket, then puts the bytes
 * after it back (`socket.unshift`) for whoever reads next, and resolves with
 * the header. Rejects with {@link ProxyHeaderError} when the header is
 * malformed, when the socket closes first, or after `timeoutMs`; the caller
 * destroys the socket then. Reads at most the header's size plus one chunk.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (error: Error | undefined, header?: ProxyHeader): void => {
      clearTimeout(timer);
      socket.off("readable", onReadable);
      socket.off("close", onClose);
      socket.off("error", onClose);
      if (error !== undefined) reject(error);
      else resolve(header as ProxyHeader);
    };
    const onReadable = (): void => {
      for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const r = parseProxyHeader(buffered);
        if (r.state === "incomplete") continue;
        if (r.state === "error") return finish(new ProxyHeaderError(r.message));
        if (buffered.length > r.header.length) socket.unshift(buffered.subarray(r.header.length));
        return finish(undefined, r.header);
      }
    };
    const onClose = (): void => finish(new ProxyHeaderError("connection closed before its PROXY header was complete"));
    const timer = setTimeout(() => finish(new ProxyHeaderError(`no complete PROXY header within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    socket.on("readable", onReadable);
    socket.once("close", onClose);
    socket.once("error", onClose);
  });
}
