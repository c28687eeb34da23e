import { afterEach } from "vitest";
import type { HeartbeatServer, HeartbeatServerOptions } from "../../src/index.js";
import { start } from "../helpers.js";
import { RawPeer } from "../raw-peer.js";

/** Servers and raw peers of a test file, closed after each test. */
export interface ServerFixture {
  /** Starts a server with the `FAST` settings plus `options`. */
  serve(options: HeartbeatServerOptions): Promise<{ server: HeartbeatServer; port: number }>;
  /** Connects a raw peer to `port` (not yet said Hello). */
  peer(port: number): Promise<RawPeer>;
  /** Destroys `peer` after the test. */
  track(peer: RawPeer): RawPeer;
  /** Runs `cleanup` after the test, before the servers close. */
  defer(cleanup: () => unknown): void;
}

/** Registers the after-each cleanup and returns the fixture. */
export function useServers(): ServerFixture {
  const servers: HeartbeatServer[] = [];
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const track = (p: RawPeer): RawPeer => {
    cleanups.push(() => p.destroy());
    return p;
  };
  return {
    async serve(options) {
      const s = await start(options);
      servers.push(s.server);
      return s;
    },
    async peer(port) {
      return track(await RawPeer.connect(port));
    },
    track,
    defer: (cleanup) => void cleanups.push(cleanup),
  };
}
