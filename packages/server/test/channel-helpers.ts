import { HeartbeatClient, type HeartbeatClientOptions, type Message, type Subscription } from "@hb/client";
import { afterEach } from "vitest";
import type { HeartbeatServer, HeartbeatServerOptions } from "../src/index.js";
import { start } from "./helpers.js";
import { RawPeer } from "./raw-peer.js";

/**
 * A server plus real `HeartbeatClient`s (and raw peers) on loopback, all
 * closed after each test of the file that calls {@link useChannelFixture}.
 */
export interface ChannelFixture {
  /** Starts a server with the test settings plus `options`. */
  server(options?: HeartbeatServerOptions): Promise<{ server: HeartbeatServer; port: number }>;
  /** Connects a client as `nodeId`. */
  client(port: number, nodeId: string, options?: Partial<HeartbeatClientOptions>): Promise<HeartbeatClient>;
  /** Connects a raw peer (not yet said Hello). */
  raw(port: number, keep?: boolean): Promise<RawPeer>;
}

/** Registers the after-each cleanup and returns the fixture. */
export function useChannelFixture(): ChannelFixture {
  const servers: HeartbeatServer[] = [];
  const clients: HeartbeatClient[] = [];
  const peers: RawPeer[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) p.destroy();
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    async server(options = {}) {
      const s = await start(options);
      servers.push(s.server);
      return s;
    },
    async client(port, nodeId, options = {}) {
      const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, autoReconnect: false, ...options });
      c.on("error", () => {});
      clients.push(c);
      await c.connect();
      return c;
    },
    async raw(port, keep = true) {
      const p = await RawPeer.connect(port, { keep });
      peers.push(p);
      return p;
    },
  };
}

/** Collects the messages of a subscription (as events, so nothing is buffered twice). */
export function collect<T = Message>(sub: Subscription<T>): T[] {
  const out: T[] = [];
  sub.on("message", (m) => out.push(m));
  return out;
}

/** Payload bytes of a string. */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
