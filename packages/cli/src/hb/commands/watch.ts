import type { AdminClient } from "../admin-client.js";
import { clock, labels } from "../format.js";

interface PresenceJson {
  kind: string;
  nodeId: string;
  labels: Record<string, string>;
  reason: string;
  time: number;
  serverId: string;
}

/**
 * `hb watch`: presence changes as they happen, from the admin endpoint's
 * event stream (so the watcher is not a node and never shows up in
 * presence). Reconnects after a lost stream; stops after `count` events,
 * or on Ctrl-C.
 */
export async function watchCommand(
  admin: AdminClient,
  opts: { label?: string[]; count?: string; json?: boolean },
  out: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const params: [string, string][] = (opts.label ?? []).map((l) => ["label", l]);
  const max = opts.count === undefined ? Number.POSITIVE_INFINITY : Number(opts.count);
  if (!(max >= 1)) throw new Error(`--count must be a positive integer, got "${opts.count}"`);
  const stop = new AbortController();
  signal.addEventListener("abort", () => stop.abort(), { once: true });
  let seen = 0;
  const onMessage = (data: unknown): void => {
    if (stop.signal.aborted) return;
    const e = data as PresenceJson;
    out(opts.json ? JSON.stringify(e) : `${clock(e.time)}  ${e.kind.padEnd(9)} ${e.nodeId.padEnd(20)} ${e.reason.padEnd(17)} ${labels(e.labels)}`);
    if (++seen >= max) stop.abort();
  };
  let first = true;
  while (!stop.signal.aborted) {
    try {
      await admin.stream("/v1/events", params, onMessage, stop.signal);
    } catch (err) {
      if (first) throw err;
    }
    first = false;
    if (stop.signal.aborted) break;
    process.stderr.write("hb watch: stream ended; reconnecting\n");
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
