// Each authentication mode over real TCP: the right node is welcomed, the
// wrong one refused with UNAUTHORIZED (TOKEN_EXPIRED for an expired
// credential, only to a client listing token-renewal), and credentials
// bind node ids and labels.
import { Access, ErrorCode, Feature } from "@hb/codec";
import { describe, expect, it } from "vitest";
import type { HeartbeatServerOptions } from "../../src/index.js";
import { hashToken } from "../../src/internal.js";
import type { RawPeer } from "../raw-peer.js";
import { HS_SECRET, hs256, keyPair } from "./jwt-fixtures.js";
import { useServers } from "./server-fixture.js";

const { serve, peer } = useServers();

// The code a Hello is refused with (fails the test when it is welcomed).
async function refusal(port: number, hello: Parameters<RawPeer["hello"]>[0]): Promise<ErrorCode> {
  const p = await peer(port);
  try {
    const w = await p.hello(hello);
    throw new Error(`welcomed as ${w.nodeId}, expected a refusal`);
  } catch (err) {
    const code = (err as { code?: ErrorCode }).code;
    if (code === undefined) throw err;
    return code;
  }
}

describe("auth mode none", () => {
  it("welcomes every Hello and says what it may do (broadcast refused without the hook)", async () => {
    const { port } = await serve({});
    const w = await (await peer(port)).hello({ nodeId: "anyone" });
    expect(w.nodeId).toBe("anyone");
    expect(w.tokenExpiresInMs).toBe(0n);
    expect(w.permissions?.publish).toBe(Access.ALLOWED);
    expect(w.permissions?.broadcast).toBe(Access.DENIED);
  });
});

describe("auth mode tokens", () => {
  it("accepts a listed token (sha256 or scrypt), refuses others and none with UNAUTHORIZED", async () => {
    const tokens = [{ hash: await hashToken("s3cret-random-token"), name: "a" }, { hash: await hashToken("people-chose-this", "scrypt"), name: "b" }];
    const { server, port } = await serve({ auth: { mode: "tokens", tokens } });
    expect((await (await peer(port)).hello({ nodeId: "n1", token: "s3cret-random-token" })).nodeId).toBe("n1");
    expect((await (await peer(port)).hello({ nodeId: "n2", token: "people-chose-this" })).nodeId).toBe("n2");
    expect(await refusal(port, { nodeId: "n3", token: "wrong" })).toBe(ErrorCode.UNAUTHORIZED);
    expect(await refusal(port, { nodeId: "n4" })).toBe(ErrorCode.UNAUTHORIZED);
    expect(server.get("n3")).toBeUndefined();
    expect(server.stats().errors.UNAUTHORIZED).toBe(2);
  });

  it("binds the node id and labels of a token: another id or label value is refused, none is assigned", async () => {
    const tokens = [{ hash: await hashToken("tok-sensor-7"), nodeId: "sensor-7", labels: { tenant: "acme" } }];
    const { server, port } = await serve({ auth: { mode: "tokens", tokens } });
    expect(await refusal(port, { nodeId: "sensor-8", token: "tok-sensor-7" })).toBe(ErrorCode.UNAUTHORIZED);
    expect(await refusal(port, { nodeId: "sensor-7", token: "tok-sensor-7", labels: { tenant: "evil" } })).toBe(ErrorCode.UNAUTHORIZED);
    const w = await (await peer(port)).hello({ token: "tok-sensor-7", labels: { room: "1" } });
    expect(w.nodeId).toBe("sensor-7");
    expect(server.get("sensor-7")?.labels).toEqual({ room: "1", tenant: "acme" });
  });

  it("refuses a malformed hash at construction, naming it", async () => {
    await expect(serve({ auth: { mode: "tokens", tokens: [{ hash: "plain-text" }] } })).rejects.toThrow(/auth\.tokens\[0\]\.hash must start with "sha256:"/);
  });
});

describe("auth mode jwt", () => {
  const jwt = (extra: object = {}): HeartbeatServerOptions => ({
    auth: { mode: "jwt", jwt: { keys: [{ alg: "HS256", secret: HS_SECRET }], audience: "hb", issuer: "test", ...extra } },
  });

  it("accepts a valid HS256 token, refuses a bad signature, audience or issuer with UNAUTHORIZED", async () => {
    const { port } = await serve(jwt());
    const w = await (await peer(port)).hello({ token: await hs256({ sub: "jw-1", aud: "hb", iss: "test" }, 60) });
    expect(w.nodeId).toBe("jw-1");
    expect(Number(w.tokenExpiresInMs)).toBeGreaterThan(50_000);
    expect(w.tokenGraceMs).toBe(30_000);
    expect(await refusal(port, { token: await hs256({ sub: "jw-2", aud: "hb", iss: "test" }, 60, "another-secret-of-32-characters-or-more") })).toBe(ErrorCode.UNAUTHORIZED);
    expect(await refusal(port, { token: await hs256({ sub: "jw-3", aud: "other", iss: "test" }, 60) })).toBe(ErrorCode.UNAUTHORIZED);
    expect(await refusal(port, { token: await hs256({ sub: "jw-4", aud: "hb", iss: "nope" }, 60) })).toBe(ErrorCode.UNAUTHORIZED);
    expect(await refusal(port, { token: "not.a.jwt" })).toBe(ErrorCode.UNAUTHORIZED);
  });

  it("binds the node id to the sub claim: a node cannot claim another's id", async () => {
    const { server, port } = await serve(jwt());
    const token = await hs256({ sub: "alice", aud: "hb", iss: "test", hb_labels: { team: "a" } }, 60);
    expect(await refusal(port, { nodeId: "bob", token })).toBe(ErrorCode.UNAUTHORIZED);
    expect((await (await peer(port)).hello({ nodeId: "alice", token })).nodeId).toBe("alice");
    expect(server.get("alice")?.labels).toEqual({ team: "a" });
    expect(server.get("bob")).toBeUndefined();
  });

  it("an expired token is TOKEN_EXPIRED for a client listing token-renewal, UNAUTHORIZED for others", async () => {
    const { port } = await serve(jwt({ clockTolerance: 0 }));
    const expired = await hs256({ sub: "late", aud: "hb", iss: "test" }, -10);
    expect(await refusal(port, { token: expired, features: [Feature.tokenRenewal] })).toBe(ErrorCode.TOKEN_EXPIRED);
    expect(await refusal(port, { token: expired })).toBe(ErrorCode.UNAUTHORIZED);
  });

  it.each(["RS256", "EdDSA"] as const)("verifies %s with a PEM public key, and with a JWKS", async (alg) => {
    const pair = await keyPair(alg);
    const byKey = await serve({ auth: { mode: "jwt", jwt: { keys: [{ alg, publicKey: pair.publicKey }] } } });
    expect((await (await peer(byKey.port)).hello({ token: await pair.sign({ sub: `${alg}-a` }, 60) })).nodeId).toBe(`${alg}-a`);
    const other = await keyPair(alg);
    expect(await refusal(byKey.port, { token: await other.sign({ sub: `${alg}-b` }, 60) })).toBe(ErrorCode.UNAUTHORIZED);
    const byJwks = await serve({ auth: { mode: "jwt", jwt: { jwks: { keys: [pair.jwk] } } } });
    expect((await (await peer(byJwks.port)).hello({ token: await pair.sign({ sub: `${alg}-c` }, 60, `${alg}-kid`) })).nodeId).toBe(`${alg}-c`);
    expect(await refusal(byJwks.port, { token: await other.sign({ sub: `${alg}-d` }, 60, `${alg}-kid`) })).toBe(ErrorCode.UNAUTHORIZED);
  });
});

describe("the authenticate hook", () => {
  it("still decides alone (true / false), and may bind the node id and set an expiry", async () => {
    const { port } = await serve({
      authenticate: (hello) => (hello.token === "ok" ? true : hello.token === "bound" ? { nodeId: "hooked", expiresIn: 60_000 } : false),
    });
    expect((await (await peer(port)).hello({ nodeId: "x", token: "ok" })).nodeId).toBe("x");
    const w = await (await peer(port)).hello({ token: "bound" });
    expect(w.nodeId).toBe("hooked");
    expect(Number(w.tokenExpiresInMs)).toBeGreaterThan(55_000);
    expect(await refusal(port, { token: "no" })).toBe(ErrorCode.UNAUTHORIZED);
  });

  it("runs after the auth mode: both must accept", async () => {
    const tokens = [{ hash: await hashToken("good-token") }];
    const { port } = await serve({ auth: { mode: "tokens", tokens }, authenticate: (hello) => hello.nodeId !== "banned" });
    expect((await (await peer(port)).hello({ nodeId: "fine", token: "good-token" })).nodeId).toBe("fine");
    expect(await refusal(port, { nodeId: "banned", token: "good-token" })).toBe(ErrorCode.UNAUTHORIZED);
    expect(await refusal(port, { nodeId: "fine2", token: "bad-token" })).toBe(ErrorCode.UNAUTHORIZED);
  });
});

describe("the warning of auth mode none", () => {
  const capture = () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: object, msg: string) => warnings.push(msg) };
    return { logger, warnings };
  };

  it("warns loudly at listen on a non-loopback address, not on loopback nor with auth", async () => {
    const open = capture();
    await serve({ host: "0.0.0.0", logger: open.logger });
    expect(open.warnings.filter((w) => w.startsWith("NO AUTHENTICATION"))).toHaveLength(1);
    const local = capture();
    await serve({ host: "127.0.0.1", logger: local.logger });
    const authed = capture();
    await serve({ host: "0.0.0.0", logger: authed.logger, auth: { mode: "tokens", tokens: [] } });
    expect([...local.warnings, ...authed.warnings].filter((w) => w.startsWith("NO AUTHENTICATION"))).toEqual([]);
  });
});
