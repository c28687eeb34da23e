import { PresenceKind, type Welcome } from "@hb/codec";
import type { RawConnection } from "./raw-connection.js";
import { fail } from "./scenario-outcome.js";
import type { HelloInit, OpenConnection, ServerScenarioContext } from "./server-scenario-context.js";

/**
 * A connection subscribed to `$hb.presence` that records, per node id, every
 * event it receives as `KIND reason` (e.g. `LEFT replaced`), and keeps
 * itself alive with heartbeats. Its frames are consumed in the background.
 */
export class PresenceWatch {
  /** The connection and its Welcome. */
  readonly open: OpenConnection;
  readonly #events = new Map<string, string[]>();

  constructor(open: OpenConnection) {
    this.open = open;
    open.conn.onFrame = (frame) => {
      if (frame.body.case === "presence") {
        const e = frame.body.value;
        const list = this.#events.get(e.nodeId) ?? [];
        list.push(`${PresenceKind[e.kind]} ${e.reason}`);
        this.#events.set(e.nodeId, list);
        return true;
      }
      return frame.body.case === "heartbeatAck";
    };
  }

  /** `Welcome.server_id` of the watcher: the server process it landed on, for a server of several. */
  get serverId(): string {
    return this.open.welcome.serverId;
  }

  /** What it received about `nodeId`, in order. */
  story(nodeId: string): readonly string[] {
    return this.#events.get(nodeId) ?? [];
  }
}

/**
 * Keeps a connection alive (a Heartbeat every half interval, acks consumed
 * unless another hook consumes frames) until the scenario ends.
 */
export function keepAlive(ctx: ServerScenarioContext, conn: RawConnection, welcome: Welcome): void {
  let seq = 0n;
  ctx.repeat(ctx.keepAlivePeriod(welcome), () => conn.sendBody("heartbeat", { seq: ++seq, sendTimeUs: 1n }));
  conn.onFrame ??= (frame) => frame.body.case === "heartbeatAck";
}

/** Opens a connection, keeps it alive, and returns it. */
export async function openAlive(ctx: ServerScenarioContext, label: string, hello: HelloInit = {}): Promise<OpenConnection> {
  const o = await ctx.open(label, hello);
  keepAlive(ctx, o.conn, o.welcome);
  return o;
}

/**
 * Opens a watcher: a node subscribed to `$hb.presence` (with `labelFilter`),
 * kept alive. The subscription is `undamped` (PROTOCOL.md §7.6): the
 * scenarios check every transition of ids that change many times in a few
 * seconds, which flap damping may rightly summarise for other watchers.
 */
export async function openWatch(
  ctx: ServerScenarioContext,
  label: string,
  labelFilter: Record<string, string> = {},
): Promise<PresenceWatch> {
  const o = await ctx.open(label, { nodeId: ctx.nodeId("watch") });
  o.conn.sendBody("subscribe", { subject: "$hb.presence", requestId: 1, labelFilter, undamped: true });
  await o.conn.expectFrame("subscribed", ctx.replyTimeoutMs, { after: "after Subscribe{$hb.presence, undamped}" });
  const watch = new PresenceWatch(o);
  keepAlive(ctx, o.conn, o.welcome);
  return watch;
}

/**
 * Watchers placed on every process of the server: a server of several
 * processes behind one address tells them apart only by `Welcome.server_id`
 * (PROTOCOL.md §4.4, informative), so watchers are opened until two distinct
 * ids appeared or `tries` connections were made (a one-process server gives
 * one id). Every watcher opened is returned.
 */
export async function watchEveryProcess(
  ctx: ServerScenarioContext,
  labelFilter: Record<string, string> = {},
  tries = 6,
): Promise<PresenceWatch[]> {
  const all: PresenceWatch[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < tries && (i < 2 || ids.size < 2); i++) {
    const w = await openWatch(ctx, `watcher ${i + 1}`, labelFilter);
    all.push(w);
    ids.add(w.serverId);
  }
  return all;
}

/** Number of distinct `server_id`s among `watches`. */
export function processes(watches: readonly PresenceWatch[]): number {
  return new Set(watches.map((w) => w.serverId)).size;
}

/**
 * Waits until every watcher has received at least `expected.length` events
 * about `nodeId`, then fails unless each received exactly `expected`.
 */
export async function expectStories(
  ctx: ServerScenarioContext,
  watches: readonly PresenceWatch[],
  nodeId: string,
  expected: readonly string[],
  what: string,
): Promise<void> {
  const deadline = Date.now() + ctx.replyTimeoutMs * 2;
  while (Date.now() < deadline && !watches.every((w) => w.story(nodeId).length >= expected.length)) await ctx.sleep(10);
  for (const w of watches) {
    const got = w.story(nodeId);
    if (got.length !== expected.length || got.some((e, i) => e !== expected[i])) {
      fail(
        `${what}: the watcher on server_id ${JSON.stringify(w.serverId)} received [${got.join(", ")}] about ${nodeId}, expected [${expected.join(", ")}]`,
      );
    }
  }
}
