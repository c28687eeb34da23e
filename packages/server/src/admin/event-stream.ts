import type { ServerResponse } from "node:http";
import type { NodeFilter } from "../registry/node-info.js";

/** One presence change as `/v1/events` sends it (the `data` of an SSE message, JSON). */
export interface PresenceMessage {
  /** `joined`, `left`, `suspect`, `timeout` or `recovered`. */
  kind: string;
  /** The node. */
  nodeId: string;
  /** Its labels. */
  labels: Readonly<Record<string, string>>;
  /** Why (as in the node events). */
  reason: string;
  /** When, ms since the Unix epoch. */
  time: number;
  /** The server holding the node (a worker's member id within a multi-process server). */
  serverId: string;
}

/** Bytes a slow reader may leave unread before its stream is closed. */
export const MAX_STREAM_BACKLOG = 1024 * 1024;

interface Stream {
  res: ServerResponse;
  filter: NodeFilter;
}

/**
 * The open `/v1/events` streams (Server-Sent Events): each presence change
 * goes to the streams whose label filter it matches. A reader that lets
 * more than {@link MAX_STREAM_BACKLOG} bytes pile up is closed (and counted)
 * rather than buffered without bound; every 15 s a comment line keeps idle
 * streams alive through proxies.
 */
export class EventStreams {
  /** Streams closed for reading too slowly. */
  slowClosed = 0;
  readonly #streams = new Set<Stream>();
  readonly #keepAlive: NodeJS.Timeout;

  constructor() {
    this.#keepAlive = setInterval(() => {
      for (const s of this.#streams) this.#write(s, ": keep-alive\n\n");
    }, 15_000);
    this.#keepAlive.unref();
  }

  /** Open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** Starts streaming to `res` (headers are written here) until the client goes or {@link EventStreams.close}. */
  open(res: ServerResponse, filter: NodeFilter): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    const stream: Stream = { res, filter };
    this.#streams.add(stream);
    res.on("close", () => this.#streams.delete(stream));
    res.write("retry: 2000\n: hb presence stream\n\n");
  }

  /** Sends one presence change to every matching stream. */
  publish(message: PresenceMessage): void {
    if (this.#streams.size === 0) return;
    let frame: string | undefined;
    for (const s of this.#streams) {
      if (!matches(s.filter, message)) continue;
      frame ??= `data: ${JSON.stringify(message)}\n\n`;
      this.#write(s, frame);
    }
  }

  /** Ends every stream and stops the keep-alive timer. */
  close(): void {
    clearInterval(this.#keepAlive);
    for (const s of this.#streams) s.res.end();
    this.#streams.clear();
  }

  #write(s: Stream, text: string): void {
    if (s.res.writableLength > MAX_STREAM_BACKLOG) {
      this.#streams.delete(s);
      this.slowClosed++;
      s.res.destroy();
      return;
    }
    s.res.write(text);
  }
}

function matches(filter: NodeFilter, m: PresenceMessage): boolean {
  const labels = filter.labels;
  if (labels !== undefined) for (const k in labels) if (m.labels[k] !== labels[k]) return false;
  return true;
}
