// Permissions over real TCP (PROTOCOL.md §5.9): rules matched on labels and
// grants from token claims; each kind refused with a non-fatal FORBIDDEN
// naming the frame (ref, ref_body, node_id for a Send) and counted by kind;
// Welcome.permissions says the same; authorizeSend; per-node message limits.
import { Access, ErrorCode, PRESENCE_SUBJECT } from "@hb/codec";
import { describe, expect, it } from "vitest";
import type { PermissionRule } from "../../src/auth.js";
import { hashToken } from "../../src/internal.js";
import { useChannelFixture, utf8 } from "../channel-helpers.js";
import type { RawPeer } from "../raw-peer.js";
import { HS_SECRET, hs256 } from "./jwt-fixtures.js";

const fx = useChannelFixture();

const RULES: PermissionRule[] = [
  {
    match: { labels: { role: "sensor" } },
    publish: { allow: ["telemetry.{nodeId}.>"], deny: ["telemetry.*.secret"] },
    subscribe: { allow: ["commands.{nodeId}", "public.>"], deny: ["public.secret"] },
    send: { allow: ["ops-*"] },
    broadcast: false,
    attach: { allow: ["child-*"] },
    presence: { filter: { tenant: "{labels.tenant}" } },
  },
  { match: { labels: { role: "ops" } }, broadcast: true },
];

async function node(port: number, nodeId: string, labels: Record<string, string>): Promise<{ p: RawPeer; welcome: Awaited<ReturnType<RawPeer["hello"]>> }> {
  const p = await fx.raw(port);
  const welcome = await p.hello({ nodeId, labels });
  return { p, welcome };
}

describe("permission rules", () => {
  it("Welcome.permissions says what the matching rule allows", async () => {
    const { port } = await fx.server({ permissions: RULES });
    const { welcome } = await node(port, "s1", { role: "sensor", tenant: "acme" });
    const perms = welcome.permissions;
    expect(perms).toMatchObject({
      publish: Access.RESTRICTED,
      publishAllow: ["telemetry.s1.>"],
      publishDeny: ["telemetry.*.secret"],
      subscribe: Access.RESTRICTED,
      subscribeAllow: ["commands.s1", "public.>"],
      subscribeDeny: ["public.secret"],
      send: Access.RESTRICTED,
      broadcast: Access.DENIED,
      attach: Access.RESTRICTED,
      presence: Access.RESTRICTED,
      presenceFilter: { tenant: "acme" },
    });
    const ops = await node(port, "ops-1", { role: "ops" });
    expect(ops.welcome.permissions).toMatchObject({ publish: Access.ALLOWED, broadcast: Access.ALLOWED, send: Access.ALLOWED });
    const stranger = await node(port, "x", { role: "unknown" });
    expect(stranger.welcome.permissions).toMatchObject({ publish: Access.DENIED, subscribe: Access.DENIED, broadcast: Access.DENIED, presence: Access.DENIED });
  });

  it("refuses each kind with a non-fatal FORBIDDEN naming the frame, and counts it by kind", async () => {
    const { server, port } = await fx.server({ permissions: RULES });
    const { p } = await node(port, "s1", { role: "sensor", tenant: "acme" });
    await node(port, "ops-1", { role: "ops" });
    await node(port, "other", { role: "ops" });
    const cases: [string, () => void, Partial<{ ref: bigint; refBody: number; nodeId: string }>][] = [
      ["publish", () => p.send("publish", { subject: "telemetry.s2.temp", payload: utf8("x"), requestId: 7n }), { ref: 7n, refBody: 16 }],
      ["publish denied", () => p.send("publish", { subject: "telemetry.s1.secret", payload: utf8("x"), requestId: 8n }), { ref: 8n, refBody: 16 }],
      ["subscribe", () => p.send("subscribe", { subject: "commands.s2", requestId: 9 }), { ref: 9n, refBody: 13 }],
      ["subscribe denied", () => p.send("subscribe", { subject: "public.secret", requestId: 10 }), { ref: 10n, refBody: 13 }],
      ["send", () => p.send("send", { nodeId: "other", payload: utf8("x"), requestId: 11n }), { ref: 11n, refBody: 17, nodeId: "other" }],
      ["broadcast", () => p.send("broadcast", { payload: utf8("x") }), { refBody: 18 }],
      ["attach", () => p.send("attach", { handle: 5, nodeId: "stray" }), { ref: 5n, refBody: 9, nodeId: "stray" }],
      ["presence", () => p.send("subscribe", { subject: PRESENCE_SUBJECT, requestId: 12, labelFilter: { tenant: "other" } }), { ref: 12n, refBody: 13 }],
    ];
    for (const [what, act, ref] of cases) {
      act();
      const err = await p.error(800).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
      expect(err, what).toMatchObject({ code: ErrorCode.FORBIDDEN, fatal: false, ...ref });
    }
    const stats = server.stats();
    expect(stats.forbidden).toEqual({ publish: 2, subscribe: 2, send: 1, broadcast: 1, attach: 1, presence: 1 });
    expect(stats.errors.FORBIDDEN).toBe(8);
    // The connection carries on, and what is allowed is accepted.
    p.send("publish", { subject: "telemetry.s1.temp", payload: utf8("ok") });
    p.send("subscribe", { subject: "commands.s1", requestId: 20 });
    expect((await p.next("subscribed")).requestId).toBe(20);
    p.send("subscribe", { subject: PRESENCE_SUBJECT, requestId: 21, labelFilter: { tenant: "acme" } });
    expect((await p.next("subscribed")).requestId).toBe(21);
    p.send("send", { nodeId: "ops-1", payload: utf8("hi") });
    p.send("attach", { handle: 6, nodeId: "child-1" });
    expect((await p.next("attached")).handle).toBe(6);
    expect(server.stats().forbidden.publish).toBe(2);
  });

  it("never delivers a denied subject to a wider subscription (a.> with a.secret denied)", async () => {
    const { port } = await fx.server({ permissions: RULES });
    const { p } = await node(port, "s1", { role: "sensor" });
    const ops = await node(port, "ops-1", { role: "ops" });
    p.send("subscribe", { subject: "public.>", requestId: 1 });
    await p.next("subscribed");
    ops.p.send("publish", { subject: "public.secret", payload: utf8("hidden") });
    ops.p.send("publish", { subject: "public.news", payload: utf8("shown") });
    const d = await p.next("delivery");
    expect(d.subject).toBe("public.news");
    expect(p.count("delivery")).toBe(1);
  });

  it("takes a credential's permissions from its token entry or JWT claim instead of the rules", async () => {
    const tokens = [{ hash: await hashToken("limited-token"), permissions: { publish: { allow: ["only.this"] }, broadcast: true } }];
    const a = await fx.server({ auth: { mode: "tokens", tokens }, permissions: [{ publish: false }] });
    const pa = await fx.raw(a.port);
    const wa = await pa.hello({ nodeId: "t1", token: "limited-token" });
    expect(wa.permissions).toMatchObject({ publish: Access.RESTRICTED, publishAllow: ["only.this"], broadcast: Access.ALLOWED });
    pa.send("publish", { subject: "only.that", payload: utf8("x"), requestId: 1n });
    expect(await pa.error()).toMatchObject({ code: ErrorCode.FORBIDDEN, ref: 1n });

    const b = await fx.server({ auth: { mode: "jwt", jwt: { keys: [{ alg: "HS256", secret: HS_SECRET }] } } });
    const pb = await fx.raw(b.port);
    const wb = await pb.hello({ token: await hs256({ sub: "j1", hb_permissions: { send: false } }, 60) });
    expect(wb.permissions?.send).toBe(Access.DENIED);
    pb.send("send", { nodeId: "j1", payload: utf8("x") });
    expect(await pb.error()).toMatchObject({ code: ErrorCode.FORBIDDEN, nodeId: "j1", refBody: 17 });
  });
});

describe("authorizeSend and message limits", () => {
  it("authorizeSend refuses with FORBIDDEN naming the target; Welcome says send is hook-decided", async () => {
    const { server, port } = await fx.server({ authorizeSend: (node, target) => target !== "vault" || node.nodeId === "keeper" });
    const a = await fx.raw(port);
    const w = await a.hello({ nodeId: "a" });
    expect(w.permissions?.send).toBe(Access.UNSPECIFIED);
    const vault = await fx.client(port, "vault");
    const got: string[] = [];
    vault.on("message", (m) => got.push(new TextDecoder().decode(m.payload)));
    a.send("send", { nodeId: "vault", payload: utf8("no"), requestId: 3n });
    expect(await a.error()).toMatchObject({ code: ErrorCode.FORBIDDEN, ref: 3n, nodeId: "vault" });
    const k = await fx.raw(port);
    await k.hello({ nodeId: "keeper" });
    k.send("send", { nodeId: "vault", payload: utf8("yes") });
    await new Promise<void>((resolve) => vault.once("message", () => resolve()));
    expect(got).toEqual(["yes"]);
    expect(server.stats().forbidden.send).toBe(1);
  });

  it("refuses messages over a node's message rate with non-fatal RATE_LIMITED and counts them", async () => {
    const { server, port } = await fx.server({ messageRate: { messagesPerSecond: 1, messageBurst: 3 } });
    const p = await fx.raw(port);
    await p.hello({ nodeId: "chatty" });
    for (let i = 1; i <= 5; i++) p.send("publish", { subject: "x.y", payload: utf8("m"), requestId: BigInt(i) });
    const e1 = await p.error();
    const e2 = await p.error();
    expect([e1, e2].map((e) => [e.code, e.fatal, e.ref])).toEqual([
      [ErrorCode.RATE_LIMITED, false, 4n],
      [ErrorCode.RATE_LIMITED, false, 5n],
    ]);
    expect(server.stats().messagesLimited).toBe(2);
    p.heartbeat();
    await p.next("heartbeatAck");
  });
});
