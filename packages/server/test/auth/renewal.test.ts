// Credential renewal over real TCP (PROTOCOL.md §5.8): HeartbeatClient
// renews an expiring JWT in place (no reconnect, no presence change); an
// unrenewed session is closed after expiry + grace, not before; a refused
// Renew leaves the connection as it was.
import { HeartbeatClient } from "@hb/client";
import { ErrorCode, Feature } from "@hb/codec";
import { describe, expect, it } from "vitest";
import type { HeartbeatServerOptions } from "../../src/index.js";
import { record, story } from "../helpers.js";
import { waitFor } from "../raw-peer.js";
import { HS_SECRET, hs256 } from "./jwt-fixtures.js";
import { useServers } from "./server-fixture.js";

const { serve, peer, defer } = useServers();

// The hook as an expiring credential: "ttl:<ms>" lives that long, "bad" is refused, "other:<id>" is bound to another node.
const expiring: HeartbeatServerOptions["authenticate"] = (hello) => {
  if (hello.token.startsWith("ttl:")) return { expiresIn: Number(hello.token.slice(4)) };
  if (hello.token.startsWith("other:")) return { nodeId: hello.token.slice(6) };
  return hello.token === "" || hello.token === "forever";
};

describe("credential renewal", () => {
  it("HeartbeatClient renews an expiring JWT in place: no reconnect, no presence change", async () => {
    const { server, port } = await serve({ auth: { mode: "jwt", jwt: { keys: [{ alg: "HS256", secret: HS_SECRET }], clockTolerance: 0 }, tokenGrace: 500 } });
    const log = record(server);
    let issued = 0;
    // JWT exp has a resolution of a second: 2 s tokens, renewed at 3/4 of their life.
    const client = new HeartbeatClient({
      host: "127.0.0.1",
      port,
      nodeId: "renewer",
      token: async () => {
        issued++;
        return hs256({ sub: "renewer" }, 2);
      },
      reconnectInterval: 50,
    });
    defer(() => client.close());
    let connects = 0;
    let renewed = 0;
    client.on("connect", () => connects++);
    client.on("tokenRenewed", () => renewed++);
    const welcome = await client.connect();
    expect(welcome.tokenExpiresIn).toBeGreaterThan(0);
    // Past three lifetimes of the first token plus the grace: it must have been renewed at least twice.
    await waitFor(() => renewed >= 3, 15_000, "three renewals");
    expect(connects).toBe(1);
    expect(issued).toBeGreaterThanOrEqual(4);
    expect(story(log, "renewer")).toEqual(["nodeJoined hello"]);
    expect(server.get("renewer")?.state).toBe("online");
    expect(server.stats().renewals.accepted).toBeGreaterThanOrEqual(3);
    expect(server.stats().renewals.expired).toBe(0);
  }, 20_000);

  it("closes an unrenewed session with TOKEN_EXPIRED after expiry + grace, not before", async () => {
    const { server, port } = await serve({ authenticate: expiring, auth: { tokenGrace: 300 } });
    const log = record(server);
    const p = await peer(port);
    const t0 = performance.now();
    const w = await p.hello({ nodeId: "lapsed", token: "ttl:400", features: [Feature.tokenRenewal] });
    expect(w.features).toContain(Feature.tokenRenewal);
    expect(Number(w.tokenExpiresInMs)).toBeGreaterThan(300);
    expect(w.tokenGraceMs).toBe(300);
    const beat = setInterval(() => p.heartbeat(), 100);
    defer(() => clearInterval(beat));
    const err = await p.error(5_000);
    const after = performance.now() - t0;
    expect(err.code).toBe(ErrorCode.TOKEN_EXPIRED);
    expect(err.fatal).toBe(true);
    expect(after).toBeGreaterThanOrEqual(650);
    await waitFor(() => story(log, "lapsed").includes("nodeLeft connection_closed"), 5_000, "lapsed leaves");
    expect(server.stats().renewals.expired).toBe(1);
  });

  it("closes with UNAUTHORIZED a client that did not list token-renewal", async () => {
    const { port } = await serve({ authenticate: expiring, auth: { tokenGrace: 0 } });
    const p = await peer(port);
    const w = await p.hello({ nodeId: "old-client", token: "ttl:200" });
    expect(w.features).not.toContain(Feature.tokenRenewal);
    const err = await p.error(5_000);
    expect(err.code).toBe(ErrorCode.UNAUTHORIZED);
    expect(err.fatal).toBe(true);
  });

  it("a Renew accepted restores the session past the first expiry; a refused one is non-fatal with ref_body 24", async () => {
    const { server, port } = await serve({ authenticate: expiring, auth: { tokenGrace: 200 } });
    const log = record(server);
    const p = await peer(port);
    await p.hello({ nodeId: "keeper", token: "ttl:300", features: [Feature.tokenRenewal] });
    p.send("renew", { token: "bad" });
    const refused = await p.error();
    expect(refused).toMatchObject({ code: ErrorCode.UNAUTHORIZED, fatal: false, ref: 0n, refBody: 24 });
    p.send("renew", { token: "other:someone-else" });
    expect(await p.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED, fatal: false, refBody: 24 });
    p.send("renew", { token: "forever" });
    const renewed = await p.next("renewed");
    expect(renewed.tokenExpiresInMs).toBe(0n);
    // Well past the first credential's expiry + grace: still connected and acked.
    const until = performance.now() + 900;
    while (performance.now() < until) {
      p.heartbeat();
      await p.next("heartbeatAck");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(p.isClosed).toBe(false);
    expect(story(log, "keeper")).toEqual(["nodeJoined hello"]);
    expect(server.stats().renewals).toEqual({ accepted: 1, refused: 2, expired: 0 });
  });

  it("Renew without the feature negotiated, or a second one before the answer, is PROTOCOL_VIOLATION", async () => {
    let release: (v: boolean) => void = () => {};
    const { port } = await serve({
      authenticate: (hello, ctx) => (ctx.renewal ? new Promise<boolean>((r) => (release = r)) : true),
    });
    const a = await peer(port);
    await a.hello({ nodeId: "no-feature" });
    a.send("renew", { token: "x" });
    expect(await a.error()).toMatchObject({ code: ErrorCode.PROTOCOL_VIOLATION, fatal: true });
    const b = await peer(port);
    await b.hello({ nodeId: "twice", features: [Feature.tokenRenewal] });
    b.send("renew", { token: "1" });
    b.send("renew", { token: "2" });
    expect(await b.error()).toMatchObject({ code: ErrorCode.PROTOCOL_VIOLATION, fatal: true });
    release(true);
  });
});
