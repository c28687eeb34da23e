import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { HeartbeatServer, SERVER_OPTION_DEFAULTS, negotiateInterval, resolveServerOptions } from "../src/internal.js";

describe("server options", () => {
  it("applies the documented defaults", () => {
    const o = resolveServerOptions();
    expect(o).toMatchObject({
      port: 0,
      workerCount: Math.min(availableParallelism(), 1_024), // the CPU count (workers.test.ts: when it is 1)
      workerModule: undefined,
      heartbeatInterval: 10_000,
      minHeartbeatInterval: 100,
      heartbeatTimeout: 30_000,
      heartbeatCheckInterval: 1_000,
      handshakeTimeout: 10_000,
      resumeGrace: 0,
      channelMaxQueueSize: 1_000,
      maxConnections: 1_000_000,
      maxConnectionsPerIp: 0,
      maxFrameSize: 1024 * 1024,
      rateLimit: { framesPerSecond: 2_000, burst: 4_000 },
      closeTimeout: 5_000,
      maxSubscriptionQueueSize: 100_000,
      maxSubscriptionsPerConnection: 10_000,
      maxMessageSize: 64 * 1024 * 1024,
      publishWindow: 8 * 1024 * 1024,
      authorizeSubscribe: undefined,
      authorizePublish: undefined,
      authorizeBroadcast: undefined,
    });
    expect(resolveServerOptions({ channelMaxQueueSize: 200_000 }).maxSubscriptionQueueSize).toBe(200_000);
    expect(resolveServerOptions({ maxMessageSize: 0, publishWindow: 0 })).toMatchObject({ maxMessageSize: 0, publishWindow: 0 });
    expect(o.serverId.length).toBeGreaterThan(0);
    expect(typeof o.logger.warn).toBe("function");
    expect(SERVER_OPTION_DEFAULTS.heartbeatTimeout).toBe(30_000);
  });

  it("derives dependent defaults from the options given", () => {
    const o = resolveServerOptions({ heartbeatInterval: 50, heartbeatTimeout: 300 });
    expect(o.minHeartbeatInterval).toBe(50);
    expect(o.heartbeatCheckInterval).toBe(300);
  });

  it.each([
    [{ port: -1 }, RangeError, /port must be an integer in 0\.\.65535, got -1/],
    [{ port: 1.5 }, RangeError, /port/],
    [{ port: "80" }, TypeError, /port must be an integer number/],
    [{ workerCount: 0 }, RangeError, /workerCount must be an integer in 1\.\.1024/],
    [{ heartbeatInterval: 49 }, RangeError, /heartbeatInterval must be an integer in 50\.\.3600000/],
    [{ heartbeatInterval: 3_600_001 }, RangeError, /heartbeatInterval/],
    [{ minHeartbeatInterval: 9 }, RangeError, /minHeartbeatInterval must be an integer in 10\.\.heartbeatInterval \(10000\)/],
    [{ heartbeatInterval: 1000, minHeartbeatInterval: 1001 }, RangeError, /minHeartbeatInterval/],
    [{ heartbeatTimeout: 200 }, RangeError, /heartbeatTimeout must be an integer in 2 × minHeartbeatInterval \+ 1 \(201\)/],
    [{ heartbeatTimeout: 86_400_001 }, RangeError, /heartbeatTimeout/],
    [{ heartbeatCheckInterval: 9 }, RangeError, /heartbeatCheckInterval must be an integer in 10\.\.heartbeatTimeout/],
    [{ heartbeatTimeout: 5000, heartbeatCheckInterval: 5001 }, RangeError, /heartbeatCheckInterval/],
    [{ handshakeTimeout: 99 }, RangeError, /handshakeTimeout must be an integer in 100\.\.600000/],
    [{ resumeGrace: -1 }, RangeError, /resumeGrace must be an integer in 0\.\.3600000/],
    [{ channelMaxQueueSize: 0 }, RangeError, /channelMaxQueueSize/],
    [{ maxConnections: 0 }, RangeError, /maxConnections must be an integer in 1\.\./],
    [{ maxConnectionsPerIp: -1 }, RangeError, /maxConnectionsPerIp/],
    [{ maxFrameSize: 1023 }, RangeError, /maxFrameSize must be an integer in 1024\.\.67108864/],
    [{ closeTimeout: -5 }, RangeError, /closeTimeout/],
    [{ rateLimit: { framesPerSecond: 0 } }, RangeError, /rateLimit\.framesPerSecond must be an integer in 1\.\./],
    [{ rateLimit: { burst: 0.5 } }, RangeError, /rateLimit\.burst/],
    [{ rateLimit: { fps: 3 } }, TypeError, /unknown rateLimit option "fps"/],
    [{ heartbeat_timeout: 30 }, TypeError, /unknown HeartbeatServer option "heartbeat_timeout"/],
    [{ authenticate: true }, TypeError, /authenticate must be a function/],
    [{ tls: "yes" }, TypeError, /tls must be an object/],
    [{ logger: { info() {} } }, TypeError, /logger must be pino-compatible/],
    [{ serverId: "" }, RangeError, /serverId must be 1\.\.128 characters/],
    [{ host: "" }, TypeError, /host must be a non-empty string/],
    [{ channelMaxQueueSize: 500, maxSubscriptionQueueSize: 499 }, RangeError, /maxSubscriptionQueueSize must be an integer in channelMaxQueueSize \(500\)\.\./],
    [{ maxSubscriptionsPerConnection: 0 }, RangeError, /maxSubscriptionsPerConnection/],
    [{ maxMessageSize: 1023 }, RangeError, /maxMessageSize must be 0 or an integer in 1024\.\./],
    [{ maxMessageSize: "big" }, TypeError, /maxMessageSize must be 0 or an integer number/],
    [{ publishWindow: 10 }, RangeError, /publishWindow must be 0 or an integer in 1024\.\./],
    [{ maxMessageSize: 0, publishWindow: 4096 }, RangeError, /publishWindow \(4096\) must be at least maxFrameSize/],
    [{ authorizeSubscribe: "yes" }, TypeError, /authorizeSubscribe must be a function/],
    [{ authorizePublish: {} }, TypeError, /authorizePublish must be a function/],
    [{ authorizeBroadcast: true }, TypeError, /authorizeBroadcast must be a function/],
  ])("rejects %j at construction", (options, type, message) => {
    expect(() => new HeartbeatServer(options as never)).toThrow(type);
    expect(() => new HeartbeatServer(options as never)).toThrow(message);
  });

  it("negotiates the interval as clamp(requested or default, min, timeout / 2)", () => {
    const b = { heartbeatInterval: 10_000, minHeartbeatInterval: 100, heartbeatTimeout: 30_000 };
    expect(negotiateInterval(0, b)).toBe(10_000);
    expect(negotiateInterval(5, b)).toBe(100);
    expect(negotiateInterval(2_000, b)).toBe(2_000);
    expect(negotiateInterval(60_000, b)).toBe(15_000);
    expect(negotiateInterval(0, { ...b, heartbeatTimeout: 10_001 })).toBe(5_000);
  });
});
