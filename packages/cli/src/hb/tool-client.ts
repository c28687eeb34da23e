import { randomBytes } from "node:crypto";
import { HbError, HeartbeatClient } from "@hb/client";

/** `host:port` → its parts (IPv6 in brackets: `[::1]:9501`). */
export function parseServer(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 1 && port <= 65_535)) throw new Error(`--server must be host:port, got "${text}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/**
 * A connection for `hb pub`, `hb sub`, `hb req` and `hb send`, which speak
 * the node protocol as an observer (`Hello.role`, PROTOCOL.md §5.7: not a
 * node, never in presence), with an id of its own (`hb-cli-<random>`; with
 * a `token`, the id the server binds to it or assigns, since a credential
 * may bind one), labelled `hb.tool=cli`, no reconnecting. Connected when
 * this resolves.
 */
export async function toolClient(server: string, token: string | undefined, version: string): Promise<HeartbeatClient> {
  const { host, port } = parseServer(server);
  const client = new HeartbeatClient({
    host,
    port,
    ...(token === undefined ? { nodeId: `hb-cli-${randomBytes(4).toString("hex")}` } : {}),
    metadata: { "hb.tool": "cli" },
    clientName: `hb-cli/${version}`,
    role: "observer",
    autoReconnect: false,
    connectTimeout: 5_000,
    ...(token === undefined ? {} : { token }),
  });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (err) {
    // A refusal may say when to come back (SERVER_FULL, RATE_LIMITED: ProtocolError.retry_after_ms).
    const retryAfter = err instanceof HbError ? err.retryAfterMs : undefined;
    const hint = retryAfter === undefined ? "" : `; the server asks to retry after ${retryAfter} ms`;
    throw new Error(`cannot connect to the hb server at ${server}: ${(err as Error).message}${hint} (--server or HB_SERVER)`);
  }
  return client;
}
