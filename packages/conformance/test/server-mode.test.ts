import { runServerConformance, serverScenarios } from "@hb/conformance";
import { describe, expect, it } from "vitest";
import { type ServerFaults, startBrokenServer } from "./broken-server.js";
import { byName, explain } from "./helpers.js";

/** Runs the scenarios against a fresh test server with `faults`. */
async function run(faults: ServerFaults, only?: RegExp, extra: { maxWaitMs?: number } = {}, checkIntervalMs?: number) {
  const server = await startBrokenServer({
    faults,
    heartbeatIntervalMs: 200,
    heartbeatTimeoutMs: 1000,
    handshakeTimeoutMs: 1000,
    ...(checkIntervalMs === undefined ? {} : { checkIntervalMs }),
  });
  try {
    return await runServerConformance({
      host: "127.0.0.1",
      port: server.port,
      handshakeTimeoutMs: 1000,
      concurrency: 6,
      ...extra,
      ...(only ? { only } : {}),
    });
  } finally {
    await server.close();
  }
}

// Scenarios needing what the raw test server does not implement (subscriptions, presence, routing, a half-close
// answer, Renew).
const RAW_SERVER_LACKS = [
  "renew-without-feature",
  "decode-truncated-half-close",
  "unsubscribe-channel-0",
  "send-unknown-node-names-target",
  "takeover-across-processes",
  "gateway-takeover-across-processes",
  "grace-takeover-across-processes",
  "resume-with-new-labels",
  "send-right-after-welcome",
];

describe.concurrent("server mode", () => {
  it("passes every scenario against a raw server that follows PROTOCOL.md (what it cannot show is skipped)", async () => {
    // The raw server implements the handshake, liveness, gateway and decode
    // rules only: the routing, presence and half-close scenarios run against
    // @hb/server (typescript-server.conformance.test.ts, 1 and 2 workers).
    const results = await run({}, new RegExp(`^(?!(${RAW_SERVER_LACKS.join("|")})$)`));
    expect(results.map((r) => r.name)).toEqual(serverScenarios.map((s) => s.name).filter((n) => !RAW_SERVER_LACKS.includes(n)));
    const notPassed = results.filter((r) => r.status !== "pass");
    // This raw server publishes no presence (what presence shows is not observable), has no expiring credentials,
    // says nothing definite in Welcome.permissions and negotiates no feature.
    const unobservable = ["labels-round-trip", "flap-damping"];
    const noRenewal = ["renewal-refused", "renewal-accepted", "renewal-expiry-closes"];
    // It knows no roles (Welcome.role = ROLE_UNSPECIFIED): every connection is a node, which §5.7 allows.
    const noObservers = ["observer-not-in-presence", "observer-routable", "observer-will-refused", "observer-takeover", "observer-silent-timeout"];
    expect(notPassed.map((r) => r.name).sort(), explain(notPassed)).toEqual(
      [...unobservable, ...noRenewal, ...noObservers, "permissions-consistent", "heartbeat-rtt-accepted"].sort(),
    );
    expect(byName(results)["permissions-consistent"]?.status).toBe("skip");
    expect(byName(results)["heartbeat-rtt-accepted"]?.status).toBe("skip");
    for (const name of unobservable) {
      expect(byName(results)[name]?.status).toBe("skip");
      expect(byName(results)[name]?.message).toMatch(/not observable/);
    }
    for (const name of noObservers) {
      expect(byName(results)[name]?.status).toBe("skip");
      expect(byName(results)[name]?.message).toMatch(/registers no observers/);
    }
    for (const name of noRenewal) {
      expect(byName(results)[name]?.status).toBe("skip");
      expect(byName(results)[name]?.message).toMatch(/token-renewal/);
    }
  });

  it("fails only the scenarios a fault breaks, with a message naming the problem", async () => {
    const results = await run(
      { noSendTimeEcho: true, silentOnBadInput: true, ignoreGoodbye: true },
      /^(handshake|heartbeat-ack|frame-before-hello|second-hello|decode-.*|goodbye|duplicate-node-id)$/,
    );
    const r = byName(results);
    const why = explain(results);
    for (const name of ["handshake", "frame-before-hello", "second-hello", "duplicate-node-id"]) {
      expect(r[name]?.status, why).toBe("pass");
    }
    expect(r["heartbeat-ack"]?.status, why).toBe("fail");
    expect(r["heartbeat-ack"]?.message).toBe("HeartbeatAck for seq 1 has send_time_us 0, expected 1 echoed unchanged");

    const decode: [string, string, string][] = [
      ["decode-bad-varint", "BAD_VARINT", "80 80 80 80 10"],
      ["decode-frame-too-large", "FRAME_TOO_LARGE", "ff ff ff ff 0f"],
      ["decode-malformed-frame", "MALFORMED_FRAME", "03 12 05 08"],
      ["decode-invalid-utf8", "MALFORMED_FRAME", "06 2a 04 0a 02 ff fe"],
      ["decode-empty-frame", "EMPTY_FRAME", "bytes 00)"],
      ["decode-unknown-body", "EMPTY_FRAME", "03 98 06 01"],
    ];
    for (const [name, code, bytes] of decode) {
      expect(r[name]?.status, why).toBe("fail");
      expect(r[name]?.message).toContain(`expected ProtocolError{code: ${code}, fatal: true}`);
      expect(r[name]?.message).toContain(bytes);
      expect(r[name]?.message).toMatch(/the server closed the connection .*without it$/);
    }

    expect(r.goodbye?.status, why).toBe("fail");
    expect(r.goodbye?.message).toMatch(/^connection: expected the connection to be closed after Goodbye within 800 ms, but it stayed open$/);
  });

  it("skips a scenario that would wait longer than maxWaitMs, saying why", async () => {
    const results = await run({}, /^(silent-client-timeout|handshake-timeout)$/, { maxWaitMs: 500 });
    expect(results.map((r) => r.status)).toEqual(["skip", "skip"]);
    expect(byName(results)["silent-client-timeout"]?.message).toBe(
      "would wait 2100 ms (heartbeat_timeout_ms 1000 + slack 1100), more than --max-wait 500 ms",
    );
  });

  it("allows a verdict up to the advertised check_interval_ms after its deadline (PROTOCOL.md §6.3)", async () => {
    // Verdicts 1.8 s late, within the advertised 2 s check interval: on time. A fixed 1 s slack called them late.
    const timeouts = /^(silent-client-timeout|gateway-attached-timeout|proof-of-life-any-frame)$/;
    const results = await run({}, timeouts, {}, 2000);
    expect(results.map((r) => r.name).sort()).toEqual(["gateway-attached-timeout", "proof-of-life-any-frame", "silent-client-timeout"]);
    expect(results.filter((r) => r.status !== "pass"), explain(results)).toEqual([]);
  });

  it("fails with the socket error when nothing listens", async () => {
    const server = await startBrokenServer();
    const port = server.port;
    await server.close();
    const [result] = await runServerConformance({ host: "127.0.0.1", port, only: /^handshake$/ });
    expect(result?.status).toBe("fail");
    expect(result?.message).toMatch(/could not connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });
});
