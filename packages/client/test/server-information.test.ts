// What the server tells a client (PROTOCOL.md §15.2): the role it registered
// (§5.7), Welcome's timing and permissions, the target of a failed Send, the
// UPDATED presence kind. Over real loopback sockets.
import { afterEach, describe, expect, it } from "vitest";
import { Access, ErrorCode, PresenceKind, Role } from "@hb/codec";
import { HeartbeatClient, resolveClientOptions } from "../src/internal.js";
import { FakeServer } from "./fake-server.js";

const servers: FakeServer[] = [];
const clients: HeartbeatClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<FakeServer> {
  const s = await FakeServer.start();
  servers.push(s);
  return s;
}

function client(s: FakeServer, options: { role?: "node" | "observer"; nodeId?: string } = {}): HeartbeatClient {
  const c = new HeartbeatClient({ host: "127.0.0.1", port: s.port, closeTimeout: 300, ...options });
  clients.push(c);
  return c;
}

describe("roles", () => {
  it("an observer says so in Hello and learns from Welcome that the server registered it as one", async () => {
    const s = await server();
    const info = await client(s, { role: "observer" }).connect();
    expect(s.frames("hello")[0]?.value.role).toBe(Role.OBSERVER);
    expect(info.role).toBe("observer");
  });

  it("a node sends no role (the v1 default) and is registered as a node", async () => {
    const s = await server();
    const info = await client(s, { nodeId: "n-1" }).connect();
    expect(s.frames("hello")[0]?.value.role).toBe(Role.UNSPECIFIED);
    expect(info.role).toBe("node");
  });

  it("reports role node when the server does not know roles, whatever was asked", async () => {
    const s = await server();
    s.knowsRoles = false;
    const info = await client(s, { role: "observer" }).connect();
    expect(info.role).toBe("node");
  });

  it("refuses a will for an observer, and an unknown role, at construction", () => {
    const base = { host: "127.0.0.1", port: 1 };
    expect(() => resolveClientOptions({ ...base, role: "observer", will: { subject: "a.b" } })).toThrow(
      /an observer has no will/,
    );
    expect(() => resolveClientOptions({ ...base, role: "tool" as "node" })).toThrow(/role must be "node" or "observer"/);
  });
});

describe("what Welcome tells the client", () => {
  it("exposes the check interval, handshake timeout, permissions and credential expiry", async () => {
    const s = await server();
    s.welcomeExtra = {
      checkIntervalMs: 250,
      handshakeTimeoutMs: 7000,
      tokenExpiresInMs: 60_000n,
      tokenGraceMs: 5000,
      permissions: {
        publish: Access.RESTRICTED,
        publishAllow: ["metrics.>"],
        broadcast: Access.DENIED,
        presence: Access.RESTRICTED,
        presenceFilter: { region: "eu" },
      },
    };
    const info = await client(s).connect();
    expect(info).toMatchObject({ checkInterval: 250, handshakeTimeout: 7000, tokenExpiresIn: 60_000, tokenGrace: 5000 });
    expect(info.permissions).toEqual({
      publish: "restricted",
      publishAllow: ["metrics.>"],
      publishDeny: [],
      subscribe: "unspecified",
      subscribeAllow: [],
      subscribeDeny: [],
      send: "unspecified",
      broadcast: "denied",
      attach: "unspecified",
      presence: "restricted",
      presenceFilter: { region: "eu" },
    });
  });

  it("leaves permissions undefined and the timings 0 when an older server says nothing", async () => {
    const s = await server();
    const info = await client(s).connect();
    expect(info.permissions).toBeUndefined();
    expect(info).toMatchObject({ checkInterval: 0, handshakeTimeout: 0, tokenExpiresIn: 0 });
  });
});

describe("errors and presence the server names precisely", () => {
  it("a plain Send to an offline node reports the target's id in sendError.nodeId", async () => {
    const s = await server();
    const c = client(s, { nodeId: "sender" });
    await c.connect();
    const got = new Promise<{ nodeId?: string; code: ErrorCode }>((resolve) =>
      c.on("sendError", (e) => resolve({ nodeId: e.nodeId, code: e.error.code })),
    );
    await c.send("nobody-home", "hi");
    expect(await got).toEqual({ nodeId: "nobody-home", code: ErrorCode.UNKNOWN_NODE });
  });

  it("reports PresenceKind UPDATED as kind updated", async () => {
    const s = await server();
    const c = client(s, { nodeId: "watcher" });
    await c.connect();
    const w = c.watchPresence();
    await w.ready;
    const seen = new Promise<{ kind: string; reason: string }>((resolve) => w.on("message", (n) => resolve(n)));
    s.presence({ kind: PresenceKind.UPDATED, nodeId: "n-9", labels: { zone: "b" }, reason: "labels_changed" });
    expect(await seen).toMatchObject({ kind: "updated", reason: "labels_changed" });
  });
});
