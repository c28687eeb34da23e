import { PresenceKind } from "@hb/codec";
import type { RawConnection } from "../../raw-connection.js";
import { fail, skip } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";
import type { ServerScenarioContext } from "../../server-scenario-context.js";

const CYCLES = 20;

// Collects "KIND reason" of the presence events about `nodeId` arriving on `conn` until `done` or `timeoutMs`.
async function collect(conn: RawConnection, nodeId: string, into: string[], done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    const event = await conn.next(Math.max(0, deadline - performance.now()));
    if (event === undefined) return;
    if (event.kind === "end") fail(`${conn.label}: the server closed the connection while watching presence`);
    const body = event.frame.body;
    if (body.case === "presence" && body.value.nodeId === nodeId) into.push(`${PresenceKind[body.value.kind]} ${body.value.reason}`);
  }
}

async function watcher(ctx: ServerScenarioContext, label: string, undamped: boolean): Promise<{ conn: RawConnection; serverId: string }> {
  const { conn, welcome } = await ctx.open(label);
  ctx.repeat(ctx.keepAlivePeriod(welcome), () => conn.sendBody("heartbeat", {}));
  conn.sendBody("subscribe", { requestId: 1, subject: "$hb.presence", undamped });
  await conn.expectFrame("subscribed", ctx.replyTimeoutMs, { after: `after Subscribe{$hb.presence, undamped: ${undamped}}`, ignore: ["heartbeatAck", "presence"] });
  return { conn, serverId: welcome.serverId };
}

/**
 * Flap damping (PROTOCOL.md §7.6), whatever the server's settings: a node
 * joins and leaves 20 times as fast as the undamped watcher sees it do so. An `undamped` watcher gets
 * all 40 transitions in order. A damped watcher gets a prefix of them and,
 * if damping started on a departure, `SUSPECT flapping` instead of it, then
 * nothing until damping ends with one `LEFT flap_ended` (waited for up to
 * --max-wait); if damping started on a join, nothing more (its view is right).
 */
export const flapDamping: ServerScenario = {
  name: "flap-damping",
  description:
    "a node joins and leaves 20 × fast: an undamped $hb.presence watcher sees all 40 transitions; a damped one a prefix, then SUSPECT flapping, then one LEFT flap_ended (or, damping starting on a join, nothing more)",
  async run(ctx) {
    const damped = (await watcher(ctx, "damped watcher", false)).conn;
    // Undamped watchers on every process of the server (told apart by Welcome.server_id, as in
    // watchEveryProcess): a transition is made once every process has told the previous one, so a
    // reconnect is causally after the departure everywhere (a process that had not heard of it yet
    // could take the new Hello for a takeover of a node it still believes online).
    const undampeds: { conn: RawConnection; all: string[] }[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < 6 && (i < 1 || ids.size < 2); i++) {
      const w = await watcher(ctx, `undamped watcher ${i + 1}`, true);
      undampeds.push({ conn: w.conn, all: [] });
      ids.add(w.serverId);
    }
    const nodeId = ctx.nodeId("flappy");
    // Each transition is seen by both watchers (the damped one until it is damped) before the next one is made:
    // on a server of several processes the node's connections land on different ones, and a watcher's process
    // could otherwise hear a later transition (local to it) before an earlier one (still on its way).
    const seen: string[] = [];
    let dampedYet = false;
    const told = async (n: number, what: string): Promise<void> => {
      for (const [k, u] of undampeds.entries()) {
        await collect(u.conn, nodeId, u.all, () => u.all.length >= n, ctx.replyTimeoutMs);
        if (u.all.length === 0) skip("not observable: the server sends no presence events on $hb.presence");
        if (u.all.length < n) fail(`undamped watcher ${k + 1}: no ${what} within ${ctx.replyTimeoutMs} ms; got ${u.all.join(", ")}`);
      }
      if (dampedYet) return;
      await collect(damped, nodeId, seen, () => seen.length >= n || seen.includes("SUSPECT flapping"), ctx.replyTimeoutMs);
      dampedYet = seen.length < n || seen.includes("SUSPECT flapping");
    };
    for (let i = 0; i < CYCLES; i++) {
      const { conn } = await ctx.open(`flapping node (cycle ${i + 1})`, { nodeId });
      await told(2 * i + 1, `JOINED of cycle ${i + 1}`);
      conn.sendBody("goodbye", {});
      await conn.expectClose(ctx.replyTimeoutMs, { after: "after Goodbye" });
      await told(2 * i + 2, `LEFT of cycle ${i + 1}`);
    }
    const expected = Array.from({ length: CYCLES }, () => ["JOINED hello", "LEFT goodbye"]).flat();
    for (const [k, u] of undampeds.entries()) {
      if (u.all.join(", ") !== expected.join(", ")) fail(`undamped watcher ${k + 1}: expected ${CYCLES} × JOINED hello, LEFT goodbye; got ${u.all.join(", ")}`);
    }
    const prefix = seen.filter((e) => e !== "SUSPECT flapping");
    if (prefix.join(", ") !== expected.slice(0, prefix.length).join(", ")) fail(`damped watcher: ${seen.join(", ")} is not a prefix of the transitions`);
    if (prefix.length === expected.length) return "no damping (every transition told)";
    const lastTold = prefix.at(-1);
    if (lastTold === "JOINED hello") {
      if (seen.at(-1) !== "SUSPECT flapping") fail(`damped watcher: damping started on a LEFT but no SUSPECT flapping came: ${seen.join(", ")}`);
      await collect(damped, nodeId, seen, () => seen.length > prefix.length + 1, ctx.maxWaitMs);
      if (seen.length === prefix.length + 1) skip(`damping did not end within --max-wait ${ctx.maxWaitMs} ms (the server's maximum damping time is longer)`);
      if (seen.at(-1) !== "LEFT flap_ended") fail(`damped watcher: damping ended with ${seen.at(-1)}, expected LEFT flap_ended`);
      return `damped after ${prefix.length} transitions; ended with LEFT flap_ended`;
    }
    if (seen.includes("SUSPECT flapping")) fail(`damped watcher: SUSPECT flapping while its view had the node offline: ${seen.join(", ")}`);
    return `damped after ${prefix.length} transitions, starting on a join (nothing more to tell)`;
  },
};
