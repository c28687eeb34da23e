// Credential renewal without reconnect (PROTOCOL.md §5.8, feature
// token-renewal): HeartbeatClient with a token provider, over real loopback
// sockets against the fake server; and the TokenRenewal unit on its own.
import { makeFrame } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, type HbError, HeartbeatClient, type HeartbeatClientOptions } from "../src/index.js";
import { TokenRenewal } from "../src/token-renewal.js";
import { FakeServer } from "./fake-server.js";
import { next } from "./helpers.js";

const servers: FakeServer[] = [];
const clients: HeartbeatClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(expiresInMs: number, graceMs = 1000): Promise<FakeServer> {
  const s = await FakeServer.start({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 5000 });
  servers.push(s);
  s.features = ["token-renewal"];
  s.welcomeExtra = { tokenExpiresInMs: BigInt(expiresInMs), tokenGraceMs: graceMs };
  return s;
}

function client(s: FakeServer, options: Partial<HeartbeatClientOptions> = {}): HeartbeatClient {
  const c = new HeartbeatClient({
    host: "127.0.0.1",
    port: s.port,
    nodeId: "renewer",
    reconnectInterval: 20,
    maxReconnectDelay: 100,
    closeTimeout: 300,
    ...options,
  });
  clients.push(c);
  return c;
}

/** A provider handing out token-1, token-2, … */
function counter(): { provider: () => Promise<string>; calls: () => number } {
  let n = 0;
  return { provider: async () => `token-${++n}`, calls: () => n };
}

describe("credential renewal on a live connection", () => {
  it("renews before expiry with a fresh token from the provider, again after each Renewed, with no reconnect", async () => {
    const s = await server(800);
    const { provider } = counter();
    const c = client(s, { token: provider });
    const renewed: number[] = [];
    c.on("tokenRenewed", (i) => renewed.push(i.tokenExpiresIn));
    const info = await c.connect();
    expect(info.features).toEqual(["token-renewal"]);
    expect(info.tokenExpiresIn).toBe(800);
    expect(s.frames("hello")[0]?.value.token).toBe("token-1");
    expect(s.frames("hello")[0]?.value.features).toContain("token-renewal");
    await s.until(() => s.frames("renew").length >= 3, 10_000, "three renewals");
    const renews = s.frames("renew");
    expect(renews.map((r) => r.value.token).slice(0, 3)).toEqual(["token-2", "token-3", "token-4"]);
    // Each renewal comes before the credential it replaces expires: ~3/4 of 800 ms after the previous one.
    const welcomeAt = s.frames("hello")[0]?.at as number;
    expect((renews[0]?.at as number) - welcomeAt).toBeLessThan(800);
    for (let i = 1; i < 3; i++) expect((renews[i]?.at as number) - (renews[i - 1]?.at as number)).toBeLessThan(800);
    expect(renewed.length).toBeGreaterThanOrEqual(2);
    expect(s.connections).toHaveLength(1); // never reconnected
    expect(c.status).toBe("connected");
  });

  it("retries a refused renewal and reports the refusal as an error", async () => {
    const s = await server(600, 2000);
    let refuse = true;
    s.onRenew = () => (refuse ? ErrorCode.UNAUTHORIZED : { tokenExpiresInMs: 0n });
    const c = client(s, { token: counter().provider });
    const errors: HbError[] = [];
    c.on("error", (e) => errors.push(e));
    await c.connect();
    await s.until(() => s.frames("renew").length >= 2, 5000, "a renewal and its retry");
    expect(errors.some((e) => e.code === ErrorCode.UNAUTHORIZED)).toBe(true);
    refuse = false;
    await next(c, "tokenRenewed", 5000);
    const count = s.frames("renew").length;
    await new Promise((r) => setTimeout(r, 700)); // expiry 0 now: no more renewals (nothing to wait for instead)
    expect(s.frames("renew").length).toBe(count);
    expect(s.connections).toHaveLength(1);
  });

  it("sends no Renew when the server did not grant token-renewal", async () => {
    const s = await server(300);
    s.features = [];
    const c = client(s, { token: counter().provider });
    await c.connect();
    await s.until(() => s.frames("heartbeat").length >= 6, 5000, "six heartbeats (600 ms)");
    expect(s.frames("renew")).toHaveLength(0);
  });

  it("reconnects with a fresh credential after TOKEN_EXPIRED when it has a provider", async () => {
    const s = await server(0);
    const { provider } = counter();
    const c = client(s, { token: provider });
    await c.connect();
    s.send(makeFrame("error", { code: ErrorCode.TOKEN_EXPIRED, message: "expired", fatal: true }));
    await s.until(() => s.frames("hello").length === 2, 5000, "a reconnect");
    expect(s.frames("hello")[1]?.value.token).toBe("token-2");
  });

  it("stops for good after TOKEN_EXPIRED when its token is a fixed string", async () => {
    const s = await server(0);
    const c = client(s, { token: "fixed" });
    await c.connect();
    const closed = next(c, "close", 5000);
    s.send(makeFrame("error", { code: ErrorCode.TOKEN_EXPIRED, message: "expired", fatal: true }));
    const info = await closed;
    expect((info.error as HbError).code).toBe(ErrorCode.TOKEN_EXPIRED);
    expect(c.status).toBe("closed");
    await new Promise((r) => setTimeout(r, 200));
    expect(s.connections).toHaveLength(1);
  });

  it("fails the first connect with the provider's error, without opening a socket", async () => {
    const s = await server(0);
    const c = client(s, {
      token: () => {
        throw new Error("vault unreachable");
      },
    });
    await expect(c.connect()).rejects.toThrow("vault unreachable");
    expect(c.status).toBe("idle");
    expect(s.connections).toHaveLength(0);
  });
});

describe("TokenRenewal", () => {
  it("asks the provider at 3/4 of the lifetime and sends one Renew at a time", async () => {
    const sent: string[] = [];
    let n = 0;
    const r = new TokenRenewal(async () => `t${++n}`, { sendRenew: (t) => sent.push(t), failed: () => {} });
    const t0 = performance.now();
    r.start(200, 100);
    while (sent.length === 0 && performance.now() - t0 < 2000) await new Promise((res) => setTimeout(res, 5));
    expect(sent).toEqual(["t1"]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150 - 5);
    expect(r.pending).toBe(true);
    await new Promise((res) => setTimeout(res, 300)); // unanswered: no second Renew
    expect(sent).toEqual(["t1"]);
    r.stop();
  });

  it("retries after a provider failure while time is left, then gives up", async () => {
    const failures: Error[] = [];
    const r = new TokenRenewal(
      () => {
        throw new Error("no token");
      },
      { sendRenew: () => {}, failed: (e) => failures.push(e) },
    );
    r.start(40, 0);
    await new Promise((res) => setTimeout(res, 600));
    const count = failures.length;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(count).toBeLessThanOrEqual(2); // 30 ms, then a retry ≥ 250 ms later would be past expiry + grace
    r.stop();
  });
});
