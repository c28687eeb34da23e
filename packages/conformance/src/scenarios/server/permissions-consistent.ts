import { Access, ErrorCode, type Frame, type FrameBodyCase, PRESENCE_SUBJECT, type Permissions } from "@hb/codec";
import type { RawConnection } from "../../raw-connection.js";
import { fail, skip } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

// One frame of a kind, the answers that mean "accepted", and how a refusal names it.
interface Probe {
  kind: keyof Pick<Permissions, "publish" | "subscribe" | "send" | "broadcast" | "attach" | "presence">;
  send: (conn: RawConnection, self: string, tag: string) => void;
  // The frame answering an accepted probe, if any (else: no error within the wait).
  accepted?: FrameBodyCase;
}

const PROBES: Probe[] = [
  { kind: "publish", send: (c) => c.sendBody("publish", { subject: "conformance.permissions", payload: new Uint8Array([1]), requestId: 901n }) },
  { kind: "subscribe", send: (c) => c.sendBody("subscribe", { subject: "conformance.permissions", requestId: 902 }), accepted: "subscribed" },
  { kind: "send", send: (c, self) => c.sendBody("send", { nodeId: self, payload: new Uint8Array([1]), requestId: 903n }) },
  { kind: "broadcast", send: (c) => c.sendBody("broadcast", { payload: new Uint8Array([1]) }) },
  { kind: "attach", send: (c, _self, tag) => c.sendBody("attach", { handle: 904, nodeId: tag }), accepted: "attached" },
  { kind: "presence", send: (c) => c.sendBody("subscribe", { subject: PRESENCE_SUBJECT, requestId: 905 }), accepted: "subscribed" },
];

/**
 * What Welcome.permissions says ALLOWED is never refused with FORBIDDEN;
 * what it says DENIED always is (PROTOCOL.md §5.9). One probe per kind,
 * each on a connection of its own.
 */
export const permissionsConsistent: ServerScenario = {
  name: "permissions-consistent",
  description:
    "for each kind Welcome.permissions says ALLOWED or DENIED (publish, subscribe, send, broadcast, attach, presence), one frame of it → accepted (no FORBIDDEN) or refused with a non-fatal FORBIDDEN; SKIP when Welcome says nothing definite",
  async run(ctx) {
    const checked: string[] = [];
    for (const probe of PROBES) {
      const self = ctx.nodeId("perm");
      const { conn, welcome } = await ctx.open(`${probe.kind} probe`, { nodeId: self });
      const access = welcome.permissions?.[probe.kind] ?? Access.UNSPECIFIED;
      if (access !== Access.ALLOWED && access !== Access.DENIED) continue;
      probe.send(conn, self, ctx.nodeId("attached"));
      conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 1n });
      // A refusal comes before the ack (frames are read in order, a refusal is immediate).
      const seen: Frame[] = [];
      for (;;) {
        const event = await conn.next(ctx.replyTimeoutMs);
        if (event === undefined || event.kind === "end") fail(`${probe.kind}: no HeartbeatAck after the probe (${event === undefined ? "nothing arrived" : "the connection closed"})`);
        if (event.frame.body.case === "heartbeatAck") break;
        seen.push(event.frame);
      }
      // An accepted probe's answer may come after the ack: a server may hold an Attached until the node is
      // known server-wide (§5.3), so it is awaited on its own.
      if (access === Access.ALLOWED && probe.accepted !== undefined) {
        while (!seen.some((f) => f.body.case === probe.accepted || (f.body.case === "error" && f.body.value.code === ErrorCode.FORBIDDEN))) {
          const event = await conn.next(ctx.replyTimeoutMs);
          if (event === undefined || event.kind === "end") break;
          seen.push(event.frame);
        }
      }
      const forbidden = seen.find((f) => f.body.case === "error" && f.body.value.code === ErrorCode.FORBIDDEN);
      if (access === Access.ALLOWED && forbidden !== undefined) fail(`${probe.kind} is ALLOWED in Welcome.permissions, but the probe was refused with FORBIDDEN`);
      if (access === Access.DENIED && forbidden === undefined) fail(`${probe.kind} is DENIED in Welcome.permissions, but the probe was not refused with FORBIDDEN`);
      if (forbidden !== undefined && forbidden.body.case === "error" && forbidden.body.value.fatal) fail(`${probe.kind}: FORBIDDEN must be non-fatal`);
      if (access === Access.ALLOWED && probe.accepted !== undefined && !seen.some((f) => f.body.case === probe.accepted)) {
        fail(`${probe.kind} is ALLOWED, but the probe got no ${probe.accepted}`);
      }
      checked.push(`${probe.kind} ${access === Access.ALLOWED ? "allowed" : "denied"}`);
    }
    if (checked.length === 0) skip("Welcome.permissions says no kind is ALLOWED or DENIED");
    return checked.join(", ");
  },
};
