import { describe, expect, it } from "vitest";
import { CLIENT_DEFAULTS, HeartbeatClient, resolveClientOptions } from "../src/internal.js";

const base = { host: "127.0.0.1", port: 4222 };

describe("resolveClientOptions", () => {
  it("applies the documented defaults", () => {
    const o = resolveClientOptions(base);
    expect(o).toMatchObject({
      host: "127.0.0.1",
      port: 4222,
      nodeId: "",
      metadata: {},
      heartbeatInterval: 0,
      autoReconnect: true,
      reconnectInterval: 1000,
      maxReconnectDelay: 30_000,
      maxReconnectAttempts: Number.POSITIVE_INFINITY,
      token: "",
      tls: undefined,
      will: undefined,
      connectTimeout: 10_000,
      closeTimeout: 2000,
      clientName: CLIENT_DEFAULTS.clientName,
      maxFrameSize: 1024 * 1024,
      requestTimeout: 5000,
      maxPendingBytes: 64 * 1024 * 1024,
    });
  });

  it("converts a string will payload to UTF-8 bytes", () => {
    const o = resolveClientOptions({ ...base, will: { subject: "dead.x", payload: "é" } });
    expect(o.will?.payload).toEqual(new Uint8Array([0xc3, 0xa9]));
  });

  it.each([
    [{ port: 0 }, /port must be an integer in 1\.\.65535, got 0/],
    [{ port: 70_000 }, /port must be an integer in 1\.\.65535/],
    [{ host: "" }, /host must be a non-empty string/],
    [{ heartbeatInterval: -1 }, /heartbeatInterval must be an integer in 0\.\.3600000 ms, got -1/],
    [{ heartbeatInterval: 1.5 }, /heartbeatInterval/],
    [{ reconnectInterval: 0 }, /reconnectInterval must be an integer in 1\.\.3600000 ms/],
    [{ reconnectInterval: 500, maxReconnectDelay: 100 }, /maxReconnectDelay must be an integer in 500\.\.3600000 ms \(at least reconnectInterval\)/],
    [{ maxReconnectAttempts: -1 }, /maxReconnectAttempts must be an integer in 0\.\.Infinity/],
    [{ maxReconnectAttempts: 1.5 }, /maxReconnectAttempts/],
    [{ connectTimeout: 0 }, /connectTimeout must be an integer in 1\.\.3600000 ms/],
    [{ closeTimeout: 60_001 }, /closeTimeout must be an integer in 0\.\.60000 ms/],
    [{ maxFrameSize: 0 }, /maxFrameSize must be an integer in 1024\.\.67108864 bytes/],
    [{ maxFrameSize: 1023 }, /maxFrameSize must be an integer in 1024\.\.67108864 bytes/],
    [{ requestTimeout: 0 }, /requestTimeout must be an integer in 1\.\.3600000 ms/],
    [{ maxPendingBytes: 0 }, /maxPendingBytes must be an integer in 1\.\.9007199254740991 bytes/],
    [{ nodeId: "x".repeat(129) }, /nodeId must be 1\.\.128 bytes of UTF-8, got 129 bytes/],
    [{ nodeId: "a\nb" }, /nodeId must not contain control characters/],
    [{ metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) }, /metadata must have at most 32 entries, got 33/],
    [{ metadata: { ["k".repeat(65)]: "v" } }, /metadata keys must be 1\.\.64 bytes/],
    [{ metadata: { k: "v".repeat(257) } }, /metadata\["k"\] must be 0\.\.256 bytes, got 257 bytes/],
  ])("rejects %j", (bad, message) => {
    expect(() => resolveClientOptions({ ...base, ...bad })).toThrow(message);
    expect(() => new HeartbeatClient({ ...base, ...bad })).toThrow(RangeError);
  });

  it("rejects values of the wrong type with a TypeError", () => {
    expect(() => resolveClientOptions({ ...base, autoReconnect: "yes" as unknown as boolean })).toThrow(TypeError);
    expect(() => resolveClientOptions({ ...base, will: { subject: "" } })).toThrow(/will\.subject/);
    expect(() => resolveClientOptions({ ...base, token: 5 as unknown as string })).toThrow(/token must be a string/);
  });

  it("accepts Infinity and 0 reconnect attempts and a large base without a cap", () => {
    expect(resolveClientOptions({ ...base, maxReconnectAttempts: 0 }).maxReconnectAttempts).toBe(0);
    expect(resolveClientOptions({ ...base, reconnectInterval: 60_000 }).maxReconnectDelay).toBe(60_000);
  });
});
