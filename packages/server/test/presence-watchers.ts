import { type FrameBodyInit, PresenceKind, type Welcome } from "@hb/codec";
import { RawPeer, waitFor } from "./raw-peer.js";

/** A welcomed raw connection. */
export interface Opened {
  /** The connection. */
  peer: RawPeer;
  /** Its Welcome (`serverId` names the worker process it landed on). */
  welcome: Welcome;
}

let counter = 0;

/** A node id unique to this test process. */
export function uid(tag: string): string {
  return `${tag}-${process.pid}-${++counter}`;
}

/** Connects to `port` and sends Hello (a fresh node id unless given); resolves once welcomed. */
export async function open(port: number, hello: FrameBodyInit<"hello"> = {}): Promise<Opened> {
  const peer = await RawPeer.connect(port);
  const welcome = await peer.hello({ nodeId: uid("n"), ...hello });
  // Heartbeats on the negotiated interval until the connection closes.
  const timer = setInterval(() => peer.heartbeat(), Math.max(20, Math.floor(welcome.heartbeatIntervalMs / 2)));
  timer.unref();
  void peer.closed.then(() => clearInterval(timer));
  return { peer, welcome };
}

/**
 * A `$hb.presence` subscriber that records every event as `KIND reason`
 * (and `KIND reason labels` with `withLabels`) per node id.
 */
export class Watcher {
  readonly events = new Map<string, string[]>();
  constructor(
    readonly opened: Opened,
    readonly withLabels = false,
  ) {
    opened.peer.onFrame = (frame) => {
      if (frame.body.case !== "presence") return;
      const e = frame.body.value;
      let line = `${PresenceKind[e.kind]} ${e.reason}`;
      if (this.withLabels) line += ` ${JSON.stringify(Object.fromEntries(Object.entries(e.labels).sort()))}`;
      const list = this.events.get(e.nodeId) ?? [];
      list.push(line);
      this.events.set(e.nodeId, list);
    };
  }

  /** The worker (Welcome.server_id) the watcher landed on. */
  get serverId(): string {
    return this.opened.welcome.serverId;
  }

  /** What it saw of `nodeId`, in order. */
  story(nodeId: string): string[] {
    return this.events.get(nodeId) ?? [];
  }
}

/**
 * Opens a watcher (a node subscribed to `$hb.presence`, with `labelFilter` if
 * given) and waits for Subscribed. Undamped (PROTOCOL.md §7.6): the tests
 * check every transition of ids that change many times in a few seconds.
 */
export async function watch(port: number, labelFilter: Record<string, string> = {}, withLabels = false): Promise<Watcher> {
  const opened = await open(port, { nodeId: uid("watcher") });
  const w = new Watcher(opened, withLabels);
  opened.peer.send("subscribe", { subject: "$hb.presence", requestId: 1, labelFilter, undamped: true });
  await opened.peer.next("subscribed");
  return w;
}

/**
 * Watchers until there is one on each of `workers` processes (told apart by
 * Welcome.server_id), at most `maxTries` connections; every watcher opened
 * is returned (several may share a worker).
 */
export async function watchEveryWorker(
  port: number,
  workers: number,
  labelFilter: Record<string, string> = {},
  maxTries = 20,
): Promise<Watcher[]> {
  const all: Watcher[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < maxTries && seen.size < workers; i++) {
    const w = await watch(port, labelFilter);
    all.push(w);
    seen.add(w.serverId);
  }
  if (seen.size < workers) throw new Error(`watchers landed on ${seen.size} of ${workers} workers in ${maxTries} tries`);
  return all;
}

/** Waits until every watcher has seen at least `expected.length` events of `nodeId`, then returns their stories. */
export async function stories(watchers: readonly Watcher[], nodeId: string, expected: readonly string[]): Promise<string[][]> {
  try {
    await waitFor(() => watchers.every((w) => w.story(nodeId).length >= expected.length), 10_000, "");
  } catch {
    const seen = watchers.map((w) => `${w.serverId}: ${w.story(nodeId).join(", ")}`).join("; ");
    throw new Error(`timed out waiting for every watcher to see ${expected.join(", ")} of ${nodeId}; seen: ${seen}`);
  }
  return watchers.map((w) => w.story(nodeId));
}
